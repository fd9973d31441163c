"""The deadline report: every deadline of a case, met or missed and by how much."""
from __future__ import annotations

from datetime import timedelta


def test_met_missed_and_open_deadlines(flow, kap12, demo):
    case = flow.report()  # Monday 09:00; receive due 16:00
    kap12.clock.advance(timedelta(days=1))  # received a day late
    flow.do("rektor", case.id, "Motta og registrere melding")
    kap12.clock.advance(timedelta(hours=2))
    rows = {r.title: r for r in kap12.case_deadlines(case.id)}
    receive = rows["Motta og registrere melding"]
    assert receive.status == "missed" and receive.seconds_late == 17 * 3600
    assert rows["Undersøke saken"].status == "open" and rows["Undersøke saken"].seconds_late < 0
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    rows = {r.title: r for r in kap12.case_deadlines(case.id)}
    assert rows["Undersøke saken"].status == "met"
    assert "Følg opp forsinket mottak" not in rows  # the escalation task has no deadline of its own


def test_overdue_open_deadline(flow, kap12, demo):
    case = flow.report()
    kap12.clock.advance(timedelta(hours=9))
    [row] = [r for r in kap12.case_deadlines(case.id) if r.title == "Motta og registrere melding"]
    assert row.status == "overdue" and row.seconds_late == 2 * 3600


def test_an_overdue_task_keeps_its_due_time_after_the_deadline_fired(flow, kap12, demo):
    case = flow.report()
    kap12.clock.advance(timedelta(hours=9))
    kap12.sweep_timers()  # the deadline fired and escalated; the task is still open
    [task] = [t for t in kap12.case_tasks(case.id) if t.title == "Motta og registrere melding"]
    assert task.due_at is not None and task.due_at < kap12.clock.now()

    assert flow.status(case.id).next_deadline == task.due_at
