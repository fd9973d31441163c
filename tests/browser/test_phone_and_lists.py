"""The menu at phone width and the Saker status tabs, in a real Chromium, on the demo county:
the header takes one line at 390 px and the menu opens and closes by mouse and keyboard (and is
all there without JavaScript); a closed case is one click away in Saker. Screenshots of both
widths are written to test-output/browser to look at."""
from __future__ import annotations

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
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, _clock = make_kap12(tmp_path_factory.mktemp("phone-and-lists"))
    load_demo(kap12)
    [closed] = kap12.cases_for(kap12.viewer("rektor"), "closed")
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "closed": closed.number})
    kap12.close()


def test_saker_keeps_a_closed_case_one_click_away(server, browser):
    out = test_output_dir("browser")
    page = logged_in_page(browser, server.url, "rektor", DESKTOP)
    page.click("nav >> text=Saker")
    page.wait_for_url("**/saker")
    tabs = page.locator(".status-tabs a")
    assert tabs.nth(0).get_attribute("aria-current") == "page"
    assert "Under behandling" in tabs.nth(0).inner_text()
    assert page.locator(".status-tabs a:has-text('Avsluttet') .count").inner_text() == "1"
    assert server.closed not in page.inner_text("main")
    assert "Viser: saker under behandling." in page.inner_text("#filter-now")
    page.screenshot(path=str(out / "saker-01.png"), full_page=True)
    page.click("#filter-now a")  # «1 avsluttet sak vises ikke her.»
    page.wait_for_url("**status=closed**")
    assert server.closed in page.inner_text("main")
    page.locator(".filters select[name=prosedyre]").select_option("B")
    page.click(".filters button:has-text('Vis')")
    page.wait_for_url("**prosedyre=B**")
    assert "Viser: avsluttede saker, B – ansatt mot elev." in page.inner_text("#filter-now")
    assert "Ingen saker passer med valgene." in page.inner_text("main")
    page.click(".status-tabs >> text=Alle")
    assert "Viser: alle saker, B – ansatt mot elev." in page.inner_text("#filter-now")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(out / "saker-02-mobil.png"), full_page=True)
    assert not page.errors, page.errors


def test_the_menu_folds_on_a_phone_and_opens_by_mouse_and_keyboard(server, browser):
    out = test_output_dir("browser")
    page = logged_in_page(browser, server.url, "ansatt", PHONE)
    header = page.locator("header.top").bounding_box()
    assert header["height"] < 80, header  # one line, not ~230 px
    report = page.locator("header .btn-report")
    toggle = page.locator("header .menu-toggle")
    assert report.is_visible() and toggle.is_visible()
    assert not page.locator("nav >> text=Saker").is_visible()
    page.screenshot(path=str(out / "meny-01-mobil.png"))
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("nav >> text=Saker").is_visible() and page.locator("text=Logg ut").is_visible()
    page.screenshot(path=str(out / "meny-02-mobil-apen.png"))
    # The open menu at phone width passes the same axe rules as every page (no serious finding).
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415 (heavy, browser tests only)
    violations = Axe().run(page, options=WCAG_AA).response["violations"]
    assert not [v["id"] for v in violations if v["impact"] in ("serious", "critical")], violations
    page.click("nav >> text=Saker")
    page.wait_for_url("**/saker")
    assert page.locator("header .menu-toggle").get_attribute("aria-expanded") == "false"  # a new page: folded
    # Keyboard only: Tab to «Meny», Enter opens, Escape closes and gives focus back.
    page.locator("header .btn-report").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Meny"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Mine oppgaver"
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.textContent.trim()") == "Meny"
    assert not page.errors, page.errors
    page.close()

    # Without JavaScript nothing is folded away: the whole menu is there.
    plain = logged_in_page(browser, server.url, "ansatt", PHONE, javascript=False)
    assert plain.locator("nav >> text=Saker").is_visible()
    assert not plain.locator("header .menu-toggle").is_visible()
    plain.context.close()
