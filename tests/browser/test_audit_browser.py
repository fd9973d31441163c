"""An auditor in a real Chromium steps through a closed A case on the replay page: the diagram
and the case data change at each step. Screenshots go to $KAP12_TEST_OUTPUT/browser/audit-NN.png."""
from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from engine.write import demo
from engine.write.demo import complete_next, report_data
from tests.support.browser import logged_in_page, serving
from tests.support.chromium import chromium_available, test_output_dir
from tests.support.web import make_kap12
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]

DESKTOP = {"width": 1400, "height": 950}
HOSTILE = "Eleven skrev <!--<script> i chatten </script>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, clock = make_kap12(tmp_path_factory.mktemp("audit-browser"))
    directory = demo.ensure_directory(kap12)
    nordli = directory.schools["Nordli videregående skole"]
    users = directory.users
    # Text that once broke the page's embedded JSON (<!--<script> inside a script element).
    case = kap12.report(users["ansatt"], nordli, report_data(berorte_elever="Emma Hansen, Vg1", hva_skjedde=HOSTILE))
    lead = users["avdelingsleder"]
    complete_next(kap12, lead, case.id)
    clock.advance(timedelta(hours=3))
    complete_next(kap12, lead, case.id, trygt_skolemiljo="nei", elevens_stemme="Emma gruer seg til friminuttene.")
    complete_next(kap12, lead, case.id, evalueringsdato=(clock.now() + timedelta(days=14)).date().isoformat(),
                  elevens_stemme="Emma ønsker en voksen i nærheten.")
    complete_next(kap12, lead, case.id)
    clock.advance(timedelta(days=15))
    kap12.sweep_timers()
    complete_next(kap12, lead, case.id, evaluering_resultat="trygt", elevens_stemme="Det er mye bedre nå.")
    complete_next(kap12, lead, case.id, elevens_stemme="Emma er fornøyd.")
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "kap12": kap12, "case_id": case.id})
    kap12.close()


def test_auditor_steps_through_a_closed_a_case(browser, server):
    out = test_output_dir("browser")
    n = [0]

    def shot(page, full=False):
        n[0] += 1
        page.screenshot(path=str(out / f"audit-{n[0]:02d}.png"), full_page=full)

    page = logged_in_page(browser, server.url, "revisor", DESKTOP)
    errors = page.errors
    page.click("nav >> text=Revisjon")
    page.wait_for_url("**/revisjon")
    shot(page)
    page.click(f"a[href='/revisjon/saker/{server.case_id}']")
    page.wait_for_selector(".diagram[data-ready='1']")
    assert "Verifisert" in page.inner_text("#verdict-replay")
    assert "Hashkjede hel" in page.inner_text("#verdict-chain")
    page.wait_for_timeout(300)
    shot(page)

    def state():
        page.wait_for_timeout(150)
        return {"seq": page.get_attribute("#replay", "data-current-seq"),
                "done": page.locator(".diagram:not([hidden]) .djs-element.done, .diagram:not([hidden]) .djs-element.step-done").count(),
                "active": page.locator(".diagram:not([hidden]) .djs-element.active").count(),
                "process": page.get_attribute(".diagram:not([hidden])", "data-process"),
                "rows": page.locator("#replay-data tbody tr").count(),
                "changed": page.locator("#replay-data tr.changed").count(),
                "data": page.inner_text("#replay-data")}

    seen = [state()]
    assert seen[0]["active"] >= 1 and "Emma Hansen" in seen[0]["data"] and HOSTILE in seen[0]["data"]
    # Step forward with the button, then with the arrow key; every step changes what is shown.
    page.click("button[data-go='next']")
    seen.append(state())
    shot(page)
    for _ in range(30):
        before = seen[-1]["seq"]
        page.keyboard.press("ArrowRight")
        now = state()
        if now["seq"] == before:
            break
        seen.append(now)
        if len(seen) in (4, 6, 9, 12):
            shot(page)
    shot(page)
    assert len(seen) >= 12
    changed_diagram = sum(1 for a, b in pairwise(seen) if (a["done"], a["active"], a["process"]) != (b["done"], b["active"], b["process"]))
    changed_data = sum(1 for a, b in pairwise(seen) if a["data"] != b["data"])
    assert changed_diagram >= 6 and changed_data >= 5, (changed_diagram, changed_data)
    assert "Emma er fornøyd." in seen[-1]["data"]
    assert seen[-1]["active"] == 0  # closed: nothing open
    assert "avsluttet" in page.inner_text("#replay-state")
    # Back with the arrow key, and straight to an event by clicking it.
    page.keyboard.press("ArrowLeft")
    assert state()["seq"] != seen[-1]["seq"]
    page.click("#replay-events li:has-text('Undersøke saken') >> nth=-1")
    after = state()
    assert "Emma gruer seg til friminuttene." in after["data"] and after["changed"] >= 1
    assert page.locator(".diagram:not([hidden]) .djs-connection.taken").count() >= 1
    shot(page, full=True)
    # Labels only; the data's own names (berorte_elever) only when asked for.
    name = page.locator("#replay-data td small", has_text="berorte_elever")
    assert name.count() == 1 and not name.is_visible()
    page.check("#show-names")
    assert name.is_visible()
    page.check("#show-reads")
    assert page.locator("#replay-events li").count() > len(seen)
    page.locator("#eksport").scroll_into_view_if_needed()
    shot(page)
    assert not errors, errors
    page.close()
