"""The report form of someone who may report at several schools (the school owner, a teacher at
two schools), in a real Chromium: the accused picker lists the staff of the school chosen above
it, and nobody else's. With JavaScript the list is fetched when the school changes; without it,
«Vis ansatte ved skolen» sends the form back with everything written still there.

Before, the picker listed the staff of every school the viewer reports for: at a county, tens of
thousands of options in one page."""
from __future__ import annotations

import pytest

from engine.write.demo import ensure_directory
from tests.support.browser import logged_in_page, serving
from tests.support.chromium import chromium_available, test_output_dir
from tests.support.web import make_kap12
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]

DESKTOP = {"width": 1280, "height": 900}
NORDLI, SORBAKKEN = "Nordli videregående skole", "Sørbakken videregående skole"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, _clock = make_kap12(tmp_path_factory.mktemp("report-school-first"))
    demo = ensure_directory(kap12)
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "kap12": kap12, "demo": demo})
    kap12.close()


def _picked(page) -> list[str]:
    return page.eval_on_selector_all("#f-anklaget_bruker option", "os => os.map(o => o.value).filter(v => v)")


def _fill_report(page) -> None:
    page.fill("#f-berorte_elever", "Sara (demo), Vg1")
    page.fill("#f-hva_skjedde", "Eleven forteller at en lærer har ropt til henne foran klassen.")
    page.fill("#f-tid_og_sted", "Klasserommet, tirsdag")
    page.check("input[name=meldt_pa_vegne_av][value=elev]")


def test_the_picker_follows_the_school_chosen_with_javascript(server, browser):
    page = logged_in_page(browser, server.url, "skoleeier", DESKTOP)
    page.goto(f"{server.url}/melding/ny")
    _fill_report(page)
    page.check("input[name=krenker_type][value=ansatt]")
    assert page.is_visible("#f-anklaget_bruker") and page.is_disabled("#f-anklaget_bruker")
    assert page.inner_text("#f-anklaget_bruker") == "– Velg skolen først –"
    assert page.is_hidden("button[name=_school]")  # the page asks the server itself

    page.select_option("#school_id", label=SORBAKKEN)
    page.wait_for_selector("#f-anklaget_bruker:not([disabled]) option[value=ansatt3]", state="attached")
    assert _picked(page) == ["ansatt3", "rektor2"]

    page.select_option("#school_id", label=NORDLI)
    page.wait_for_selector("#f-anklaget_bruker:not([disabled]) option[value=ansatt2]", state="attached")
    assert sorted(_picked(page)) == ["ansatt", "ansatt2", "avdelingsleder", "rektor"]
    page.select_option("#f-anklaget_bruker", "ansatt2")
    page.screenshot(path=str(test_output_dir("browser") / "ny-melding-skoleeier-skole-valgt.png"), full_page=True)
    page.click("button:has-text('Send meldingen')")
    page.wait_for_url("**/kvittering")
    assert page.errors == []

    case_id = int(page.url.rsplit("/", 2)[-2])
    case = server.kap12.case_history(case_id)[0].data["report"]
    assert case["anklaget_bruker"] == "ansatt2" and case["krenker_type"] == "ansatt"
    page.close()


def test_without_javascript_the_school_is_chosen_by_sending_the_form_back(server, browser):
    page = logged_in_page(browser, server.url, "skoleeier", DESKTOP, javascript=False)
    page.goto(f"{server.url}/melding/ny")
    _fill_report(page)
    page.check("input[name=krenker_type][value=ansatt]")
    assert page.is_disabled("#f-anklaget_bruker") and _picked(page) == []

    page.select_option("#school_id", label=SORBAKKEN)
    page.click("button:has-text('Vis ansatte ved skolen')")  # a round trip: no script runs
    page.wait_for_selector("#f-anklaget_bruker option[value=ansatt3]", state="attached")
    assert _picked(page) == ["ansatt3", "rektor2"]
    assert page.input_value("#f-tid_og_sted") == "Klasserommet, tirsdag"
    assert page.is_checked("input[name=krenker_type][value=ansatt]")
    assert page.locator(".error-summary").count() == 0  # nothing was sent, so nothing is wrong yet
    page.screenshot(path=str(test_output_dir("browser") / "ny-melding-uten-js-skole-valgt.png"), full_page=True)

    page.select_option("#f-anklaget_bruker", "ansatt3")
    page.click("button:has-text('Send meldingen')")
    page.wait_for_url("**/kvittering")
    case_id = int(page.url.rsplit("/", 2)[-2])
    assert server.kap12.case_history(case_id)[0].data["report"]["anklaget_bruker"] == "ansatt3"
    page.context.close()
