"""Deadlines as cases see them: working days, school holidays, Easter, and the clock change."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.runtime.calendars import add_closure
from processes.deadlines import OSLO


def _due(kap12, case_id, title):
    return next(t.due_at for t in kap12.case_tasks(case_id) if t.title == title).astimezone(OSLO)


def test_investigation_deadline_is_five_working_days(flow, kap12, demo):
    case = flow.report()  # Monday 30 November 2026, 09:00
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    assert _due(kap12, case.id, "Undersøke saken") == datetime(2026, 12, 7, 16, 0, tzinfo=OSLO)


def test_school_holidays_of_the_school_are_not_working_days(flow, kap12, demo):
    with kap12.db.writing() as session:
        add_closure(session, demo.schools[flow.NORDLI], date(2026, 12, 1), date(2026, 12, 4), "Planleggingsdager")
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    assert _due(kap12, case.id, "Undersøke saken") == datetime(2026, 12, 11, 16, 0, tzinfo=OSLO)
    # Another school in the county keeps its own calendar.
    other = kap12.report(demo.users["rektor2"], demo.schools["Sørbakken videregående skole"],
                         __import__("engine.write.demo", fromlist=["report_data"]).report_data())
    assert next(t.due_at for t in kap12.case_tasks(other.id)).astimezone(OSLO) == datetime(2026, 11, 30, 16, 0, tzinfo=OSLO)


def test_report_before_easter_is_due_after_easter(flow, kap12, demo):
    kap12.clock.set(datetime(2027, 3, 24, 17, 30, tzinfo=OSLO))  # Wednesday before Easter, after hours
    case = flow.report()
    # Thursday to Monday are public holidays (skjærtorsdag … 2. påskedag): due Tuesday 30 March.
    assert _due(kap12, case.id, "Motta og registrere melding") == datetime(2027, 3, 30, 16, 0, tzinfo=OSLO)
    kap12.clock.set(datetime(2027, 3, 30, 9, 0, tzinfo=OSLO))
    kap12.sweep_timers()  # the 2-hour reminder counted from 08:00 Tuesday is not due yet at 09:00
    assert [e.kind for e in kap12.case_history(case.id)].count("reminder") == 0
    kap12.clock.advance(timedelta(hours=1, minutes=1))
    kap12.sweep_timers()
    assert [e.kind for e in kap12.case_history(case.id)].count("reminder") == 1


def test_deadline_across_the_october_clock_change(flow, kap12, demo):
    kap12.clock.set(datetime(2027, 10, 29, 15, 30, tzinfo=OSLO))  # Friday before the change, CEST
    case = flow.report()
    reminder = next(t for t in kap12.case_timers(case.id) if t.kind == "paminnelse").due_at.astimezone(OSLO)
    # Half an hour on Friday, one and a half on Monday from 08:00 (now CET).
    assert reminder == datetime(2027, 11, 1, 9, 30, tzinfo=OSLO)
    assert reminder.utcoffset() == timedelta(hours=1)
