"""The one path that writes a case (DESIGN.md rule 1).

``CaseStep`` loads a case with its definition version under a write lock, lets the caller act
on the workflow, runs the engine until it waits, and then writes — in the same transaction —
the new workflow state, the derived task and timer rows, the case summary and the history
events. Either all of it is committed or none of it."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ScalarSelect, Select, bindparam, event, select
from sqlalchemy.orm import Session, undefer
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import Conflict, DiagramFailed, Kap12Error, NotFound
from engine.runtime import metrics, sandbox, spiff
from engine.runtime.calendars import school_calendar
from engine.runtime.clock import Clock
from engine.store import history
from engine.store.db import Database
from engine.store.events import (
    CASE_CLOSED,
    DEADLINE_MISSED,
    ESCALATED,
    REMINDER,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_OPENED,
    TIMER_FIRED,
)
from engine.store.models import Case, DefinitionVersion
from engine.versions.definitions import Runnable, SpecCache
from engine.versions.form_catalog import FormCatalog
from engine.write import notify, projection_rows, wakeup
from engine.write.compaction import compact
from engine.write.projection import Snapshot, snapshot
from processes.deadlines import seconds_late
from processes.messages import Message, reason
from processes.roles import OWNER_NOTICE_FORMS, OWNER_ROLE
from processes.stages import CLOSED_STAGE, open_tasks_stage, stage_of, waiting_stage

log = logging.getLogger("kap12.write")


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str

    @classmethod
    def system(cls, name: str = history.SYSTEM_ACTOR) -> "Actor":
        return cls(None, name)


@dataclass
class CaseStep:
    session: Session
    case: Case
    workflow: BpmnWorkflow
    actor: Actor
    now: datetime
    meta: dict
    before: Snapshot
    events: list[tuple[str, dict]] = field(default_factory=list)
    # Run once the engine has run, before the step is written: what the step records of its
    # outcome (the reporter's read of the receipt, ``cases.start_case``).
    afterwards: list[Callable[[CaseStep], None]] = field(default_factory=list)
    # Run after the step is written and before it is committed; one that raises undoes the step.
    checks: list[Callable[[CaseStep], None]] = field(default_factory=list)
    wrote_timer: bool = False  # a timer row due soon was added or moved: sweepers must look again
    # The case was made in this step (``open``): it has no task or timer rows yet to read.
    new: bool = False
    started: float = field(default_factory=time.perf_counter)

    def record(self, kind: str, **data: object) -> None:
        self.events.append((kind, data))


# What a caller does inside one step: act on ``step.workflow`` and ``step.record(...)`` events.
CaseAct = Callable[[CaseStep], None]


@dataclass(frozen=True)
class Opening:
    """What a new case starts from: its row (not added yet), the definition version it runs
    on, and the data its first tasks receive (the report, or a cycle's school and year)."""

    case: Case
    version: DefinitionVersion
    start_data: dict


# Checks what needs the database and builds the new case, inside the write transaction.
PrepareCase = Callable[[Session, datetime], Opening]


@dataclass(frozen=True)
class CaseOf:
    """A step's case found by a sub-query for its id inside the step's own query for the case
    (one statement fewer in every completion), and ``missing(session)``, which raises why when
    there is none (the task was done already, or is not the viewer's to see).

    ``case_id`` names its row by the bound parameter ``of`` (given as ``of``): it is built
    once, at import, like the step's query around it (``_case_query``)."""

    case_id: ScalarSelect[int]
    of: object
    missing: Callable[[Session], None]


@lru_cache(maxsize=64)
def _case_query(case_id: ScalarSelect[int] | None, for_update: bool) -> Select[Case]:
    """The step's query for its case with its state (by the parameter ``case_id``, or a
    ``CaseOf`` sub-query), built once: building it cost more than running it."""
    query = (select(Case).where(Case.id == (bindparam("case_id") if case_id is None else case_id))
             .options(undefer(Case.state)))
    # Not its version's row: what the step needs of it is cached by id (an act that reads
    # ``case.definition`` loads it then).
    return query.with_for_update(of=Case) if for_update else query  # serialize writers of this case


class CaseWriter:
    """Opens ``CaseStep``s and commits them. One per engine; holds no per-case state."""

    def __init__(self, db: Database, clock: Clock, specs: SpecCache, script_engine: PythonScriptEngine,
                 wake: wakeup.Wakeup | None = None) -> None:
        self.db, self.clock, self.specs, self.script_engine = db, clock, specs, script_engine
        self.wakeup = wake or wakeup.Wakeup()

    def load_workflow(self, case: Case, version: Runnable | None = None) -> BpmnWorkflow:
        """The case's workflow, on ``version`` when the caller has it (a step), else its own."""
        spec, subs = (version.spec, version.subprocess_specs) if version else self.specs.get(case.definition)
        return spiff.load_state(case.state, spec, subs, self.script_engine)

    def new_workflow(self, version: DefinitionVersion, start_data: dict) -> BpmnWorkflow:
        """A case's workflow as it starts (also used to re-execute its history)."""
        spec, subs = self.specs.get(version)
        workflow = BpmnWorkflow(spec, subs, script_engine=self.script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(start_data)
        return workflow

    def open(self, actor: Actor, prepare: PrepareCase, act: CaseAct) -> Case:
        """Start a case of any kind, in one transaction: ``prepare(session, now)`` builds it,
        its workflow starts from the version with the start data, ``act(step)`` records the
        opening (and adds rows that need the case's id), and the step is finished like any
        other step."""
        with self.db.writing() as session, self.clock.pinned(self.clock.now()) as now:
            opening = prepare(session, now)
            case = opening.case
            case.definition = opening.version
            session.add(case)
            session.flush()
            meta = self.specs.runnable(session, opening.version.id).meta  # and the spec, cached
            workflow = self.new_workflow(opening.version, opening.start_data)
            step = CaseStep(session, case, workflow, actor, now, meta, Snapshot(), new=True)
            with school_calendar(session, case.school_id), diagram_errors():
                act(step)
                self.finish(step)
        return case

    def step(self, target: int | CaseOf, actor: Actor, act: CaseAct) -> Case:
        """Run ``act(step)`` on the case and commit everything it caused, or nothing. ``target`` is
        the case's id, or ``CaseOf`` a row of it (a task, a measure)."""
        try:
            with self.db.writing() as session:
                if isinstance(target, CaseOf):
                    query, params = _case_query(target.case_id, not self.db.is_sqlite), {"of": target.of}
                else:
                    query, params = _case_query(None, not self.db.is_sqlite), {"case_id": target}
                case = session.scalars(query, params).first()
                if case is None:
                    if isinstance(target, CaseOf):
                        target.missing(session)
                    raise NotFound(Message("Saken finnes ikke."))
                # The whole step at one moment: what it records and the timers it counts from it.
                with school_calendar(session, case.school_id), diagram_errors(), \
                        self.clock.pinned(self.clock.now()) as now:
                    version = self.specs.runnable(session, case.definition_id)
                    workflow = self.load_workflow(case, version)
                    step = CaseStep(session, case, workflow, actor, now, version.meta,
                                    snapshot(workflow, version.meta))
                    act(step)
                    self.finish(step)
                    for check in step.checks:
                        check(step)
        except StaleDataError as err:
            metrics.step_failed("conflict")
            raise Conflict(Message("Saken ble endret av noen andre samtidig. Ingenting ble lagret; last siden på nytt.")) from err
        except Exception as err:
            metrics.step_failed("diagram" if isinstance(err, DiagramFailed) else
                                "conflict" if isinstance(err, Conflict) else
                                "refused" if isinstance(err, Kap12Error) else "error")
            raise
        return case

    def finish(self, step: CaseStep) -> None:
        """Run the engine until it waits, then write state, projections and history."""
        wf, case, session = step.workflow, step.case, step.session
        after = run_until_waiting(step)
        if not after.completed and not after.tasks and not after.timers:
            # A diagram that lets a case run on to nothing (a loop of gateways, a flow that never
            # matches): an open case with no task and no deadline, which nobody would ever see
            # again. Refused like any failure of the diagram's own making, so the reporter is
            # told to go to the leadership in person and the process owner can mend it.
            raise DiagramFailed(_last_reached(wf), STOOD_STILL)
        for then in step.afterwards:
            then(step)
        case.state = spiff.dump_state(wf)
        case.updated_at = step.now
        self._summarize(case, after, step.now)
        if case.owner_notified_at is None and owner_told(step, after):
            case.owner_notified_at = step.now
        # The history first: it moves the chain head on the case row, so the case is updated
        # once, by the first flush below, and not a second time at the end.
        events = []
        for kind, data in step.events:
            actor = Actor.system() if kind in history.TIMER_EVENTS else step.actor
            events.append(history.NewEvent(kind, step.now, actor.id, actor.name, data, case.definition_id))
        history.append_all(session, history.case_chain(case.id), events, case_id=case.id)
        step.wrote_timer = wakeup.worth_waking(projection_rows.write(session, case, after, step.new), step.now)
        if step.wrote_timer:
            wakeup.announce(session, self.db.is_sqlite)
        notify.plan(session, case, step.events, step.now, step.actor.id)
        event.listen(session, "after_commit", lambda _session: self._committed(step), once=True)
        session.flush()

    def _committed(self, step: CaseStep) -> None:
        metrics.step_done(time.perf_counter() - step.started, step.events)
        if step.wrote_timer:
            self.wakeup.notify()  # a sweeper in this process; others heard NOTIFY at commit

    @staticmethod
    def _summarize(case: Case, after: Snapshot, now: datetime) -> None:
        if after.procedure:
            case.procedure = after.procedure
        deadlines = [t.due_at for t in after.tasks if t.due_at] + [t.due_at for t in after.timers if "frist" in t.kinds]
        case.next_deadline = min(deadlines) if deadlines else None
        if after.completed:
            case.status, case.stage, case.stage_code, case.closed_at = "closed", CLOSED_STAGE, "avsluttet", now
            return
        case.stage_code = stage_of([(t.element_id, t.title) for t in after.tasks],
                                   [(t.element_id, t.name) for t in after.timers])
        if after.tasks:
            case.stage = open_tasks_stage(t.title for t in after.tasks)
        elif after.timers:
            case.stage = waiting_stage(min(after.timers, key=lambda t: t.due_at).name)

def record_changes(step: CaseStep, after: Snapshot) -> None:
    """The events a step caused, from the snapshots before and after it: timers fired (with
    deadlines missed, reminders, escalations), tasks cancelled and opened, the case closed.
    Element ids repeat across diagrams, so each event also names its process."""
    for timer_id, timer in after.fired.items():
        if timer_id in step.before.fired:
            continue
        data = {"timer": timer.name, "element": timer.element_id, "process_id": timer.process_id,
                "kinds": list(timer.kinds),
                "due_at": timer.due_at.isoformat(), "fired_at": step.now.isoformat(),
                "late_by_seconds": seconds_late(timer.due_at, step.now)}
        step.record(TIMER_FIRED, **data)
        if "frist" in timer.kinds:
            step.record(DEADLINE_MISSED, timer=timer.name, element=timer.element_id,
                        process_id=timer.process_id, due_at=timer.due_at.isoformat(), task_id=timer.attached_to)
        if "paminnelse" in timer.kinds:
            step.record(REMINDER, timer=timer.name, element=timer.element_id, task_id=timer.attached_to)
        if "eskalering" in timer.kinds:
            step.case.escalated = True
            step.record(ESCALATED, timer=timer.name, element=timer.element_id,
                        recipient_role=timer.recipient, task_id=timer.attached_to)
    before_tasks = {t.id: t for t in step.before.tasks}
    after_tasks = {t.id: t for t in after.tasks}
    completed = {kind_data.get("task_id") for kind, kind_data in step.events if kind == TASK_COMPLETED}
    for task_id, task in before_tasks.items():
        if task_id not in after_tasks and task_id not in completed:
            step.record(TASK_CANCELLED, task_id=task_id, element=task.element_id, process_id=task.process_id,
                        title=task.title)
    for task_id, task in after_tasks.items():
        if task_id not in before_tasks:
            step.record(TASK_OPENED, task_id=task_id, element=task.element_id, process_id=task.process_id,
                        title=task.title,
                        form=task.form_key, lane=task.lane, roles=list(task.roles),
                        due_at=task.due_at.isoformat() if task.due_at else None)
    if after.completed and not step.before.completed:
        step.record(CASE_CLOSED)


class Host(Protocol):
    """What an act on a case needs of the engine (``engine.service.Kap12`` is one), named here
    so that the write room never imports the facade built on it."""

    db: Database
    clock: Clock
    writer: CaseWriter
    forms: FormCatalog


def owner_told(step: CaseStep, after: Snapshot) -> bool:
    """Did this step tell the school owner of the case? Rektor's notice was completed, a task
    opened in the owner's lane (the report itself in C, an acknowledgement in B), or a deadline
    escalated to the owner. The one rule behind ``Case.owner_notified_at``, for every procedure.

    Whatever opened it, a case with a task open in the owner's lane after the step has been told
    (a task whose lane changed in a version migration too): the access policy counts on it —
    the owner's tasks add no case to what the owner's role reaches (``access._task_ids``)."""
    if any(OWNER_ROLE in t.roles for t in after.tasks):
        return True
    before = {t.id: t.form_key for t in step.before.tasks}
    for kind, data in step.events:
        if kind == TASK_COMPLETED and before.get(str(data.get("task_id"))) in OWNER_NOTICE_FORMS:
            return True
        if kind == TASK_OPENED and OWNER_ROLE in data.get("roles", ()):
            return True
        if kind == ESCALATED and data.get("recipient_role") == OWNER_ROLE:
            return True
    return False


@contextmanager
def diagram_errors() -> Iterator[None]:
    """SpiffWorkflow's errors inside a step, as the engine's own: a task gone meanwhile is a
    stale page; anything else is the diagram's code failing (an expression the sandbox stopped,
    a variable it lacks), which the user cannot mend — say where, and who can."""
    try:
        yield
    except TaskNotFoundException as err:
        raise Conflict(Message("Oppgaven er ikke lenger åpen. Ingenting ble endret.")) from err
    except WorkflowException as err:
        spec = err.task.task_spec if getattr(err, "task", None) is not None else err.task_spec
        element = getattr(spec, "bpmn_name", None) or getattr(spec, "name", None) or "ukjent steg"
        refused = next((cause for cause in _causes(err) if isinstance(cause, sandbox.SandboxError)), None)
        log.error("diagram code failed at %s: %s", element, err, exc_info=err)
        raise DiagramFailed(element, reason(refused) if refused else None) from err


def _causes(err: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = err
    while seen is not None:
        yield seen
        wrapped = getattr(seen, "exception", None)  # SpiffWorkflow keeps the original here
        if isinstance(wrapped, BaseException):
            yield wrapped
        seen = seen.__cause__ or seen.__context__


STOOD_STILL = Message("saken ville blitt stående uten noen åpen oppgave eller frist, og ingen ville fått den")


def _last_reached(workflow: BpmnWorkflow) -> str:
    """The name of the element the case reached last, where a process owner starts looking: the
    newest one waiting (for a message nothing sends, a join a branch never reaches), else the
    newest one done."""
    def newest(state: TaskState) -> list:
        return sorted((t for t in workflow.get_tasks(state=state) if t.task_spec.bpmn_id),
                      key=lambda t: t.last_state_change)
    reached = newest(TaskState.WAITING) or newest(TaskState.COMPLETED)
    if not reached:
        return "start"
    spec = reached[-1].task_spec
    return spec.bpmn_name or spec.bpmn_id


def run_until_waiting(step: CaseStep,
                      before_compaction: Callable[[BpmnWorkflow], None] | None = None) -> Snapshot:
    """What every step does to the workflow, written or not (the write path and re-execution
    both call this): refresh timers, run the engine until it waits, record what changed, and
    drop finished tasks nothing can reach any more."""
    wf = step.workflow
    wf.refresh_timers()
    wf.do_engine_steps()
    after = snapshot(wf, step.meta)
    record_changes(step, after)
    if before_compaction is not None:
        before_compaction(wf)
    compact(wf)  # after reading what changed: it only drops finished tasks
    return after
