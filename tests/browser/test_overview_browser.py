"""The weekly overview in a real Chromium: a principal goes through the week's cases, marks them
as reviewed, and the page is saved as a screenshot to look at."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.write import demo
from engine.write.demo import complete_next, report_data
from tests.support.browser import logged_in_page, serving
from tests.support.chromium import chromium_available, test_output_dir
from tests.support.web import make_kap12
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, clock = make_kap12(tmp_path_factory.mktemp("overview-browser"))
    d = demo.ensure_directory(kap12)
    nordli, u = d.schools["Nordli videregående skole"], d.users
    late = kap12.report(u["ansatt"], nordli, report_data())
    clock.set(clock.now() + timedelta(days=1))
    kap12.sweep_timers()  # the same-day deadline for receiving it is missed
    for name in ("Jonas (demo), Vg2", "Sara (demo), Vg1"):
        case = kap12.report(u["ansatt2"], nordli, report_data(berorte_elever=name))
        complete_next(kap12, u["avdelingsleder"], case.id)
        if name.startswith("Sara"):
            complete_next(kap12, u["avdelingsleder"], case.id, trygt_skolemiljo="nei")
            complete_next(kap12, u["avdelingsleder"], case.id)
    kap12.report(u["ansatt"], nordli, report_data(berorte_elever="Ali (demo), Vg3", krenker_type="ansatt",
                                                  krenker_navn="Per Faglærer", anklaget_bruker="ansatt2"))
    closed = kap12.report(u["ansatt"], nordli, report_data(berorte_elever="Maja (demo), Vg2"))
    complete_next(kap12, u["avdelingsleder"], closed.id)
    complete_next(kap12, u["avdelingsleder"], closed.id, trygt_skolemiljo="ja")
    complete_next(kap12, u["avdelingsleder"], closed.id)
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "kap12": kap12, "late": late})
    kap12.close()


def test_principal_reviews_the_week(server, browser):
    out = test_output_dir("browser")
    page = logged_in_page(browser, server.url, "rektor", DESKTOP)
    errors = page.errors
    page.click("nav >> text=Ukeoversikt")
    page.wait_for_url("**/oversikt")
    text = page.inner_text("main")
    for words in ("Meldt – ikke mottatt", "Undersøkes", "Tiltaksplan løper", "Avsluttet siste 7 dager",
                  "åpne saker med oversittet frist", server.late.number):
        assert words in text, words
    assert page.locator("svg.chart").count() == 3
    assert page.locator("#stage-meldt .missed").count() >= 1
    page.screenshot(path=str(out / "overview-01.png"), full_page=True)
    page.fill("#kommentar", "Gjennomgått i lederforum")
    page.click("button:has-text('Marker som gjennomgått i lederforum')")
    page.wait_for_selector(".flash-success")
    assert "Gjennomgang i lederforum er registrert på 4 saker" in page.inner_text(".flash")
    page.screenshot(path=str(out / "overview-02.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(out / "overview-03-mobil.png"), full_page=False)
    assert not errors, errors
