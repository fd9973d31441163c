"""Keyset paging: every row once, in order, while cases change underneath; a made-up cursor is
refused in words; and paging never shows more than the access policy allows."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from support.pages import all_pages, reports_over_time

from engine.errors import InvalidInput
from engine.read import paging, queries
from engine.write.demo import complete_next


def test_case_pages_have_no_duplicates_or_gaps_while_cases_change(flow, kap12, demo, clock):
    rektor = demo.users["rektor"]
    first = reports_over_time(flow, clock, 6, 8)
    added = []

    def change_underneath(page_no):
        clock.advance(timedelta(minutes=1))
        added.append(flow.report().id)  # newer than every page already shown
        complete_next(kap12, rektor, first[page_no])  # an older case moves on

    rows = all_pages(lambda cursor: kap12.case_page(rektor, cursor=cursor, limit=4), change_underneath)
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))  # no duplicates
    assert set(first) <= set(ids)  # no gaps: every case there from the start and still there
    assert ids == [c.id for c in kap12.cases_for(rektor) if c.id in set(ids)]  # newest first throughout


def test_task_pages_have_no_duplicates_or_gaps_while_tasks_change(flow, kap12, demo, clock):
    rektor = demo.users["rektor"]
    cases = []
    for _ in range(10):
        clock.advance(timedelta(minutes=7))
        cases.append(flow.report().id)
    before = {t.id for t in kap12.tasks_for(rektor)}
    done = set()

    def change_underneath(page_no):
        flow.report()  # a new task
        task = next(t for t in kap12.tasks_for(rektor) if t.case_id == cases[-page_no])
        complete_next(kap12, rektor, cases[-page_no])  # one on a later page goes away
        done.add(task.id)

    rows = all_pages(lambda cursor: queries.task_page(kap12, rektor, cursor=cursor, limit=3), change_underneath)
    ids = [r.task.id for r in rows]
    assert len(ids) == len(set(ids))
    assert before - done <= set(ids)
    keys = [(r.task.due_at is None, r.task.due_at, r.task.opened_at, r.task.id) for r in rows]
    assert keys == sorted(keys)


def test_filters_apply_before_paging_and_the_policy_still_holds(flow, kap12, demo):
    for _ in range(5):
        flow.report()
    flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")  # procedure B
    rektor = demo.users["rektor"]
    pages = all_pages(lambda cursor: kap12.case_page(rektor, procedure="A", cursor=cursor, limit=2))
    assert pages and all(c.procedure == "A" for c in pages)
    assert len(pages) == 5
    # The accused never sees the case, not on any page.
    seen = all_pages(lambda cursor: kap12.case_page(demo.users["ansatt2"], cursor=cursor, limit=2))
    assert all(c.procedure != "B" for c in seen)


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["ikke-base64!", "bm90IGpzb24", "WzEsMl0", "WyIyMDI2LTExLTMwIiwxXQ",
                                    "W3siZHQiOiIyMDI2LTExLTMwVDA5OjAwOjAwIn0sMV0",
                                    # The right types, values no column holds: the database refused
                                    # them with an error of its own (a 500).
                                    _cursor([{"dt": "2026-11-30T09:00:00+00:00"}, 10 ** 30]),
                                    _cursor([{"dt": "2026-11-30T09:00:00+00:00"}, 2 ** 31]),
                                    _cursor([{"dt": "2026-11-30T09:00:00+00:00"}, -(2 ** 31) - 1]),
                                    _cursor([{"dt": "0001-01-01T00:00:00+01:00"}, 1])])
def test_a_made_up_cursor_is_refused_in_words(kap12, demo, cursor):
    with pytest.raises(InvalidInput) as refused:
        kap12.case_page(demo.users["rektor"], cursor=cursor)
    assert str(refused.value) == paging.BAD_CURSOR


_MOMENT = {"dt": "2026-11-30T09:00:00+00:00"}


@pytest.mark.parametrize("cursor", [_cursor([_MOMENT, _MOMENT, "a\u0000b"]),  # PostgreSQL refuses a NUL
                                    _cursor([_MOMENT, _MOMENT, "\ud800"]),  # the driver, a lone surrogate
                                    _cursor([_MOMENT, _MOMENT, "x" * 37]),  # no task id is that long
                                    # a good cursor, with room in its JSON: longer than any kap12 makes
                                    base64.urlsafe_b64encode(b"[" + b" " * 600 + json.dumps(
                                        [_MOMENT, _MOMENT, "x"]).encode()[1:]).decode()])
def test_a_made_up_task_cursor_is_refused_in_words(kap12, demo, cursor):
    """Texts in a cursor are what their column can hold: each of these was a 500 (reviewed)."""
    with pytest.raises(InvalidInput) as refused:
        queries.task_page(kap12, demo.users["rektor"], cursor=cursor)
    assert str(refused.value) == paging.BAD_CURSOR


def test_a_cursor_nested_past_pythons_depth_is_refused_in_words(kap12, demo, monkeypatch):
    monkeypatch.setattr(paging, "MAX_CURSOR", 100_000)  # past the length, the depth is still refused
    with pytest.raises(InvalidInput):
        kap12.case_page(demo.users["rektor"], cursor=base64.urlsafe_b64encode(b"[" * 50_000).decode())


def test_notice_pages(flow, kap12, demo, clock):
    rektor = demo.users["rektor"]
    for _ in range(4):
        flow.report()
    notices = all_pages(lambda cursor: kap12.notice_page(rektor, cursor=cursor, limit=3))
    ids = [n.id for n in notices]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) >= 4
