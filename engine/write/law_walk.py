"""Cases walked through a new case process before it is deployed, to see that it still does what
the law needs (``processes/diagram_minimum.py``).

The check before (``diagram_check``) reads each element; it cannot tell that a gateway's two
conditions were swapped, so that a pupil who says «no» goes straight to the ending, or that the
school owner's notice was dropped from B. Here each walk is a case, run in memory through the
very specs that would be stored: reported with example answers, each task done with the walk's
answers (example data for the rest), and the engine's own clock moved to the next deadline
whenever the case waits. The forms the case met, in order, must hold each requirement's run.

Runs where the diagrams are deployed and where the modeler checks them, before anything is
stored. The result is kept for the diagrams' content and the forms, so the bundled diagrams
(deployed at every start, unchanged) are walked once per process."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine.runtime import spiff
from engine.runtime.clock import active_clock
from engine.versions.definitions import CASE_PROCESS
from engine.versions.example_data import example_data
from engine.write.projection import snapshot
from processes import diagram_minimum, forms
from processes.deadlines import OSLO
from processes.messages import Message

# A Monday morning in a school week: every deadline in working days or school days can fall due.
START = datetime(2026, 11, 30, 9, 0, tzinfo=OSLO)
MAX_TASKS = 60  # a walk longer than this has run in a circle
ENDED = "slutt"
STOOD_STILL = Message("saken står stille uten oppgaver eller frister")
TOO_LONG = Message("saken går i ring (mer enn %(limit)s oppgaver)", limit=MAX_TASKS)


def problems(parser: CamundaParser, metas: dict, closures: dict[str, list[str]], sources: dict,
             catalog: dict[str, forms.Form] | None) -> list[str]:
    """Why the case process in ``parser`` may not be deployed: one sentence per requirement a
    walk does not meet; none when the deploy does not make the case process."""
    closure = closures.get(CASE_PROCESS)
    if closure is None:
        return []
    # The walks fill the forms in with example data, so their versions belong to the key too.
    content = (tuple((pid, sources[pid]["sha256"]) for pid in closure),
               tuple(sorted((key, hash(form)) for key, form in (catalog or {}).items())))
    return list(_walked(content, parser, metas, catalog))


# What the walks found, by the content of the case process's diagrams and the forms (a few at a time).
_RESULTS: dict[tuple, tuple[str, ...]] = {}


def _walked(content: tuple, parser: CamundaParser, metas: dict, catalog: dict | None) -> tuple[str, ...]:
    found = _RESULTS.get(content)
    if found is None:
        spec, subs = parser.get_spec(CASE_PROCESS), parser.get_subprocess_specs(CASE_PROCESS)
        found = tuple(p for walk in diagram_minimum.WALKS for p in _check(walk, spec, subs, metas, catalog))
        if len(_RESULTS) > 64:
            _RESULTS.clear()
        _RESULTS[content] = found
    return found


def _check(walk: diagram_minimum.Walk, spec: Any, subs: dict, metas: dict, catalog: dict | None) -> list[str]:
    met, end = walk_forms(walk, spec, subs, metas, catalog)
    path = " → ".join(met) or "—"
    if end != ENDED:
        return [Message("Saksprosessen kommer ikke til en slutt når %(when)s: %(end)s. Saken gikk slik med "
                        "eksempelsvar: %(path)s.", when=walk.when, end=end, path=path)]
    unmet: list[diagram_minimum.Requirement] = []
    for requirement in walk.requirements:
        # A run that holds one already unmet (the revised plan holds the plan) says nothing more.
        if not _in_order(requirement.forms, met) and not any(_in_order(u.forms, list(requirement.forms)) for u in unmet):
            unmet.append(requirement)
    return [Message("Saksprosessen hopper over noe loven krever når %(when)s: skjemaene %(forms)s skal komme i den "
                    "rekkefølgen (%(why)s). Saken gikk slik med eksempelsvar: %(path)s.", when=walk.when,
                    forms=" → ".join(requirement.forms), why=requirement.why, path=path) for requirement in unmet]


def _in_order(wanted: tuple[str, ...], met: list[str]) -> bool:
    """Whether ``wanted`` comes in ``met`` in that order, not necessarily next to each other."""
    rest = iter(met)
    return all(any(form == want for form in rest) for want in wanted)


def walk_forms(walk: diagram_minimum.Walk, spec: Any, subs: dict, metas: dict,
               catalog: dict | None) -> tuple[list[str], str]:
    """The forms a case met, in order, and how it ended (``ENDED``, or why it did not).

    The walk's time is its own: pinned, on this thread only, on the clock SpiffWorkflow's
    timers and the deadline helpers read, so that a web worker's other requests keep theirs."""
    clock = active_clock()
    now = START

    def form(key: str) -> forms.Form:
        return (catalog or {}).get(key) or forms.get_form(key)

    def data_for(key: str, times: int) -> dict:
        given = walk.answers.get(key, ())
        answers = given[min(times, len(given) - 1)] if given else {}
        return example_data(form(key), now.astimezone(OSLO).date(), **answers)

    met: list[str] = []
    done: Counter[str] = Counter()
    try:
        with clock.pinned(now):
            workflow = BpmnWorkflow(spec, subs, script_engine=spiff.script_engine(clock))
        # Reported at once (learned of now), so the late-report follow-ups stay out of the walk.
        start = data_for("meldingsskjema", 0) | {"krenker_type": walk.offender, "kjent_dato": now.isoformat()}
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(start)
        while len(met) < MAX_TASKS:
            with clock.pinned(now):
                workflow.refresh_timers()
                workflow.do_engine_steps()
                after = snapshot(workflow, metas)
            if after.tasks:
                view = after.tasks[0]
                task = workflow.get_task_from_id(UUID(view.id))
                with clock.pinned(now):
                    task.set_data(**data_for(view.form_key, done[view.form_key]))
                    task.run()
                met.append(view.form_key)
                done[view.form_key] += 1
            elif workflow.completed:
                return met, ENDED
            elif after.timers:
                now = max(now, min(t.due_at for t in after.timers)) + timedelta(minutes=1)
            else:
                return met, STOOD_STILL
    except Exception as err:  # noqa: BLE001 - the diagram's own failure (its code, its engine), said as the walk's end
        return met, Message("koden i diagrammet feilet (%(error)s)", error=str(err).strip().rstrip("."))
    return met, TOO_LONG
