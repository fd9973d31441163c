"""The action plan's rows without JavaScript, in a real Chromium with scripts switched off:
«+ Legg til rad» sends the form back and the page returns with one row more and everything
typed still there; a row left empty is not saved, so the plan is made with the rows filled in.
(With JavaScript the same button works in place: tests/browser/test_journey.py.)"""
from __future__ import annotations

import pytest

from engine.write.demo import complete_next, ensure_directory, report_data
from tests.support.browser import logged_in_page, serving
from tests.support.chromium import chromium_available, test_output_dir
from tests.support.web import make_kap12
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, _clock = make_kap12(tmp_path_factory.mktemp("plan-rows-no-js"))
    demo = ensure_directory(kap12)
    leader = demo.users["avdelingsleder"]
    case = kap12.report(demo.users["ansatt"], demo.schools["Nordli videregående skole"],
                        report_data(berorte_elever="Sara (demo), Vg1"))
    complete_next(kap12, leader, case.id)
    complete_next(kap12, leader, case.id, trygt_skolemiljo="nei")
    [plan] = [t for t in kap12.case_tasks(case.id) if t.form_key == "tiltaksplan"]
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "task_id": plan.id, "case_id": case.id, "kap12": kap12})
    kap12.close()


def test_a_row_is_added_by_sending_the_form_and_an_empty_row_is_not_saved(server, browser):
    page = logged_in_page(browser, server.url, "avdelingsleder", {"width": 1280, "height": 900}, javascript=False)
    page.goto(f"{server.url}/oppgaver/{server.task_id}")

    page.fill("#f-problem", "Sara blir kalt stygge ting i gangen.")
    page.fill("#f-tiltak-0-hva", "Voksen i gangen mellom timene")
    page.fill("#f-tiltak-0-nar", "Fra mandag")
    page.fill("#f-tiltak-0-ansvarlig", "Kontaktlærer")
    assert page.locator("#f-tiltak-1-hva").count() == 0
    page.click("button:has-text('Legg til rad')")  # a round trip to the server: no script runs
    page.wait_for_selector("#f-tiltak-1-hva")
    assert page.input_value("#f-problem") == "Sara blir kalt stygge ting i gangen."
    assert page.input_value("#f-tiltak-0-hva") == "Voksen i gangen mellom timene"
    assert page.input_value("#f-tiltak-1-hva") == ""
    page.click("button:has-text('Legg til rad')")
    page.wait_for_selector("#f-tiltak-2-hva")
    page.fill("#f-tiltak-2-hva", "Samtale med klassen")
    page.fill("#f-tiltak-2-nar", "Tirsdag")
    page.fill("#f-tiltak-2-ansvarlig", "Rektor")
    page.fill("#f-evalueringsdato", "2026-12-14")
    page.fill("#f-elevens_stemme", "Sara vil ha en voksen i nærheten.")
    page.fill("#f-elevens_beste", "Sara må kunne gå trygt i gangen før noe annet.")
    page.screenshot(path=str(test_output_dir("browser") / "tiltaksplan-uten-javascript.png"), full_page=True)
    page.click("button:has-text('Lagre og fullfør')")
    page.wait_for_url("**/oppgaver")
    assert "«Utarbeide tiltaksplan» er utført" in page.inner_text(".flash")
    [done] = [e for e in server.kap12.case_history(server.case_id)
              if e.kind == "task_completed" and e.data.get("form") == "tiltaksplan"]
    assert [row["hva"] for row in done.data["data"]["tiltak"]] == ["Voksen i gangen mellom timene",
                                                                  "Samtale med klassen"]
    page.context.close()
