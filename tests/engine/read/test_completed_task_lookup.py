"""A task no longer open is found by the index of the steps done by their task, not by reading
every step ever done (a stale link, a double click, a task done by another a moment before)."""
from __future__ import annotations

from sqlalchemy import text
from support.plans import answered, plan_on_either

from engine.store import history


def _done_task(flow, demo, kap12):
    case = flow.report()
    [task] = [t for t in kap12.tasks_for(demo.users["rektor"]) if t.case_id == case.id]
    flow.do("rektor", case.id)
    return task


def test_a_done_task_is_found_by_its_index(flow, kap12, demo):
    task = _done_task(flow, demo, kap12)
    flow.do("rektor", _done_task(flow, demo, kap12).case_id)  # more steps done, of other tasks
    with kap12.db.reading() as session:
        found, sent = answered(kap12.db.engine, lambda: history.completed_task_event(session, task.id))
        assert found is not None and found.data["task_id"] == task.id
        assert history.completed_task_event(session, "00000000-0000-0000-0000-000000000000") is None
    [(statement, parameters)] = [s for s in sent if "FROM history_events" in s[0]]
    # On PostgreSQL the plan kept for the statement prepared, which must match the index's expression.
    plan = plan_on_either(kap12.db.engine, statement, parameters, "enable_seqscan = off")
    assert "ix_history_events_completed_task" in plan, plan


def test_the_index_holds_the_steps_done_only(kap12, flow, demo):
    _done_task(flow, demo, kap12)
    with kap12.db.engine.connect() as connection:
        if kap12.db.is_sqlite:
            indexed = connection.execute(text("SELECT count(*) FROM history_events INDEXED BY "
                                              "ix_history_events_completed_task WHERE kind = 'task_completed'")).scalar()
        else:
            indexed = connection.execute(text("SELECT count(*) FROM history_events WHERE kind = 'task_completed'")).scalar()
    assert indexed >= 1
