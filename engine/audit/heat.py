"""The heat view: over all cases of one version that the viewer may see, where they passed and
where deadlines were missed, read from their histories (no workflow is loaded)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine import access
from engine.audit.bpmn_reading import elements
from engine.errors import NotFound
from engine.store import history
from engine.store.events import (
    DEADLINE_MISSED,
    RECLASSIFIED,
    REPORTED,
    TASK_COMPLETED,
    TASK_OPENED,
    TIMER_FIRED,
)
from engine.store.models import Case, DefinitionVersion, HistoryEvent, OpenTask
from processes.messages import Message
from processes.roles import OFFENDER_PROCEDURE


@dataclass
class HeatElement:
    passed: int = 0  # cases that did this element (a user task completed, a timer fired)
    times: int = 0  # how many times in all (loops count each round)
    missed: int = 0  # deadlines missed at this element (on the task, and on the timer itself)
    open_now: int = 0  # cases with this user task open now


def process_heat(kap12, viewer, definition_id: int) -> tuple[DefinitionVersion, int, dict[str, dict[str, HeatElement]]]:
    """Counts per diagram element over the cases of ``definition_id`` that ``viewer`` may see,
    read from their histories (no workflow is loaded). Returns (version, cases, {process: {element: counts}})."""
    with kap12.db.reading() as session:
        version = session.get(DefinitionVersion, definition_id)
        if version is None:
            raise NotFound(Message("Prosessversjonen finnes ikke."))
        visible = access.visible_cases(viewer).where(Case.definition_id == definition_id).subquery()
        full = [cid for cid in session.scalars(select(visible.c.id))
                if access.access_level(session, viewer, cid) == access.FULL]
        with history.readable():
            events = list(session.scalars(select(HistoryEvent).where(HistoryEvent.case_id.in_(full))
                                          .where(HistoryEvent.kind.in_((REPORTED, RECLASSIFIED, TASK_OPENED,
                                                                        TASK_COMPLETED, TIMER_FIRED,
                                                                        DEADLINE_MISSED)))
                                          .order_by(HistoryEvent.case_id, HistoryEvent.seq)))
        open_rows = list(session.execute(select(OpenTask.case_id, OpenTask.element_id).where(OpenTask.case_id.in_(full))))
    owners: dict[str, list[str]] = {}
    for process_id, flows in elements(version).items():
        for element in flows:
            owners.setdefault(element, []).append(process_id)
    heat: dict[str, dict[str, HeatElement]] = {}
    seen: set[tuple[int, str, str]] = set()
    procedure: dict[int, str] = {}
    task_element: dict[str, tuple[str, str]] = {}

    def process_of(case_id: int, element: str) -> str | None:
        candidates = owners.get(element, [])
        if len(candidates) == 1:
            return candidates[0]
        wanted = f"prosedyre_{procedure.get(case_id, 'a').lower()}"
        return wanted if wanted in candidates else (candidates[0] if candidates else None)

    def bump(case_id, process, element, *, passed=False, missed=False):
        if process is None:
            return
        cell = heat.setdefault(process, {}).setdefault(element, HeatElement())
        if passed:
            cell.times += 1
            if (case_id, process, element) not in seen:
                seen.add((case_id, process, element))
                cell.passed += 1
        if missed:
            cell.missed += 1

    for ev in events:
        d = ev.data or {}
        if ev.kind == REPORTED:
            procedure[ev.case_id] = OFFENDER_PROCEDURE.get((d.get("report") or {}).get("krenker_type"), "A")
        elif ev.kind == RECLASSIFIED:
            procedure[ev.case_id] = d.get("to_procedure") or procedure.get(ev.case_id, "A")
        elif ev.kind == TASK_OPENED:
            process = process_of(ev.case_id, d.get("element"))
            task_element[d.get("task_id")] = (process, d.get("element"))
        elif ev.kind == TASK_COMPLETED:
            process, element = task_element.get(d.get("task_id")) or (process_of(ev.case_id, d.get("element")), d.get("element"))
            bump(ev.case_id, process, element, passed=True)
        elif ev.kind == TIMER_FIRED:
            bump(ev.case_id, process_of(ev.case_id, d.get("element")), d.get("element"), passed=True)
        elif ev.kind == DEADLINE_MISSED:
            bump(ev.case_id, process_of(ev.case_id, d.get("element")), d.get("element"), missed=True)
            if d.get("task_id") in task_element:
                process, element = task_element[d["task_id"]]
                bump(ev.case_id, process, element, missed=True)
    for case_id, element in open_rows:
        process = process_of(case_id, element)
        if process is not None:
            heat.setdefault(process, {}).setdefault(element, HeatElement()).open_now += 1
    return version, len(full), heat
