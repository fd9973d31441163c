"""The heat view: over all cases of one version that the viewer may read in full, where they
passed and where deadlines were missed, counted from their histories by the database (no
workflow is loaded, no event is brought into Python: the page read every event of every case of
the version, and looked up each case's access level one by one, so it grew with all history)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from engine import access
from engine.audit.bpmn_reading import elements
from engine.errors import NotFound
from engine.store import history
from engine.store.code_values import code, codes
from engine.store.events import DEADLINE_MISSED, TASK_COMPLETED, TASK_OPENED, TIMER_FIRED
from engine.store.models import Case, DefinitionVersion, HistoryEvent, OpenTask
from processes.messages import Message


@dataclass
class HeatElement:
    passed: int = 0  # cases that did this element (a user task completed, a timer fired)
    times: int = 0  # how many times in all (loops count each round)
    missed: int = 0  # deadlines missed at this element (on the task, and on the timer itself)
    open_now: int = 0  # cases with this user task open now


def _named(event: Any) -> tuple[Any, Any]:
    """The process and element an event names (an event of a release before 2026-11-27 names
    no process: None, found from the diagram by ``_Owners``)."""
    return event.data["process_id"].as_string(), event.data["element"].as_string()


class _Owners:
    """Which process of the version an element belongs to, for what names no process: the only
    one with the element, else the procedure's own (``prosedyre_b`` for a case in B; element ids
    repeat across a version's diagrams)."""

    def __init__(self, version: DefinitionVersion) -> None:
        self.candidates: dict[str, list[str]] = {}
        for process_id, flows in elements(version).items():
            for element in flows:
                self.candidates.setdefault(element, []).append(process_id)

    def process(self, named: str | None, element: str | None, procedure: str) -> str | None:
        if named:
            return named
        candidates = self.candidates.get(element or "", [])
        if len(candidates) == 1:
            return candidates[0]
        wanted = f"prosedyre_{procedure.lower()}"
        return wanted if wanted in candidates else (candidates[0] if candidates else None)


def process_heat(kap12, viewer, definition_id: int) -> tuple[DefinitionVersion, int, dict[str, dict[str, HeatElement]]]:
    """Counts per diagram element over the cases of ``definition_id`` that ``viewer`` may read
    in full. Returns (version, cases, {process: {element: counts}}).

    Each count is one aggregate, grouped by the process and element the events name and the
    case's procedure (for events that name no process). A case's passing an element counts once
    (``passed``) however often it passed it (``times``); only a case whose events at one element
    were written partly before and partly after its events began naming their process is
    counted once on each side."""
    with kap12.db.reading() as session, history.readable():
        version = session.get(DefinitionVersion, definition_id)
        if version is None:
            raise NotFound(Message("Prosessversjonen finnes ikke."))
        full = access.readable_cases(viewer).where(Case.definition_id == definition_id).subquery()
        count = session.scalar(select(func.count()).select_from(full)) or 0
        event = HistoryEvent
        in_full = event.case_id == full.c.id
        process, element = _named(event)
        done = session.execute(
            select(process, element, full.c.procedure, func.count(), func.count(event.case_id.distinct()))
            .join(full, in_full).where(event.kind.in_(codes((TASK_COMPLETED, TIMER_FIRED))))
            .group_by(process, element, full.c.procedure)).all()
        missed = session.execute(
            select(process, element, full.c.procedure, func.count())
            .join(full, in_full).where(event.kind == code(DEADLINE_MISSED))
            .group_by(process, element, full.c.procedure)).all()
        # A missed deadline counts at its task too: the task it was attached to, as the task's
        # opening named it.
        opened = aliased(HistoryEvent)
        task_process, task_element = _named(opened)
        missed_at_task = session.execute(
            select(task_process, task_element, full.c.procedure, func.count())
            .select_from(event).join(full, in_full)
            .join(opened, and_(opened.case_id == event.case_id, opened.kind == code(TASK_OPENED),
                               opened.data["task_id"].as_string() == event.data["task_id"].as_string()))
            .where(event.kind == code(DEADLINE_MISSED))
            .group_by(task_process, task_element, full.c.procedure)).all()
        open_now = session.execute(
            select(OpenTask.element_id, full.c.procedure, func.count())
            .join(full, OpenTask.case_id == full.c.id)
            .group_by(OpenTask.element_id, full.c.procedure)).all()
    owners = _Owners(version)
    heat: dict[str, dict[str, HeatElement]] = {}

    def cells(rows: Iterable[Any], with_process: bool = True) -> Iterable[tuple[HeatElement, tuple]]:
        for row in rows:
            named, element, procedure, *counts = row if with_process else (None, *row)
            process_id = owners.process(named, element, procedure)
            if process_id is not None and element is not None:
                yield heat.setdefault(process_id, {}).setdefault(element, HeatElement()), counts

    for cell, (times, passed) in cells(done):
        cell.times += times
        cell.passed += passed
    for cell, (n,) in (*cells(missed), *cells(missed_at_task)):
        cell.missed += n
    for cell, (n,) in cells(open_now, with_process=False):
        cell.open_now += n
    return version, count, heat
