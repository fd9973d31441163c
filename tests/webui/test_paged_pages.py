"""The lists page by page: "Neste side" until the last, every row once, filters kept."""
from __future__ import annotations

import html
import re

import pytest

from engine.read import paging
from engine.write.demo import report_data
from tests.support.web import login

NEXT = re.compile(r'<a class="btn" rel="next" href="([^"]+)"')


@pytest.fixture
def one_per_page(monkeypatch):
    monkeypatch.setattr(paging, "DEFAULT_LIMIT", 1)


def _walk(client, url: str, pattern: str) -> list[str]:
    seen = []
    for _ in range(200):
        page = client.get(url)
        assert page.status_code == 200, page.text
        seen += re.findall(pattern, page.text)
        more = NEXT.search(page.text)
        if not more:
            return seen
        assert "Neste side" in page.text
        url = html.unescape(more[1])
    raise AssertionError("no last page")


def test_cases_tasks_notices_and_the_auditors_list_page_through(env, one_per_page):
    for _ in range(3):
        env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    rektor = login(env.app, "rektor")
    cases = _walk(rektor, "/saker?status=alle&prosedyre=A", r'href="/saker/(\d+)"')
    assert len(cases) >= 3 and len(cases) == len(set(cases))
    assert {c.id for c in env.kap12.cases_for(env.demo.users["rektor"], procedure="A")} == {int(c) for c in cases}
    tasks = _walk(rektor, "/oppgaver", r'class="task-title" href="/oppgaver/([^"]+)"')
    assert sorted(tasks) == sorted(t.id for t in env.kap12.tasks_for(env.demo.users["rektor"]))
    # "1 oppgave." under the first of several pages would read as all of them.
    assert "1 oppgave på denne siden, den med kortest frist først." in rektor.get("/oppgaver").text
    notices = _walk(rektor, "/varsler", r'class="notice-subject"><a href="([^"]+)"')
    assert len(notices) == len(env.kap12.notices_for(env.demo.users["rektor"], limit=1000))
    auditor = _walk(login(env.app, "revisor"), "/revisjon", r'href="/revisjon/saker/(\d+)"')
    assert len(auditor) == len(set(auditor)) >= 3


def test_a_page_of_cases_counts_itself_as_a_page(env, one_per_page):
    """The number under a list is of the rows shown: on a page of a longer list it says so, so
    "1 sak." never stands under a list of many (the tabs count them all)."""
    for _ in range(2):
        env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    first = login(env.app, "rektor").get("/saker?status=alle")
    assert "1 sak på denne siden." in first.text and "<p class=\"muted\">1 sak.</p>" not in first.text
    alone = login(env.app, "rektor").get("/saker?status=alle&q=" + env.kap12.cases_for(env.demo.users["rektor"])[0].number)
    assert "<p class=\"muted\">1 sak.</p>" in alone.text


def test_a_made_up_cursor_is_a_plain_message(env):
    page = login(env.app, "rektor").get("/saker?etter=tull")
    assert page.status_code == 422 and paging.BAD_CURSOR in page.text
