"""Procedures A, B and C end to end through the engine, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config

from engine.errors import NotFound
from engine.store.db import MIGRATIONS


def _investigate_and_plan(flow, user, case_id):
    kap12 = flow.kap12
    flow.do(user, case_id, "Undersøke saken", trygt_skolemiljo="nei")
    assert flow.open_titles(case_id) == ["Utarbeide tiltaksplan"]
    flow.do(user, case_id, "Utarbeide tiltaksplan", evalueringsdato=flow.plan_date(),
       tiltak=[{"hva": "Voksen til stede i friminuttene", "nar": "Fra i morgen", "ansvarlig": "Kontaktlærer"},
               {"hva": "Samtale med klassen", "nar": "Uke 50", "ansvarlig": "Avdelingsleder"}])
    flow.do(user, case_id, "Gjennomføre tiltak")
    assert flow.open_titles(case_id) == []  # waiting for the evaluation date
    kap12.clock.advance(timedelta(days=15))
    kap12.sweep_timers()
    assert flow.open_titles(case_id) == ["Evaluere tiltakene"]


def _evaluate_and_close(flow, user, case_id):
    kap12 = flow.kap12
    flow.do(user, case_id, "Evaluere tiltakene", evaluering_resultat="trygt")
    assert flow.open_titles(case_id) == ["Avslutte og dokumentere saken"]
    flow.do(user, case_id, "Avslutte og dokumentere saken")
    case = flow.status(case_id)
    assert (case.status, case.stage) == ("closed", "Avsluttet")
    assert "case_closed" in flow.kinds(case_id)
    assert all(r.ok for r in kap12.verify([case_id]))


def test_procedure_a_happy_path(flow, kap12, demo):
    case = flow.report()
    assert case.procedure == "A"
    assert flow.open_titles(case.id) == ["Motta og registrere melding"]
    # A report goes to the school's leadership: both avdelingsleder and rektor see the task.
    assert [t.case_id for t in kap12.tasks_for(demo.users["avdelingsleder"])] == [case.id]
    assert [t.case_id for t in kap12.tasks_for(demo.users["rektor"])] == [case.id]
    assert kap12.tasks_for(demo.users["ansatt2"]) == []
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    # The shared follow-up goes to the responsible role of procedure A, avdelingsleder, and to
    # rektor, who is responsible for every case.
    assert flow.open_titles(case.id) == ["Undersøke saken"]
    assert [t.title for t in kap12.tasks_for(demo.users["rektor"])] == ["Undersøke saken"]
    _investigate_and_plan(flow, "avdelingsleder", case.id)
    _evaluate_and_close(flow, "avdelingsleder", case.id)
    history = flow.kinds(case.id)
    assert history[0] == "reported" and history.count("task_completed") == 6
    assert "deadline_missed" not in history


def test_procedure_a_serious_case_notifies_school_owner(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding", alvorlig_sak=True)
    # The investigation starts at once; rektor's notice to the school owner runs beside it.
    assert flow.open_titles(case.id) == ["Undersøke saken", "Varsle skoleeier"]
    [notice] = [t for t in kap12.case_tasks(case.id) if t.title == "Varsle skoleeier"]
    assert notice.due_at is not None
    flow.do("rektor", case.id, "Varsle skoleeier")
    assert flow.open_titles(case.id) == ["Undersøke saken"]


def test_report_not_received_in_time_reminds_then_escalates(flow, kap12, demo):
    case = flow.report()  # Monday 09:00
    kap12.clock.advance(timedelta(hours=1, minutes=59))
    assert kap12.sweep_timers().claimed == 0
    kap12.clock.advance(timedelta(minutes=2))  # 2 working hours: reminder
    kap12.sweep_timers()
    assert flow.kinds(case.id).count("reminder") == 1
    assert flow.open_titles(case.id) == ["Motta og registrere melding"]
    kap12.clock.advance(timedelta(hours=5))  # past 16:00: deadline missed, escalated to rektor
    kap12.sweep_timers()
    history = flow.kinds(case.id)
    assert history.count("deadline_missed") == 1 and history.count("escalated") == 1
    assert flow.open_titles(case.id) == ["Følg opp forsinket mottak", "Motta og registrere melding"]
    assert {t.title for t in kap12.tasks_for(demo.users["rektor"])} == {
        "Følg opp forsinket mottak", "Motta og registrere melding"}
    assert flow.status(case.id).escalated
    # Sweeping again fires nothing twice.
    assert kap12.sweep_timers().claimed == 0
    assert flow.kinds(case.id).count("escalated") == 1
    # In A the escalation goes to rektor: the school owner was not told, and does not see it.
    assert case.id not in [c.id for c in kap12.cases_for(demo.users["skoleeier"])]
    assert flow.status(case.id).owner_notified_at is None
    flow.do("rektor", case.id, "Følg opp forsinket mottak")
    flow.do("rektor", case.id, "Motta og registrere melding")
    assert flow.open_titles(case.id) == ["Undersøke saken"]


def test_evaluation_loop_continue_revise_then_close(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    _investigate_and_plan(flow, "avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="fortsette",
       evalueringsdato=flow.plan_date(10))
    assert flow.open_titles(case.id) == ["Gjennomføre tiltak"]
    flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
    kap12.clock.advance(timedelta(days=11))
    kap12.sweep_timers()
    flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="revidere")
    assert flow.open_titles(case.id) == ["Revidere tiltaksplan"]
    flow.do("avdelingsleder", case.id, "Revidere tiltaksplan", evalueringsdato=flow.plan_date(7))
    flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
    kap12.clock.advance(timedelta(days=8))
    kap12.sweep_timers()
    _evaluate_and_close(flow, "avdelingsleder", case.id)
    assert flow.kinds(case.id).count("task_completed") == 11


def test_procedure_b_accused_employee_sees_nothing(flow, kap12, demo):
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    assert case.procedure == "B"
    accused = demo.users["ansatt2"]
    # § 12-5: rektor tells the school owner at once, from the moment of the report: the notice
    # runs beside the receipt, the investigation and the hearing, and holds nothing up.
    assert sorted(flow.open_titles(case.id)) == ["Motta melding", "Varsle skoleeier straks"]
    assert {t.case_id for t in kap12.tasks_for(demo.users["rektor"])} == {case.id}
    assert kap12.tasks_for(demo.users["avdelingsleder"]) == []  # B goes to rektor
    flow.do("rektor", case.id, "Motta melding")
    assert sorted(flow.open_titles(case.id)) == [
        "Informere den anklagede og innhente tilsvar (kontradiksjon)", "Undersøke saken", "Varsle skoleeier straks"]
    flow.do("rektor", case.id, "Varsle skoleeier straks")
    flow.do("skoleeier", case.id, "Bekrefte mottatt varsel")
    flow.do("rektor", case.id, "Informere den anklagede og innhente tilsvar (kontradiksjon)")
    _investigate_and_plan(flow, "rektor", case.id)
    assert kap12.tasks_for(accused) == [] and kap12.cases_for(accused) == []
    with pytest.raises(NotFound):
        kap12.case(accused, case.id)
    _evaluate_and_close(flow, "rektor", case.id)
    assert kap12.cases_for(accused) == []


def test_procedure_c_bypasses_the_school_leadership(flow, kap12, demo):
    case = flow.report(krenker_type="ledelse", krenker_navn="Anne Avdelingsleder",
                  anklaget_bruker="avdelingsleder")
    assert case.procedure == "C"
    assert flow.open_titles(case.id) == ["Motta melding"]
    for leader in ("rektor", "avdelingsleder"):
        assert kap12.tasks_for(demo.users[leader]) == []
        assert case.id not in [c.id for c in kap12.cases_for(demo.users[leader])]
    flow.do("skoleeier", case.id, "Motta melding")
    flow.do("skoleeier", case.id, "Informere den anklagede og innhente tilsvar (kontradiksjon)")
    flow.do("skoleeier", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("skoleeier", case.id, "Avslutte og dokumentere saken")
    assert flow.status(case.id).status == "closed"
    assert case.id not in [c.id for c in kap12.cases_for(demo.users["avdelingsleder"])]
    assert all(r.ok for r in kap12.verify([case.id]))


def test_reclassification_from_a_to_b_is_recorded(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    kap12.reclassify(demo.users["rektor"], case.id, "ansatt", "Samtalen viste at det var en lærer.", "ansatt2")
    after = flow.status(case.id)
    assert after.procedure == "B"
    assert sorted(flow.open_titles(case.id)) == ["Motta melding", "Varsle skoleeier straks"]
    event = [e for e in kap12.case_history(case.id) if e.kind == "reclassified"][0]
    assert event.data["from_procedure"] == "A" and event.data["to_procedure"] == "B"
    assert kap12.cases_for(demo.users["ansatt2"]) == []  # the newly accused is excluded at once
    assert kap12.tasks_for(demo.users["avdelingsleder"]) == []


def test_missed_investigation_in_c_escalates_to_the_school_owner_not_the_leadership(flow, kap12, demo):
    case = flow.report(krenker_type="ledelse", anklaget_bruker="rektor")
    flow.do("skoleeier", case.id, "Motta melding")
    kap12.clock.advance(timedelta(days=8))  # past 5 working days
    kap12.sweep_timers()
    escalations = [e.data for e in kap12.case_history(case.id) if e.kind == "escalated"]
    assert {e["recipient_role"] for e in escalations} == {"skoleeier"}  # investigation and hearing


def test_missed_investigation_in_a_escalates_to_rektor(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    kap12.clock.advance(timedelta(days=8))
    kap12.sweep_timers()
    escalations = [e.data for e in kap12.case_history(case.id) if e.kind == "escalated"]
    assert [e["recipient_role"] for e in escalations] == ["rektor"]
    assert "Undersøke saken" in flow.open_titles(case.id)  # the duty is still there, now overdue


def test_the_reporter_is_told_the_school_handles_the_case_while_its_measures_run(flow, kap12, demo):
    """The reporter sees only whether the case is being handled: it is from the report (the
    leaders' first task) to the end, the weeks of measures before the evaluation date included,
    when no task is open."""
    case = flow.report()
    assert kap12.case_handled(flow.status(case.id))
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    flow.do("avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato=flow.plan_date())
    flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
    assert flow.open_titles(case.id) == []  # waiting for the evaluation date
    assert kap12.case_handled(flow.status(case.id))


def test_the_upgrade_opens_the_a_follow_up_already_open_to_rektor(flow, kap12, demo):
    """Migration 0031: a task of A's follow-up opened by an earlier release (to avdelingsleder
    alone) is open to rektor after the upgrade, as a step of this release would leave it."""
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    rektor = demo.users["rektor"]
    assert [t.title for t in kap12.tasks_for(rektor)] == ["Undersøke saken"]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with kap12.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0030_take_back_notices")
    assert kap12.tasks_for(rektor) == []  # as the release before left it
    assert [t.title for t in kap12.tasks_for(demo.users["avdelingsleder"])] == ["Undersøke saken"]
    kap12.db.upgrade()
    assert [t.title for t in kap12.tasks_for(rektor)] == ["Undersøke saken"]
    flow.do("rektor", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    assert flow.open_titles(case.id) == ["Utarbeide tiltaksplan"]
