"""Universal design (WCAG 2.1 AA): axe-core, run in Chromium, on every kind of page for each role
that sees it, must find no serious or critical violation; and a keyboard-only walk reports a case
and completes a task (skip link, visible focus, errors announced and tied to their fields).
Every finding, of any impact, is written to test-output/accessibility/axe.json for the
accessibility statement."""
from __future__ import annotations

import json
import re

import pytest

from engine.write.demo import load_demo
from tests.support.browser import logged_in_page, serving
from tests.support.chromium import chromium_available, test_output_dir
from tests.support.web import make_kap12
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]

DESKTOP = {"width": 1280, "height": 900}
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}
BLOCKING = {"serious", "critical"}

# Which pages each role sees; "case", "task" and the like are found on the role's own pages.
PAGES = {
    "ansatt": ["/oppgaver", "/melding/ny", "/melding/ny#feil", "/varsler", "/profil"],
    "avdelingsleder": ["/oppgaver", "task#feil", "/saker", "case", "/varsler", "/oversikt", "/arshjul"],
    "rektor": ["/oppgaver", "/saker", "case", "/oversikt"],
    "skoleeier": ["/oppgaver", "/saker", "case", "/oversikt"],
    "prosesseier": ["/prosesser", "modeler", "version", "/prosesser/skjema", "form", "/drift"],
    "revisor": ["/saker", "case", "/revisjon", "audit-case", "/revisjon/system",
                "/revisjon/system/kontroll"],
    "admin": ["/prosesser", "/drift", "/drift/personer", "/drift/innlogginger", "/profil"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, clock = make_kap12(tmp_path_factory.mktemp("a11y"))
    load_demo(kap12)
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "kap12": kap12, "clock": clock})
    kap12.close()


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(scope="module")
def findings():
    found: dict[str, list] = {}
    yield found
    path = test_output_dir("accessibility") / "axe.json"
    path.write_text(json.dumps(found, ensure_ascii=False, indent=2), encoding="utf-8")


def _first_href(page, selector: str) -> str:
    link = page.locator(selector).first
    assert link.count(), f"no {selector} on {page.url}"
    return link.get_attribute("href")


# Page kinds reached through a link on a list page: (list page, the first link that matches).
THROUGH = {
    "case": ("/saker?status=alle", "main a[href^='/saker/']"),
    "audit-case": ("/revisjon", "main a[href^='/revisjon/saker/']"),
    "task": ("/oppgaver", "a.task-title"),
    "modeler": ("/prosesser", "main a[href$='/rediger']"),
    "version": ("/prosesser", "main a[href*='/versjon/']:not([href$='.bpmn'])"),
    "form": ("/prosesser/skjema", "main a[href^='/prosesser/skjema/']:not([href$='/ny'])"),
}


def _open(page, server, what: str) -> None:
    """Go to the page kind ``what``: a path, or a kind found through the role's own pages;
    ``#feil`` sends the page's form empty, to show the errors by the fields."""
    kind, _, variant = what.partition("#")
    if kind.startswith("/"):
        page.goto(server.url + kind)
    else:
        listing, selector = THROUGH[kind]
        page.goto(server.url + listing)
        page.goto(server.url + _first_href(page, selector))
    if variant == "feil":
        page.locator("main form button[type=submit].btn-primary").last.click()
        page.wait_for_selector(".error-summary")
    page.wait_for_load_state("networkidle")


def _audit(page, axe, findings, label: str) -> list[str]:
    results = axe.run(page, options=WCAG_AA).response
    findings[label] = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                        "nodes": [n["target"] for n in v["nodes"]][:5]} for v in results["violations"]]
    return [f"{label}: {v['id']} ({v['impact']}) {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"] if v["impact"] in BLOCKING]


def test_the_login_page(browser, server, axe, findings):
    page = browser.new_page(viewport=DESKTOP, locale="nb-NO")
    page.goto(f"{server.url}/logg-inn")
    problems = _audit(page, axe, findings, "anonym /logg-inn")
    page.fill("#username", "ansatt")
    page.fill("#password", "feil")
    page.click("button:has-text('Logg inn')")
    problems += _audit(page, axe, findings, "anonym /logg-inn (feil passord)")
    page.close()
    assert not problems, "\n".join(problems)


def _audit_role(page, server, axe, findings, role: str, language: str = "") -> list[str]:
    problems = []
    for what in PAGES[role]:
        _open(page, server, what)
        where = re.sub(r"^https?://[^/]+", "", page.url)
        problems += _audit(page, axe, findings, f"{role}{' ' + language if language else ''} {what} {where}")
    page.close()
    return problems


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_kind_for_the_role(browser, server, axe, findings, role):
    page = logged_in_page(browser, server.url, role, DESKTOP)
    problems = _audit_role(page, server, axe, findings, role)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["ansatt", "avdelingsleder"])
def test_the_pages_in_nynorsk(browser, server, axe, findings, role):
    page = logged_in_page(browser, server.url, role, DESKTOP)
    page.goto(f"{server.url}/sprak/nn?neste=/oppgaver")
    assert page.locator("html").get_attribute("lang") == "nn"
    problems = _audit_role(page, server, axe, findings, role, "nn")
    assert not problems, "\n".join(problems)


def test_axe_does_find_violations_on_our_pages(browser, server, axe, findings):
    """The harness itself: on a kap12 page (with its CSP) a field without a label and text with
    too little contrast are reported, so an empty result above means no violation, not no run."""
    page = browser.new_page(viewport=DESKTOP, locale="nb-NO")
    page.goto(f"{server.url}/logg-inn")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<input id="unlabelled"><p style="color:#bbb;background:#fff">grå</p>');
    }""")
    ids = {v["id"] for v in axe.run(page, options=WCAG_AA).response["violations"]}
    page.close()
    assert {"label", "color-contrast"} <= ids
