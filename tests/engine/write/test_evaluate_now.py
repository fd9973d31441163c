"""Evaluating now: the one who leads a case opens the evaluation before the plan's date when
things change — from carrying out the measures or from waiting for the date — recorded with
who, when and why; nobody else can, and a case with no plan running refuses it plainly."""
from __future__ import annotations

import pytest

from engine.audit.replay import verify_case
from engine.errors import Conflict, Denied, InvalidInput, NotFound


def _planned(flow, reporter="ansatt", leader="avdelingsleder", **overrides):
    case = flow.report(reporter, **overrides)
    flow.do(leader, case.id)
    flow.do(leader, case.id, "Undersøke saken", trygt_skolemiljo="nei")
    flow.do(leader, case.id, "Utarbeide tiltaksplan", evalueringsdato=flow.plan_date(30))
    return case


def _timer_elements(kap12, case_id):
    return sorted(t.element_id for t in kap12.case_timers(case_id))


def test_evaluate_now_while_the_measures_are_carried_out(flow, kap12, demo):
    case = _planned(flow)
    assert flow.open_titles(case.id) == ["Gjennomføre tiltak"]
    assert "Timer_frist_gjennomforing" in _timer_elements(kap12, case.id)
    kap12.evaluate_now(demo.users["avdelingsleder"], case.id, "Ny hendelse i kantina mandag.")
    assert flow.open_titles(case.id) == ["Evaluere tiltakene"]
    # The carrying out is over: its reminder and deadline are gone with it.
    assert not {"Timer_frist_gjennomforing", "Timer_paminnelse_evaluering"} & set(_timer_elements(kap12, case.id))
    [event] = [e for e in kap12.case_history(case.id) if e.kind == "evaluation_now"]
    assert event.actor == "Anne Avdelingsleder" and event.data["reason"] == "Ny hendelse i kantina mandag."
    assert event.data["planned_date"] == flow.plan_date(30)
    assert verify_case(kap12, case.id).verified


def test_evaluate_now_while_waiting_for_the_date(flow, kap12, demo):
    case = _planned(flow)
    flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
    assert flow.open_titles(case.id) == [] and "Timer_evalueringsdato" in _timer_elements(kap12, case.id)
    kap12.evaluate_now(demo.users["rektor"], case.id, "Foreldrene melder at det har blitt verre.")
    assert flow.open_titles(case.id) == ["Evaluere tiltakene"]
    assert "Timer_evalueringsdato" not in _timer_elements(kap12, case.id)
    # Once open, a second "now" has nothing to move forward.
    with pytest.raises(Conflict):
        kap12.evaluate_now(demo.users["rektor"], case.id, "Igjen.")


def test_evaluate_now_is_refused_plainly(flow, kap12, demo):
    case = flow.report()
    with pytest.raises(Conflict):  # no plan yet: nothing to evaluate
        kap12.evaluate_now(demo.users["avdelingsleder"], case.id, "For tidlig.")
    case = _planned(flow)
    with pytest.raises(InvalidInput):
        kap12.evaluate_now(demo.users["avdelingsleder"], case.id, "  ")
    for outsider in ("ansatt2", "ansatt3", "rektor2"):  # not the case's leaders: the case does not exist
        with pytest.raises(NotFound):
            kap12.evaluate_now(demo.users[outsider], case.id, "Jeg vil.")
    with pytest.raises((Denied, NotFound)):
        kap12.evaluate_now(demo.users["revisor"], case.id, "Jeg vil.")
    assert flow.open_titles(case.id) == ["Gjennomføre tiltak"]


def test_in_b_only_rektor_and_the_school_owner_evaluate_now(flow, kap12, demo):
    case = _planned(flow, "avdelingsleder", "rektor", krenker_type="ansatt", anklaget_bruker="ansatt2",
                    krenker_navn="Per")
    for outsider in ("avdelingsleder", "ansatt2"):  # outside B's circle; the accused sees nothing
        with pytest.raises(NotFound):
            kap12.evaluate_now(demo.users[outsider], case.id, "Jeg vil.")
    kap12.evaluate_now(demo.users["skoleeier"], case.id, "Eleven har byttet klasse.")
    assert "Evaluere tiltakene" in flow.open_titles(case.id)
