"""The weekly overview for lederforum: stages, what changed since the last review, missed
deadlines, the school owner's county view, and the accused never counted."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import Denied
from engine.read import overview
from processes import roles
from processes.stages import stage_of


def _numbers(ov):
    return {r.number for r in ov.open_rows} | {r.number for r in ov.closed_rows}


def _counted(ov) -> int:
    return sum(sum(c.values()) for c in ov.by_stage.values())


def test_stage_vocabulary_takes_the_work_front():
    assert stage_of([("Task_motta_melding", "Motta melding")]) == "meldt"
    assert stage_of([("Task_bekreft_varsel", ""), ("Task_undersokelse", "")]) == "undersokes"
    assert stage_of([], [("Timer_evalueringsdato", "Evalueringsdato")]) == "tiltak"
    assert stage_of([("Task_ny_ting", "Evaluere noe nytt")]) == "evaluering"  # by title
    assert stage_of([("Task_ukjent", "Noe helt annet")]) == "annet"
    # B: the notice to the school owner opens with the report; not received is still «meldt».
    assert stage_of([("Task_motta_melding", "Motta melding"), ("Task_varsle_skoleeier", "")]) == "meldt"
    assert stage_of([("Task_identifisere_anklaget", ""), ("Task_bekreft_varsel", "")]) == "meldt"
    assert stage_of([("Task_forsinket_mottak", ""), ("Task_undersokelse", "")]) == "undersokes"


def test_open_cases_by_stage_and_a_b_case_is_only_rektors(flow, kap12, demo):
    fresh = flow.report()
    planned = flow.report()
    flow.do("avdelingsleder", planned.id)
    flow.do("avdelingsleder", planned.id, trygt_skolemiljo="nei")
    flow.do("avdelingsleder", planned.id, evalueringsdato=flow.plan_date())
    # B: an employee is accused; B is rektor's, so the department head never counts it either.
    accused = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer",
                     anklaget_bruker="ansatt2")

    rektor = overview.weekly_overview(kap12, demo.users["rektor"])
    assert _numbers(rektor) == {fresh.number, planned.number, accused.number}
    stages = {r.number: r.stage for r in rektor.open_rows}
    assert stages == {fresh.number: "meldt", planned.number: "tiltak", accused.number: "meldt"}
    assert rektor.by_stage["meldt"] == {"A": 1, "B": 1}
    assert [code for code, _ in rektor.stage_groups()] == ["meldt", "tiltak"]

    leader = overview.weekly_overview(kap12, demo.users["avdelingsleder"])
    assert accused.number not in _numbers(leader)
    assert _counted(leader) == 2 and leader.by_stage["meldt"] == {"A": 1}
    # Not in any filter either.
    assert overview.weekly_overview(kap12, demo.users["avdelingsleder"], procedure="B").open_rows == []

    row = next(r for r in rektor.open_rows if r.number == planned.number)
    assert row.roles == ("avdelingsleder", "rektor") and row.age_days == 0
    assert row.pupils is None  # names only when asked for
    assert any(c.kind == "task_completed" for c in row.changes)

    with pytest.raises(Denied):
        overview.weekly_overview(kap12, demo.users["ansatt"])


def test_reporter_status_access_does_not_bring_a_case_in(flow, kap12, demo):
    # The department head reports a case at the school owner level (C): as reporter they may
    # see its status, but the overview lists full access only.
    case = flow.report(user="avdelingsleder", krenker_type="ledelse", krenker_navn="Rune Rektor",
                  anklaget_bruker="rektor")
    assert case.number not in _numbers(overview.weekly_overview(kap12, demo.users["avdelingsleder"]))
    assert case.number not in _numbers(overview.weekly_overview(kap12, demo.users["rektor"]))
    owner = overview.weekly_overview(kap12, demo.users["skoleeier"])
    assert case.number in _numbers(owner)


def test_school_owner_sees_every_school_in_the_county(flow, kap12, demo):
    b = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.report()  # an A case that is not escalated: not the owner's
    owner = overview.weekly_overview(kap12, demo.users["skoleeier"])
    assert _numbers(owner) == {b.number}
    lines = {line.school: line for line in owner.county_lines}
    assert set(lines) == {"Nordli videregående skole", "Sørbakken videregående skole"}
    assert lines["Nordli videregående skole"].open == 1 and lines["Sørbakken videregående skole"].open == 0
    assert set(owner.schools) == set(lines)


def test_review_marks_the_cases_and_resets_what_is_new(flow, kap12, demo, clock):
    case = flow.report()
    before = overview.weekly_overview(kap12, demo.users["rektor"])
    assert before.open_rows[0].last_reviewed is None and before.open_rows[0].changes
    assert kap12.record_review(demo.users["rektor"], [case.id], "Gått gjennom, følges opp") == 1
    events = [e for e in kap12.case_history(case.id) if e.kind == "reviewed"]
    assert events[0].data == {"forum": "lederforum", "comment": "Gått gjennom, følges opp"}
    clock.advance(timedelta(hours=1))
    after = overview.weekly_overview(kap12, demo.users["rektor"]).open_rows[0]
    assert after.last_reviewed == events[0].at and after.changes == ()
    flow.do("avdelingsleder", case.id)
    later = overview.weekly_overview(kap12, demo.users["rektor"]).open_rows[0]
    assert {c.kind for c in later.changes} >= {"task_completed"}
    # A viewer who cannot see the case records nothing and learns nothing.
    assert kap12.record_review(demo.users["rektor2"], [case.id], "") == 0


def test_missed_deadlines_closed_this_week_and_the_year_figures(flow, kap12, demo, clock):
    late = flow.report()
    clock.set(clock.now() + timedelta(days=2))
    kap12.sweep_timers()
    row = next(r for r in overview.weekly_overview(kap12, demo.users["rektor"]).open_rows if r.number == late.number)
    assert row.missed and row.missed[0].name
    quick = flow.report()
    flow.do("avdelingsleder", quick.id)
    flow.do("avdelingsleder", quick.id, trygt_skolemiljo="nei")
    clock.set(clock.now() + timedelta(days=1))
    flow.do("avdelingsleder", quick.id, evalueringsdato=flow.plan_date())
    ov = overview.weekly_overview(kap12, demo.users["rektor"])
    assert ov.median_plan_days == pytest.approx(1.0) and ov.plans_counted == 1
    assert sum(m.missed for m in ov.deadlines) >= 1 and sum(m.met for m in ov.deadlines) >= 1
    assert ov.deadlines[0].label == "aug 26" and ov.deadlines[-1].label == "des 26"

    safe = flow.report()
    flow.do("avdelingsleder", safe.id)
    flow.do("avdelingsleder", safe.id, trygt_skolemiljo="ja")
    flow.do("avdelingsleder", safe.id)
    ov = overview.weekly_overview(kap12, demo.users["rektor"])
    assert [r.number for r in ov.closed_rows] == [safe.number]
    assert safe.number not in {r.number for r in ov.open_rows}
    clock.set(clock.now() + timedelta(days=8))
    assert overview.weekly_overview(kap12, demo.users["rektor"]).closed_rows == []


def test_names_only_on_request_and_the_export_is_a_recorded_read(flow, kap12, demo):
    case = flow.report(berorte_elever="Emma Hansen")
    ov = overview.weekly_overview(kap12, demo.users["rektor"], include_names=True)
    assert ov.open_rows[0].pupils == "Emma Hansen"
    reads = [e for e in kap12.case_history(case.id) if e.kind == "case_read"]
    assert reads and reads[-1].data == {"view": "oversikt-eksport"} and reads[-1].actor == "Rune Rektor"


def test_the_year_figures_cut_months_at_midnight_in_norway(flow, kap12, demo, clock):
    """Counted in the database, by Norwegian months: a step done at 00:30 on 1 October (still
    30 September in UTC) is October's."""
    from datetime import datetime

    from processes.deadlines import OSLO

    now = clock.now()
    clock.set(datetime(2026, 10, 1, 0, 30, tzinfo=OSLO))
    case = flow.report()
    flow.do("avdelingsleder", case.id)  # received at once: its deadline met
    clock.set(now)
    months = {m.label: m for m in overview.weekly_overview(kap12, demo.users["rektor"]).deadlines}
    assert months["okt 26"].met == 1 and months["sep 26"].met == 0
    assert sum(m.missed for m in months.values()) == 0


