"""Moving running cases to a newer version of their process (DESIGN.md rule 2: a case stays on
its version unless it is explicitly migrated, as a logged act).

``plan`` says, before anything changes, whether a case can be moved safely and what would
happen: a case is safe when nothing it has completed or started has changed or been removed in
the new version. Open tasks whose element changed are reset (they open again on the new
element, the same task), waiting timers whose element changed are recreated (their due time is
computed again from now). Everything else keeps its state; a deadline that did not change keeps
its due time.

``migrate`` does it through the one write path (``CaseWriter.step``) using SpiffWorkflow's
``diff_workflow`` for the alignment and, for the swap, the steps of its ``migrate_workflow``
with the reset limited to changed tasks (``migrate_workflow`` resets every ready and waiting
task, which would restart every running deadline)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from engine import access
from engine.errors import Denied, InvalidInput, NotFound
from engine.runtime import spiff
from engine.runtime.calendars import school_calendar
from engine.store import case_tallies
from engine.store.events import MIGRATED
from engine.store.models import Case, CaseTally, DefinitionVersion, User
from engine.versions.definitions import CASE_PROCESS
from engine.write.projection import is_timer, timer_due
from engine.write.unit_of_work import Actor, CaseStep
from processes import messages
from processes.messages import Message
from processes.roles import PROCEDURE_PROCESSES

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

OPEN = TaskState.READY | TaskState.WAITING
DONE_OR_STARTED = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR | TaskState.CANCELLED


@dataclass
class MigrationPlan:
    case_id: int
    number: str
    from_version: int
    to_version: int
    safe: bool
    problems: list[str] = field(default_factory=list)    # why it is not safe, one sentence each
    reset_tasks: list[str] = field(default_factory=list)  # open tasks that open again on the new element
    recreated_timers: list[str] = field(default_factory=list)
    unchanged: bool = False  # already on the target version


@dataclass(frozen=True)
class VersionRow:
    """A deployed version with who deployed it and the cases on it."""

    id: int
    process_id: str
    name: str
    version: int
    content_hash: str
    deployed_by: str
    deployed_at: object
    comment: str
    open_cases: int
    closed_cases: int


Specs = dict[str, BpmnProcessSpec]
# A workflow or subprocess, the spec it moves to, and how the two differ (None: its process is gone).
Pair = tuple[BpmnWorkflow, BpmnProcessSpec | None, WorkflowDiff | None]


def _label(task: Task) -> str:
    spec = task.task_spec
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name
    return f"«{name}» ({task.workflow.spec.name})"


def _pairs(workflow: BpmnWorkflow, spec: BpmnProcessSpec, subs: Specs) -> list[Pair]:
    """(workflow, new spec, WorkflowDiff) for the case workflow and each of its subprocesses;
    a subprocess whose process is gone from the new version gets None."""
    registry = spiff.SERIALIZER.registry
    pairs: list[Pair] = [(workflow, spec, WorkflowDiff(workflow, SpecDiff(registry, workflow.spec, spec)))]
    for sp in workflow.subprocesses.values():
        new = spec if sp.spec.name == spec.name else subs.get(sp.spec.name)
        pairs.append((sp, new, WorkflowDiff(sp, SpecDiff(registry, sp.spec, new)) if new is not None else None))
    return pairs


def _assess(workflow: BpmnWorkflow, spec: BpmnProcessSpec, subs: Specs, plan: MigrationPlan) -> list[Pair]:
    """Fill ``plan`` and return the pairs to migrate."""
    pairs = _pairs(workflow, spec, subs)
    for wf, _new, diff in pairs:
        if diff is None:
            plan.problems.append(f"Prosessen «{wf.spec.name}», som saken har kjørt, finnes ikke i den nye versjonen.")
            continue
        removed = {id(t) for t in diff.removed}
        changed = {id(t) for t in diff.changed}
        for task in wf.get_tasks(skip_subprocesses=True):
            if task.task_spec.name.startswith("Root"):
                continue
            if id(task) in removed and task.has_state(DONE_OR_STARTED | OPEN):
                verb = "åpen" if task.has_state(OPEN) else "utført eller påbegynt"
                plan.problems.append(f"{_label(task)} er {verb} i saken, men er fjernet i den nye versjonen.")
            elif id(task) in changed and task.has_state(DONE_OR_STARTED):
                plan.problems.append(f"{_label(task)} er utført eller påbegynt i saken, men er endret i den nye versjonen.")
            elif id(task) in changed and task.has_state(OPEN):
                if is_timer(task) and task.has_state(TaskState.WAITING):
                    due = timer_due(task)
                    plan.recreated_timers.append(_label(task) + (f" (var {due:%d.%m.%Y %H:%M} UTC)" if due else ""))
                elif task.task_spec.manual:
                    plan.reset_tasks.append(_label(task))
    plan.safe = not plan.problems
    return pairs


def _swap(pairs: list[Pair], workflow: BpmnWorkflow, spec: BpmnProcessSpec, subs: Specs) -> list[str]:
    """Move the workflow onto the new specs; reset open tasks whose element changed."""
    reset: list[str] = []
    for wf, new, diff in pairs:
        assert diff is not None, "a plan with a process gone is refused before the move"
        changed = {id(t) for t in diff.changed}
        to_reset = [t for t in wf.get_tasks(state=OPEN, skip_subprocesses=True) if id(t) in changed]
        wf.spec = new
        for task in wf.tasks.values():
            aligned = diff.alignment.get(task)
            if aligned is not None:
                task.task_spec = aligned
        for task in to_reset:
            if task.id in wf.tasks:  # an earlier reset may have dropped it
                reset.append(_label(task))
                task.reset_branch(None)
        if wf.last_task is not None and wf.last_task.id not in wf.tasks:
            wf.last_task = None
    workflow.subprocess_specs = dict(subs)
    return reset


def move_workflow(kap12: Kap12, workflow: BpmnWorkflow, target: DefinitionVersion, plan: MigrationPlan | None = None) -> MigrationPlan:
    """Assess and, when safe, move ``workflow`` onto ``target``'s specs (the write path and the
    re-execution of a recorded migration both do exactly this). Raises InvalidInput if unsafe."""
    plan = plan or MigrationPlan(0, "", 0, target.version, False)
    spec, subs = kap12.specs.get(target)
    pairs = _assess(workflow, spec, subs, plan)
    if not plan.safe:
        raise InvalidInput("Saken kan ikke flyttes trygt: " + " ".join(plan.problems))
    plan.reset_tasks = _swap(pairs, workflow, spec, subs)
    return plan


def _target(session: Session, process_id: str, version: int) -> DefinitionVersion:
    row = session.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == process_id,
                                                          DefinitionVersion.version == version)).first()
    if row is None:
        raise NotFound(Message("Versjon %(number)s av prosessen «%(process)s» finnes ikke.", number=version,
                               process=process_id))
    return row


def plan(kap12: Kap12, case_id: int, to_version: int, process_id: str = CASE_PROCESS) -> MigrationPlan:
    """What migrating the case to ``to_version`` would do; changes nothing."""
    with kap12.db.reading() as session:
        case = session.get(Case, case_id, options=[undefer(Case.state)])
        if case is None:
            raise NotFound(Message("Saken finnes ikke."))
        target = _target(session, process_id, to_version)
        result = MigrationPlan(case.id, case.number, case.definition.version, target.version, False)
        if case.definition.process_id != process_id:
            result.problems.append(f"Saken følger prosessen «{case.definition.process_id}», ikke «{process_id}».")
            return result
        if case.status != "open":
            result.problems.append("Saken er avsluttet.")
            return result
        if case.definition_id == target.id:
            result.unchanged, result.safe = True, True
            return result
        with school_calendar(session, case.school_id):
            workflow = kap12.writer.load_workflow(case)
            spec, subs = kap12.specs.get(target)
            _assess(workflow, spec, subs, result)
        return result


def migrate(kap12: Kap12, viewer: access.Viewer, case_id: int, to_version: int, reason: str,
            process_id: str = CASE_PROCESS) -> MigrationPlan:
    """Move one case to ``to_version`` through the one write path, or refuse (nothing changes)."""
    if not access.may_deploy(viewer):
        raise Denied(Message("Bare prosesseiere og administratorer kan flytte saker til en ny versjon."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(Message("Skriv hvorfor sakene flyttes til den nye versjonen."), {"reason": ["Feltet må fylles ut."]})
    outcome: dict = {}

    def act(step: CaseStep) -> None:
        case, session = step.case, step.session
        if session.scalar(select(Case.id).where(Case.id == case.id, access.operated(viewer))) is None:
            # A process owner never touches a case outside their circle (accused, or the bypassed
            # leadership in C), nor one of another county.
            raise NotFound(Message("Saken finnes ikke."))
        target = _target(session, process_id, to_version)
        result = MigrationPlan(case.id, case.number, case.definition.version, target.version, False)
        outcome["plan"] = result
        if case.definition.process_id != process_id or case.status != "open":
            raise InvalidInput(Message("Sak %(number)s kan ikke flyttes: den er avsluttet eller følger en annen prosess.",
                                       number=case.number))
        if case.definition_id == target.id:
            result.unchanged = result.safe = True
            raise _Nothing()
        from_version = case.definition.version
        try:
            move_workflow(kap12, step.workflow, target, result)
        except InvalidInput as err:
            raise InvalidInput(Message("Sak %(number)s: %(why)s", number=case.number, why=messages.reason(err))) from err
        case.definition = target
        case.definition_id = target.id
        step.meta = target.meta
        step.record(MIGRATED, from_version=from_version, to_version=target.version,
                    process_id=process_id, reason=reason, reset_tasks=result.reset_tasks,
                    recreated_timers=result.recreated_timers)

    try:
        kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)
    except _Nothing:
        pass
    return outcome["plan"]


class _Nothing(Exception):
    """Raised inside the act to leave a case that is already on the target version untouched."""


def versions_with_cases(kap12: Kap12, viewer: access.Viewer) -> dict[str, list[VersionRow]]:
    """Every process with its versions, newest first, and the open and closed cases on each in
    the viewer's counties (another county's counts, by procedure, would say how many of its cases
    are against staff or leaders).

    A case runs on a version of ``kap12_sak``; it counts on a version of a called process when
    its version froze exactly that content of the process (and of what it calls)."""
    with kap12.db.reading() as session:
        versions = list(session.scalars(select(DefinitionVersion).order_by(
            DefinitionVersion.process_id, DefinitionVersion.version.desc())))
        deployers = {v.deployed_by_id for v in versions if v.deployed_by_id}
        users = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(deployers))).all()) \
            if deployers else {}
        # From the tallies the database keeps (a few rows per group), not from every case made.
        counts = session.execute(case_tallies.counted(
            CaseTally.definition_id, CaseTally.procedure, CaseTally.status,
            where=(CaseTally.county_id.in_(sorted(viewer.counties())),))).all()
    # A procedure's diagram counts only the cases that follow that procedure now; the routing
    # diagram and the shared follow-up count every case that runs on them.
    procedure_of = {pid: code for code, pid in PROCEDURE_PROCESSES.items()}
    per_definition: dict[tuple[int, str | None], dict[str, int]] = {}
    for definition_id, procedure, status, n in counts:
        per_definition.setdefault((definition_id, procedure), {})[status] = n
    by_id = {v.id: v for v in versions}
    result: dict[str, list[VersionRow]] = {}
    for v in versions:
        own = {pid: src["sha256"] for pid, src in v.sources.items()}
        only = procedure_of.get(v.process_id)
        open_n = closed_n = 0
        for (used_id, used_procedure), by_status in per_definition.items():
            used = by_id.get(used_id)
            if used is None or (only is not None and used_procedure != only):
                continue
            if all(used.sources.get(pid, {}).get("sha256") == sha for pid, sha in own.items()):
                open_n += by_status.get("open", 0)
                closed_n += by_status.get("closed", 0)
        result.setdefault(v.process_id, []).append(VersionRow(
            v.id, v.process_id, v.name, v.version, v.content_hash,
            users.get(v.deployed_by_id, "kap12") if v.deployed_by_id else "kap12",
            v.deployed_at, v.comment or "", open_n, closed_n))
    return result


def version(kap12: Kap12, process_id: str, number: int) -> DefinitionVersion:
    with kap12.db.reading() as session:
        return _target(session, process_id, number)


def previous(kap12: Kap12, row: DefinitionVersion) -> DefinitionVersion | None:
    with kap12.db.reading() as session:
        return session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.process_id == row.process_id, DefinitionVersion.version < row.version)
            .order_by(DefinitionVersion.version.desc()).limit(1)).first()
