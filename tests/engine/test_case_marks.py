"""Whether a case ever missed a deadline, and when the leaders last reviewed it, are kept on the
case row by the database as the history records them (migration 0023), for the weekly overview to
count and order by; they are always what the history says, on a database made new or upgraded."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from support.migrations import upgrade_from

from engine.store.events import DEADLINE_MISSED, REVIEWED
from engine.store.models import Case, HistoryEvent
from processes.deadlines import OSLO


def _stories(flow, kap12, demo) -> tuple[int, int, int]:
    """A serious case whose notice to the school owner runs late, reviewed twice; one reviewed
    once; one reported after, untouched."""
    late = flow.report()
    flow.do("avdelingsleder", late.id, "Motta og registrere melding", alvorlig_sak=True)
    reviewed = flow.report()
    rektor = demo.users["rektor"]
    kap12.record_review(rektor, [late.id, reviewed.id], "Gjennomgått i lederforum")
    kap12.clock.set(datetime(2026, 11, 30, 16, 1, tzinfo=OSLO))  # past the notice's deadline
    kap12.sweep_timers()
    kap12.clock.advance(timedelta(days=1))
    kap12.record_review(rektor, [late.id], "Fulgt opp")
    untouched = flow.report()
    return late.id, reviewed.id, untouched.id


def _marks(kap12) -> dict[int, tuple[bool, datetime | None]]:
    with kap12.db.reading() as session:
        return {c.id: (c.deadline_missed, c.last_reviewed_at) for c in session.scalars(select(Case))}


def _from_history(kap12) -> dict[int, tuple[bool, datetime | None]]:
    with kap12.db.reading() as session:
        missed = set(session.scalars(select(HistoryEvent.case_id).where(HistoryEvent.kind == DEADLINE_MISSED)))
        reviewed = dict(session.execute(select(HistoryEvent.case_id, func.max(HistoryEvent.at))
                                        .where(HistoryEvent.kind == REVIEWED).group_by(HistoryEvent.case_id)).all())
        return {case_id: (case_id in missed, reviewed.get(case_id)) for case_id in session.scalars(select(Case.id))}


def test_the_case_row_says_what_the_history_says(flow, kap12, demo):
    late, reviewed, untouched = _stories(flow, kap12, demo)
    marks = _marks(kap12)
    assert marks == _from_history(kap12)
    assert marks[late][0] and marks[untouched] == (False, None)
    # The later of the two reviews, not the first.
    assert marks[late][1] is not None and marks[reviewed][1] is not None and marks[late][1] > marks[reviewed][1]
    # A review recorded after a later one (a clock behind, another machine) leaves the latest.
    kap12.clock.advance(timedelta(days=-3))
    kap12.record_review(demo.users["rektor"], [late], "Ført inn i etterkant")
    assert _marks(kap12)[late] == marks[late] == _from_history(kap12)[late]


def test_an_upgraded_database_has_the_marks_of_every_case(flow, kap12, demo):
    _stories(flow, kap12, demo)
    upgrade_from(kap12, "0022_task_procedure_index")
    marks = _marks(kap12)
    assert marks == _from_history(kap12) and any(missed for missed, _ in marks.values())