def test_a_first_plan_counts_in_the_school_year_it_was_made(flow, kap12, demo, clock):
    """The days from report to first plan: a case reported last school year and planned in this
    one counts here (with all its days); a case planned last year and revised in this one does
    not count again — its first plan was last year's (the figures read its earlier plan to know)."""
    from datetime import datetime

    from processes.deadlines import OSLO

    now = clock.now()
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=OSLO))  # the school year 2025–26
    planned_then, reported_then = flow.report(), flow.report()
    for case in (planned_then, reported_then):
        flow.do("avdelingsleder", case.id)
        flow.do("avdelingsleder", case.id, trygt_skolemiljo="nei")
    flow.do("avdelingsleder", planned_then.id, evalueringsdato=flow.plan_date())
    clock.set(now)
    kap12.sweep_timers()  # its evaluation date has come
    evaluation = next(t for t in kap12.tasks_for(demo.users["avdelingsleder"])
                      if t.case_id == planned_then.id and t.form_key == "evaluering")
    flow.do("avdelingsleder", planned_then.id, evaluation.title, evaluering_resultat="revidere",
            evalueringsdato=flow.plan_date())
    flow.do("avdelingsleder", planned_then.id, "Revidere tiltaksplan", evalueringsdato=flow.plan_date())
    flow.do("avdelingsleder", reported_then.id, evalueringsdato=flow.plan_date())

    ov = overview.weekly_overview(kap12, demo.users["rektor"])
    days = (now - flow.status(reported_then.id).created_at).total_seconds() / 86400
    assert ov.plans_counted == 1 and ov.median_plan_days == pytest.approx(days)


