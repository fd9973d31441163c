"""A procedure A case brought to the carrying out of its measures, and the lean bare step on it:
SpiffWorkflow alone on the stored state, the least any host does for a step. ``engine.py`` sets
kap12's step against it; ``lean_step_ms`` is the yardstick other benchmarks print their figures
in, as this machine's speed varies from day to day (``load.py``)."""
from __future__ import annotations

import shutil
from datetime import timedelta
from uuid import UUID

from _common import fresh, median_ms, timed
from sqlalchemy.orm import undefer

from engine.runtime import spiff
from engine.store.models import Case
from engine.versions.example_data import example_data
from engine.write.demo import complete_next, report_data
from processes import forms

NORDLI = "Nordli videregående skole"
LEADER = "avdelingsleder"


def complete_form(kap12, viewer, case_id: int, form_key: str, **overrides) -> None:
    """Complete the case's open task with this form: carrying out and the evaluation are open
    side by side once the plan is made, so "the next task" would be either."""
    task = open_task(kap12, viewer, case_id, form_key)
    kap12.complete(viewer, task.id, example_data(kap12.forms.get(form_key), kap12.clock.now().date(), **overrides))


def open_task(kap12, viewer, case_id: int, form_key: str = "gjennomforing"):
    return next(t for t in kap12.tasks_for(viewer) if t.case_id == case_id and t.form_key == form_key)


def case_at_carry_out(kap12, demo, rounds: int = 0) -> int:
    """A procedure A case waiting at "Gjennomføre tiltak", after ``rounds`` extra evaluation
    rounds (each: the evaluation date comes at once, which ends the carrying out by its deadline
    and opens the evaluation, evaluated 'fortsette' = a task and two timers). The last plan's
    evaluation date is two weeks ahead, so the carrying out stays open for the measured step."""
    u = demo.users
    today = kap12.clock.now().date()
    ahead = (today + timedelta(days=14)).isoformat()
    case = kap12.report(u["ansatt"], demo.schools[NORDLI], report_data())
    complete_next(kap12, u[LEADER], case.id)
    complete_next(kap12, u[LEADER], case.id, trygt_skolemiljo="nei")
    complete_next(kap12, u[LEADER], case.id, evalueringsdato=today.isoformat() if rounds else ahead)
    for done in range(1, rounds + 1):
        kap12.sweep_timers()
        complete_form(kap12, u[LEADER], case.id, "evaluering", evaluering_resultat="fortsette",
                      evalueringsdato=ahead if done == rounds else today.isoformat())
    return case.id


def carry_out_payload():
    return example_data(forms.get_form("gjennomforing"))


def lean_step_fn(kap12, case_id: int, task_id: str):
    """The lean bare step: SpiffWorkflow on the stored state alone, the spec taken from the
    same cache kap12 uses (deserialized once per version), complete, run, serialize the state."""
    with kap12.db.reading() as session:
        case = session.get(Case, case_id, options=[undefer(Case.state)])
        state, version = case.state, case.definition
        spec, subs = kap12.specs.get(version)
    data = carry_out_payload()

    def once():
        workflow = spiff.load_state(state, spec, subs, kap12.script_engine)
        task = workflow.get_task_from_id(UUID(task_id))
        task.set_data(**data)
        task.run()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        spiff.dump_state(workflow)

    once()
    return once


def lean_step_ms(cases: int = 5) -> float:
    """The median lean bare step on this machine now, on a throwaway SQLite county."""
    folder, kap12, demo = fresh()
    try:
        ids = [case_at_carry_out(kap12, demo) for _ in range(cases)]
        viewer = demo.users[LEADER]
        return median_ms([timed(lean_step_fn(kap12, case_id, open_task(kap12, viewer, case_id).id))
                          for case_id in ids])
    finally:
        kap12.close()
        shutil.rmtree(folder, ignore_errors=True)
