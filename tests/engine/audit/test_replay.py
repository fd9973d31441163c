"""Verification by re-execution: cases driven end to end through procedures A, B and C (timers,
escalations, evaluation loops, reclassification) are re-run from their history and must come
out exactly as stored; a workflow state changed behind the application's back must not."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from engine.audit.compare import normalise_state
from engine.audit.replay import verify_case


def _verified(kap12, case_id):
    result = verify_case(kap12, case_id, frames=True)
    assert result.verified, (result.summary(), result.divergences)
    assert result.chain.ok and result.ok
    assert result.steps >= 2
    events = [e for e in kap12.case_history(case_id)]
    assert [e.seq for e in result.events] == [e.seq for e in events]
    assert all(e.replayed for e in result.events)
    return result


def _plan(flow, user, case_id, days=14):
    kap12 = flow.kap12
    flow.do(user, case_id, "Utarbeide tiltaksplan", evalueringsdato=flow.plan_date(days))
    flow.do(user, case_id, "Gjennomføre tiltak")
    kap12.clock.advance(timedelta(days=days + 1))
    kap12.sweep_timers()


def test_a_with_late_receipt_evaluation_loops_and_closing(flow, kap12, demo):
    case = flow.report()
    kap12.claim(demo.users["avdelingsleder"], kap12.case_tasks(case.id)[0].id)
    kap12.release(demo.users["avdelingsleder"], kap12.case_tasks(case.id)[0].id)
    kap12.clock.advance(timedelta(hours=2, minutes=1))
    kap12.sweep_timers()  # reminder
    kap12.clock.advance(timedelta(hours=6))
    kap12.sweep_timers()  # deadline missed, escalated to rektor
    assert {"reminder", "deadline_missed", "escalated"} <= set(flow.kinds(case.id))
    flow.do("rektor", case.id, "Følg opp forsinket mottak")
    flow.do("rektor", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    _plan(flow, "avdelingsleder", case.id)
    for _ in range(5):  # long enough for the write path to compact the workflow
        flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="fortsette",
           evalueringsdato=flow.plan_date(10))
        flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
        kap12.clock.advance(timedelta(days=11))
        kap12.sweep_timers()
    flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="revidere")
    flow.do("avdelingsleder", case.id, "Revidere tiltaksplan", evalueringsdato=flow.plan_date(7))
    mid = _verified(kap12, case.id)  # an open case verifies too
    assert [t["element"] for t in mid.frames[-1].tasks] == ["Task_gjennomforing"]
    flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
    kap12.clock.advance(timedelta(days=8))
    kap12.sweep_timers()
    flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="trygt")
    flow.do("avdelingsleder", case.id, "Avslutte og dokumentere saken")
    assert flow.status(case.id).status == "closed"
    stored = json.loads(flow.status(case.id).state)
    roots = [sub["tasks"][sub["root"]]["task_spec"] for sub in stored["subprocesses"].values()]
    assert any(not r.startswith("Start") for r in roots), f"expected the long case to be compacted: {roots}"
    result = _verified(kap12, case.id)
    last = result.frames[-1]
    assert last.completed_case and not last.active
    assert "Task_evaluering" in last.completed["oppfolging"]
    assert any(f.startswith("Flow_") for f in last.flows["oppfolging"])


def test_a_serious_case_notifies_the_school_owner(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding", alvorlig_sak=True)
    flow.do("rektor", case.id, "Varsle skoleeier")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", case.id, "Avslutte og dokumentere saken")
    _verified(kap12, case.id)


def test_b_with_contradiction_and_action_plan(flow, kap12, demo):
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.do("rektor", case.id, "Motta melding")
    flow.do("rektor", case.id, "Varsle skoleeier straks")
    flow.do("skoleeier", case.id, "Bekrefte mottatt varsel")
    flow.do("rektor", case.id, "Informere den anklagede og innhente tilsvar (kontradiksjon)")
    flow.do("rektor", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    _plan(flow, "rektor", case.id)
    flow.do("rektor", case.id, "Evaluere tiltakene", evaluering_resultat="trygt")
    flow.do("rektor", case.id, "Avslutte og dokumentere saken")
    assert flow.status(case.id).status == "closed"
    _verified(kap12, case.id)


def test_c_with_missed_investigation_escalated_to_the_school_owner(flow, kap12, demo):
    case = flow.report(krenker_type="ledelse", krenker_navn="Rune Rektor", anklaget_bruker="rektor")
    flow.do("skoleeier", case.id, "Motta melding")
    kap12.clock.advance(timedelta(days=8))
    kap12.sweep_timers()
    assert "escalated" in flow.kinds(case.id)
    _verified(kap12, case.id)
    for title in [t for t in flow.open_titles(case.id) if t != "Undersøke saken"]:
        flow.do("skoleeier", case.id, title)
    flow.do("skoleeier", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    while flow.open_titles(case.id):
        flow.do("skoleeier", case.id, flow.open_titles(case.id)[0])
    assert flow.status(case.id).status == "closed"
    _verified(kap12, case.id)


def test_reclassified_from_a_to_b_and_carried_on(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    kap12.reclassify(demo.users["rektor"], case.id, "ansatt", "Samtalen viste at det var en lærer.", "ansatt2")
    flow.do("rektor", case.id, "Motta melding")
    flow.do("rektor", case.id, "Varsle skoleeier straks")
    result = _verified(kap12, case.id)
    reclass = next(e for e in result.events if e.kind == "reclassified")
    after = result.frames[reclass.frame]
    assert "prosedyre_b" in after.active  # the diagram moves to B at that very event


def test_frames_show_what_each_step_changed(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei",
       elevens_stemme="Hun gruer seg til friminuttene.")
    result = _verified(kap12, case.id)
    first = result.frames[result.events[0].frame]
    assert first.active == {"kap12_sak": ["Call_prosedyre_a"], "prosedyre_a": ["Task_motta_melding"]}
    assert "krenker_type" in first.changed
    investigated = next(e for e in result.events if e.kind == "task_completed" and e.data["element"] == "Task_undersokelse")
    frame = result.frames[investigated.frame]
    assert frame.data["elevens_stemme"] == "Hun gruer seg til friminuttene."
    assert {"elevens_stemme", "trygt_skolemiljo"} <= set(frame.changed) and "krenker_type" not in frame.changed
    assert "Task_undersokelse" in frame.completed["oppfolging"]
    assert [t["element"] for t in frame.tasks] == ["Task_tiltaksplan"]
    assert "Flow_Start_a_Task_motta_melding" in frame.flows["prosedyre_a"]


def _tamper_state(kap12, case_id, change):
    with kap12.db.writing() as session:
        state = json.loads(session.execute(text("SELECT state FROM cases WHERE id = :id"), {"id": case_id}).scalar())
        change(state)
        session.execute(text("UPDATE cases SET state = :s WHERE id = :id"), {"s": json.dumps(state), "id": case_id})


def test_state_altered_behind_the_applications_back_is_found(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    _verified(kap12, case.id)

    def soften(state):
        for sub in state["subprocesses"].values():
            for task in sub["tasks"].values():
                if task["task_spec"] == "Task_undersokelse":
                    assert task["delta"]["updates"]["trygt_skolemiljo"] == "nei"
                    task["delta"]["updates"]["trygt_skolemiljo"] = "ja"
                    return
        raise AssertionError("no task with the investigation's answer")

    _tamper_state(kap12, case.id, soften)
    result = verify_case(kap12, case.id)
    assert not result.verified and result.chain.ok  # the history is intact; the stored state is not
    [problem] = result.divergences
    assert problem.seq is None and "avviker" in problem.what
    assert "trygt_skolemiljo" in json.dumps(problem.as_dict(), ensure_ascii=False)
    assert "Avvik i den lagrede tilstanden" in result.summary()


def test_a_finished_task_hidden_in_the_state_is_found(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")

    def drop_data(state):
        task = next(t for sub in state["subprocesses"].values() for t in sub["tasks"].values()
                    if t["task_spec"] == "Task_motta_melding")
        task["data"]["mottatt_vurdering"] = "Noe annet enn det som ble skrevet."

    _tamper_state(kap12, case.id, drop_data)
    result = verify_case(kap12, case.id)
    assert not result.verified
    assert "mottatt_vurdering" in json.dumps([d.as_dict() for d in result.divergences], ensure_ascii=False)


def test_normalised_state_ignores_task_ids_only(flow, kap12, demo):
    a, b = flow.report(), flow.report()
    sa, sb = flow.status(a.id).state, flow.status(b.id).state
    assert sa != sb  # different random task ids…
    assert normalise_state(sa) == normalise_state(sb)  # …the same workflow
    flow.do("avdelingsleder", a.id, "Motta og registrere melding")
    assert normalise_state(flow.status(a.id).state) != normalise_state(sb)


@pytest.mark.parametrize("n", [1])
def test_unknown_case_is_not_found(kap12, demo, n):
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        verify_case(kap12, 999999)


def test_a_migrated_case_verifies_by_re_execution(flow, kap12, demo):
    """The re-execution follows the recorded versions: it starts on the one the case started
    on, and a recorded migration moves it on exactly as the migration did."""

    from engine.audit.replay import verify_case
    from engine.write import migration

    case = flow.report()
    to = flow.deploy_a(new_task=True)
    migration.migrate(kap12, demo.users["prosesseier"], case.id, to, "Ny rutine fra fylket")
    flow.do("avdelingsleder", case.id)
    result = verify_case(kap12, case.id)
    assert result.ok, result.summary()


def test_a_school_closure_entered_later_does_not_make_a_false_divergence(flow, kap12, demo):
    from datetime import date as _date

    from engine.audit.replay import verify_case
    from engine.runtime.calendars import add_closure

    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")  # investigation due in 5 days
    kap12.clock.advance(timedelta(minutes=5))
    with kap12.db.writing() as session:
        add_closure(session, demo.schools[flow.NORDLI], _date(2026, 12, 1), _date(2026, 12, 4), "Stengt",
                    now=kap12.clock.now())
    result = verify_case(kap12, case.id)
    assert result.ok, result.summary()


def test_cases_made_on_a_running_clock_verify(flow, kap12, demo, clock):
    """In production the clock runs: a step that counted a timer from a later reading than the
    moment it recorded (arbeidstimer(2) inside working hours keeps the microseconds) made
    re-execution of every case reported during the school day diverge. A step now runs at one
    moment. Here the clock runs from Monday 10:00, inside working hours."""
    from datetime import datetime, timezone

    monday_10 = clock.now() + timedelta(hours=1)
    clock.unfreeze()
    clock.advance(monday_10 - datetime.now(timezone.utc))
    assert clock.now() != clock.now()  # running
    case = flow.report()
    flow.do("avdelingsleder", case.id)
    report = verify_case(kap12, case.id)
    assert report.ok, report.divergences