def test_a_row_names_the_newest_changes_and_reads_no_more_of_a_long_history(flow, kap12, demo, clock):
    """A case followed up for a long time has hundreds of events: the row names the newest four
    changes since the last review and counts the rest, and the overview reads no more of the
    history for a long one than for a short one."""
    from sqlalchemy import event

    from engine.store.models import HistoryEvent

    case = flow.report()
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="nei")
    flow.do("avdelingsleder", case.id, evalueringsdato=flow.plan_date(1))
    clock.advance(timedelta(days=2))
    kap12.sweep_timers()
    flow.do("avdelingsleder", case.id)  # the evaluation
    rektor = demo.users["rektor"]

    def changes_by_the_whole_history():
        since = clock.now() - timedelta(days=7)
        return [(e.at, e.kind) for e in kap12.case_history(case.id)
                if e.at > since and e.kind not in overview.QUIET_KINDS]

    def read_and_loaded():
        loaded = []
        listener = lambda target, _context: loaded.append(target.kind)  # noqa: E731
        event.listen(HistoryEvent, "load", listener)
        try:
            row = overview.weekly_overview(kap12, rektor).open_rows[0]
        finally:
            event.remove(HistoryEvent, "load", listener)
        return row, loaded

    expected = changes_by_the_whole_history()
    assert len(expected) > overview.CHANGES_SHOWN  # the report, four steps and what they made
    row, loaded = read_and_loaded()
    assert row.change_count == len(expected)
    assert [(c.at, c.kind) for c in row.changes] == expected[-overview.CHANGES_SHOWN:]

    # A long history of what is not news (claims, releases, reviews): the row is the same, and
    # no more of the history is read for it.
    task = next(t for t in kap12.tasks_for(demo.users["avdelingsleder"]) if t.case_id == case.id)
    for _ in range(40):
        clock.advance(timedelta(minutes=1))
        kap12.claim(demo.users["avdelingsleder"], task.id)
        kap12.release(demo.users["avdelingsleder"], task.id)
    assert len(kap12.case_history(case.id)) > 80
    longer, loaded_longer = read_and_loaded()
    assert (longer.change_count, longer.changes) == (row.change_count, row.changes)
    assert len(loaded_longer) == len(loaded) <= overview.CHANGES_SHOWN + 1

    # A review: only what comes after it is news.
    kap12.record_review(rektor, [case.id], "")
    clock.advance(timedelta(minutes=1))
    assert read_and_loaded()[0].change_count == 0


def test_the_week_s_closed_cases_are_counted_and_paged_the_newest_first(flow, kap12, demo, clock, monkeypatch):
    """A county closes many cases in a busy week: the page lists them ``PER_STAGE`` at a time, the
    newest first, and counts them all; the exports list them all. A case closed while the forum
    pages through is not shown twice, and none is skipped."""
    monkeypatch.setattr(overview, "PER_STAGE", 2)
    closed = []

    def close_one():
        case = flow.report()
        flow.do("avdelingsleder", case.id)
        flow.do("avdelingsleder", case.id, trygt_skolemiljo="ja")
        flow.do("avdelingsleder", case.id)
        closed.append(case.number)
        clock.advance(timedelta(hours=1))

    for _ in range(3):
        close_one()
    rektor = demo.users["rektor"]
    first = overview.weekly_overview(kap12, rektor)
    assert first.closed_count == 3 and first.closed_more
    assert [r.number for r in first.closed_rows] == closed[:0:-1]  # the two newest, newest first
    close_one()  # closed while the forum reads the first page: it is on the first page, not the next
    rest = overview.weekly_overview(kap12, rektor, closed_cursor=first.closed_more)
    assert [r.number for r in rest.closed_rows] == [closed[0]] and rest.closed_more is None
    assert rest.closed_count == 4
    every = overview.weekly_overview(kap12, rektor, everything=True)
    assert [r.number for r in every.closed_rows] == closed[::-1] and every.closed_count == 4


def test_a_row_without_open_tasks_names_whoever_the_newest_task_went_to(flow, kap12, demo, monkeypatch):
    """A closed case (or one waiting with no task open) names the role of the newest task opened,
    not an earlier one: here the first, «Motta og registrere melding», went to rektor as well.
    (Rektor may do the follow-up in A too, so it is set aside here: then the follow-up went to
    avdelingsleder alone, and the first and the newest task differ.)"""
    monkeypatch.setattr(roles, "ALSO_RESPONSIBLE", {})
    case = flow.report()
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="ja")
    flow.do("avdelingsleder", case.id)
    opened = [e.data["roles"] for e in kap12.case_history(case.id) if e.kind == "task_opened"]
    assert sorted(opened[0]) != sorted(opened[-1])
    [row] = overview.weekly_overview(kap12, demo.users["rektor"]).closed_rows
    assert row.number == case.number and row.roles == tuple(sorted(opened[-1]))
