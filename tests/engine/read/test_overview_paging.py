"""The weekly overview at scale: stages counted and paged in the database from the case's
projected stage, every open case once across a stage's pages while cases come and go, missed
deadlines first; the exports still have every case; the migration sorts the cases already open."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from support.migrations import upgrade_from

from engine.read import overview
from engine.store.models import Case, OpenTask, PendingTimer
from processes.stages import stage_of


def _walk(kap12, viewer, stage, between=lambda: None) -> list[str]:
    seen, cursor = [], None
    while True:
        page = overview.weekly_overview(kap12, viewer, stage=stage, cursor=cursor)
        assert {r.stage for r in page.open_rows} <= {stage}  # the projected stage is the one shown
        seen += [r.number for r in page.open_rows]
        cursor = page.more.get(stage)
        if cursor is None:
            return seen
        between()


def test_a_stage_is_shown_a_page_at_a_time_every_case_once_missed_deadlines_first(flow, kap12, demo, clock,
                                                                                 monkeypatch):
    monkeypatch.setattr(overview, "PER_STAGE", 2)
    monkeypatch.setattr(overview, "STAGE_PAGE", 3)
    rektor = demo.users["rektor"]
    late = flow.report()
    clock.set(clock.now() + timedelta(days=2))
    kap12.sweep_timers()  # the receipt deadline is missed
    fresh = []
    for _ in range(6):
        clock.set(clock.now() + timedelta(minutes=5))
        fresh.append(flow.report())
    planned = flow.report()
    flow.do("avdelingsleder", planned.id)
    flow.do("avdelingsleder", planned.id, trygt_skolemiljo="nei")
    flow.do("avdelingsleder", planned.id, evalueringsdato=flow.plan_date())

    first = overview.weekly_overview(kap12, rektor)
    assert first.stage_count("meldt") == 7 and first.stage_count("tiltak") == 1 and first.open_count == 8
    assert first.missed_open == 1
    shown = [r for r in first.open_rows if r.stage == "meldt"]
    assert [r.number for r in shown][:1] == [late.number] and len(shown) == 2  # missed first, one page
    assert first.more["meldt"] and first.more["tiltak"] is None

    added = []
    seen = _walk(kap12, rektor, "meldt", lambda: added.append(flow.report().number))
    assert len(seen) == len(set(seen))  # no duplicates
    assert {c.number for c in [late, *fresh]} <= set(seen)  # no gaps
    assert seen[0] == late.number and planned.number not in seen
    # A case moving on between pages leaves the stage without disturbing the rest.
    flow.do("avdelingsleder", fresh[0].id)
    assert fresh[0].number not in _walk(kap12, rektor, "meldt")

    everything = overview.weekly_overview(kap12, rektor, everything=True)  # the exports
    assert len(everything.open_rows) == everything.open_count == 8 + len(added)


def test_the_case_keeps_its_stage_and_the_migration_sorts_open_cases(flow, kap12, demo, clock):
    waiting = flow.report()
    planned = flow.report()
    flow.do("avdelingsleder", planned.id)
    flow.do("avdelingsleder", planned.id, trygt_skolemiljo="nei")
    flow.do("avdelingsleder", planned.id, evalueringsdato=flow.plan_date())
    safe = flow.report()
    flow.do("avdelingsleder", safe.id)
    flow.do("avdelingsleder", safe.id, trygt_skolemiljo="ja")
    flow.do("avdelingsleder", safe.id)

    def stages() -> dict[int, str]:
        with kap12.db.reading() as session:
            return dict(session.execute(select(Case.id, Case.stage_code)).all())

    def computed(session, case_id: int) -> str:
        tasks = session.execute(select(OpenTask.element_id, OpenTask.title).where(OpenTask.case_id == case_id)).all()
        timers = session.execute(select(PendingTimer.element_id, PendingTimer.name)
                                 .where(PendingTimer.case_id == case_id)).all()
        return stage_of([tuple(t) for t in tasks], [tuple(t) for t in timers])

    projected = stages()
    assert projected[waiting.id] == "meldt" and projected[planned.id] == "tiltak"
    assert projected[safe.id] == "avsluttet"
    with kap12.db.reading() as session:
        for case in session.scalars(select(Case).where(Case.status == "open")):
            assert case.stage_code == computed(session, case.id)

    with kap12.db.writing() as session:  # a database from before the column: every case "annet"
        session.execute(update(Case).values(stage_code="annet"))
    upgrade_from(kap12, "0013_measures")
    assert stages() == projected
