"""The heat view's counts come from the database's aggregates: the same statements for two cases
as for twelve, only the cases the viewer reads in full, a missed deadline at its timer and at
its task, and the process an event names (or, in an older event that names none, the one the
diagram and the case's procedure give)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from engine.audit.heat import process_heat
from tests.support.plans import answered


def _version(kap12, case_id):
    return kap12.case_history(case_id)[0].definition_id


def _counted(kap12, viewer, version):
    (_, count, heat), sent = answered(kap12.db.engine, lambda: process_heat(kap12, viewer, version))
    return count, {p: {e: vars(c) for e, c in cells.items()} for p, cells in heat.items()}, len(sent)


def test_counts_per_element_in_as_many_statements_for_any_number_of_cases(kap12, flow, demo):
    revisor = demo.users["revisor"]
    first = flow.report()
    flow.do("rektor", first.id)  # the report received
    version = _version(kap12, first.id)
    count, heat, statements = _counted(kap12, revisor, version)
    assert count == 1
    received = heat["prosedyre_a"]["Task_motta_melding"]
    assert (received["passed"], received["times"], received["missed"], received["open_now"]) == (1, 1, 0, 0)
    for _ in range(11):
        flow.do("rektor", flow.report().id)
    count, heat, more = _counted(kap12, revisor, version)
    assert count == 12 and more == statements
    assert heat["prosedyre_a"]["Task_motta_melding"] == {"passed": 12, "times": 12, "missed": 0, "open_now": 0}
    assert sum(c["open_now"] for cells in heat.values() for c in cells.values()) == sum(
        len(kap12.case_tasks(case_id)) for case_id in range(first.id, first.id + 12))


def test_a_missed_deadline_counts_at_its_timer_and_its_task(kap12, flow, demo, clock):
    case = flow.report()
    clock.set(clock.now() + timedelta(days=1))
    kap12.sweep_timers()
    missed = [e for e in kap12.case_history(case.id) if e.kind == "deadline_missed"]
    assert missed
    _, heat, _ = _counted(kap12, demo.users["revisor"], _version(kap12, case.id))
    task = heat["prosedyre_a"]["Task_motta_melding"]
    assert task["missed"] == len(missed) and task["open_now"] == 1 and task["passed"] == 0
    timers = {e.data["element"] for e in missed}
    assert sum(heat["prosedyre_a"][element]["missed"] for element in timers) == len(missed)


def test_only_cases_read_in_full_are_counted(kap12, flow, demo):
    """A C case about avdelingsleder is not counted for her, and a reporter's own cases (which
    she reads only the status of) are not counted for the reporter."""
    a = flow.report()
    c = flow.report(krenker_type="ledelse", anklaget_bruker="avdelingsleder")
    version = _version(kap12, a.id)
    assert _version(kap12, c.id) == version
    assert _counted(kap12, demo.users["revisor"], version)[0] == 2
    assert _counted(kap12, demo.users["avdelingsleder"], version)[0] == 1
    count, heat, _ = _counted(kap12, demo.users["ansatt"], version)
    assert (count, heat) == (0, {})


def test_events_that_name_no_process_are_placed_by_the_diagram(kap12, flow, demo):
    """Events written before events named their process count where the diagram puts them."""
    case = flow.report()
    flow.do("rektor", case.id)
    version = _version(kap12, case.id)
    named = _counted(kap12, demo.users["revisor"], version)[1]
    with kap12.db.writing() as session:  # an older release's events, made by hand
        if kap12.db.is_sqlite:
            session.execute(text("DROP TRIGGER history_events_no_update"))
            session.execute(text("UPDATE history_events SET data = json_remove(data, '$.process_id')"))
        else:
            session.execute(text("ALTER TABLE history_events DISABLE TRIGGER history_events_no_update"))
            session.execute(text("UPDATE history_events SET data = (data::jsonb - 'process_id')::json"))
    assert not any("process_id" in e.data for e in kap12.case_history(case.id))
    assert _counted(kap12, demo.users["revisor"], version)[1] == named
