"""Drift's incidents, a page at a time: the failed timers in the order they should have fired,
each once while others are resolved between pages, read from the index of the failed alone."""
from __future__ import annotations

from sqlalchemy import update
from support.plans import answered, generic_plan_of

from engine.store.models import TIMER_ATTEMPTS, PendingTimer


def _fail_every_timer(kap12) -> None:
    with kap12.db.writing() as session:
        session.execute(update(PendingTimer).values(attempts=TIMER_ATTEMPTS, last_error="RuntimeError: feilet"))


def _all_pages(kap12, admin, between=lambda: None) -> list:
    shown, cursor = [], None
    while True:
        page = kap12.incidents(admin, cursor=cursor, limit=2)
        assert len(page.items) <= 2
        shown += page.items
        if page.next_cursor is None:
            return shown
        cursor = page.next_cursor
        between()


def test_incidents_come_a_page_at_a_time_in_due_order(flow, kap12, demo, clock):
    from datetime import timedelta

    for _ in range(4):
        flow.report()
        clock.advance(timedelta(minutes=7))  # each case's deadlines a little later
    _fail_every_timer(kap12)
    admin = demo.users["admin"]
    every = kap12.incidents(admin, limit=500).items
    assert len(every) >= 4 and [(i.due_at, i.id) for i in every] == sorted((i.due_at, i.id) for i in every)
    assert [i.id for i in _all_pages(kap12, admin)] == [i.id for i in every]
    # Resolved between pages: no incident twice, none of those left missing.
    resolved = []

    def resolve_the_last_shown():
        remaining = kap12.incidents(admin, limit=500).items
        kap12.resolve_incident(admin, remaining[0].id, "Rettet.")
        resolved.append(remaining[0].id)

    shown = [i.id for i in _all_pages(kap12, admin, resolve_the_last_shown)]
    assert len(shown) == len(set(shown))
    assert set(i.id for i in every) - set(resolved) <= set(shown)


def test_the_page_reads_the_index_of_the_failed_timers(flow, kap12, demo):
    if kap12.db.is_sqlite:
        return  # the plan is PostgreSQL's question; SQLite has the same index
    flow.report()
    _fail_every_timer(kap12)
    _page, sent = answered(kap12.db.engine, lambda: kap12.incidents(demo.users["admin"]))
    [(statement, parameters)] = [s for s in sent if "FROM pending_timers" in s[0]]
    # On a handful of rows the planner may start from the case; the order the page asks for
    # (without a sort) must be what the index gives, for the rows it holds — in the plan kept for
    # the statement prepared, which must know from the text alone that the index holds them.
    plan = generic_plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off", "enable_sort = off")
    assert "ix_pending_timers_incidents" in plan, plan
