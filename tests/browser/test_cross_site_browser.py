"""In Chromium: a link to a case on another site opens «Åpne saken?», not the case, and records
no read; «Åpne» on that page opens it and records the read (webui/security.py). The browser
itself says where a navigation came from (Sec-Fetch-Site), which is what the rule reads."""
from __future__ import annotations

import pytest

from engine.write import demo
from tests.support.browser import logged_in_page, serving
from tests.support.chromium import chromium_available
from tests.support.web import web_env

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]


def test_a_link_on_another_site_asks_before_the_case_is_read(browser, tmp_path):
    env = web_env(tmp_path)
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    with serving(env.app) as url:
        page = logged_in_page(browser, url, "rektor", {"width": 1000, "height": 700})
        # Another site's page, as the browser sees it (served by the test, never fetched).
        page.route("http://elsewhere.test/", lambda route: route.fulfill(
            body=f'<a id="lenke" href="{url}/saker/{case.id}">Se saken</a>', content_type="text/html"))
        page.goto("http://elsewhere.test/")
        page.click("#lenke")
        page.wait_for_selector("h1:has-text('Åpne saken?')")
        assert case.number not in page.content()
        assert env.kap12.case_reads(case.id, 1)[0] == 0
        page.click("a:has-text('Åpne')")
        page.wait_for_selector(f"text={case.number}")
        assert env.kap12.case_reads(case.id, 1)[0] >= 1
        assert page.errors == []
        page.close()
