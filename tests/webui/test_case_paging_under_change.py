"""The case lists followed to the end while cases are reported and end between the requests,
on SQLite and on a real PostgreSQL: ``GET /api/v1/cases`` by ``next_cursor`` (the auditor's and
a list of two parts: avdelingsleder's role and her own reports), and the auditors' page
/revisjon by «Neste side». Each case there when the list began is shown once, newest first; a
newer case never repeats one, and one already shown that left the list never skips one (as
OFFSET paging did)."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest

from engine.read import paging
from engine.write import demo
from tests.support.web import login

from .test_api_task_paging import _api

LEFT = {"grunn": "sluttet", "begrunnelse": "Familien har flyttet til Bergen.", "ny_skole": "Bergen katedralskole",
        "eleven_hort": "ja", "elevens_stemme": "Jeg gleder meg til ny skole."}
NEXT = re.compile(r'<a class="btn" rel="next" href="([^"]+)"')




def _cases(env, count: int) -> None:
    """``count`` reports at Nordli, three minutes apart, every other one avdelingsleder's own."""
    for n in range(count):
        env.clock.advance(timedelta(minutes=3))
        env.kap12.report(env.demo.users["avdelingsleder" if n % 2 else "ansatt"], env.nordli, demo.report_data())


def _newer_case(env, page_no: int) -> None:
    env.clock.advance(timedelta(minutes=1))
    env.kap12.report(env.demo.users["avdelingsleder" if page_no % 2 else "ansatt"], env.nordli, demo.report_data())


@pytest.mark.parametrize("person", ["revisor", "avdelingsleder"])
def test_the_api_case_list_stays_whole_while_cases_are_reported_and_end(fresh_env, person):
    """Open cases, two a page, by ``next_cursor``: between the requests a case is reported (newer
    than every page), the first case shown ends, then the last, not yet reached, ends. The pages
    are the open cases as they stood, once each and newest first, without the one that closed
    before it was reached."""
    env = fresh_env
    _cases(env, 7)
    call = _api(env, person)
    before = [c["id"] for c in call("GET", "/api/v1/cases?status=open&limit=500").json["items"]]
    assert len(before) == 7

    def change(page_no: int) -> None:
        _newer_case(env, page_no)
        if page_no in (1, 2):
            env.kap12.end_case(env.demo.users["rektor"], before[0 if page_no == 1 else -1], LEFT)

    shown, cursor = [], None
    for page_no in range(1, 100):
        response = call("GET", "/api/v1/cases?status=open&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.text
        shown += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        change(page_no)
    assert [c["id"] for c in shown] == before[:-1]
    moments = [(datetime.fromisoformat(c["created_at"]), c["id"]) for c in shown]
    assert moments == sorted(moments, reverse=True)


def test_the_auditors_page_stays_whole_while_cases_are_reported_and_end(fresh_env, monkeypatch):
    """/revisjon, one case a page by «Neste side»: a case reported before each click never
    shows (it is newer than the page reached), a case shown ends and stays where it was."""
    env = fresh_env
    monkeypatch.setattr(paging, "DEFAULT_LIMIT", 1)
    _cases(env, 4)
    auditor = env.demo.users["revisor"]
    before = [c.id for c in env.kap12.case_page(auditor, limit=500).items]
    client = login(env.app, "revisor")
    seen, url = [], "/revisjon"
    for page_no in range(1, 100):
        page = client.get(url)
        assert page.status_code == 200, page.text
        seen += [int(i) for i in re.findall(r'href="/revisjon/saker/(\d+)"', page.text)]
        more = NEXT.search(page.text)
        if not more:
            break
        url = html.unescape(more[1])
        _newer_case(env, page_no)
        if page_no == 1:
            env.kap12.end_case(env.demo.users["rektor"], seen[0], LEFT)
    assert seen == before
