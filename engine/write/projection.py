"""Derived rows (DESIGN.md rule 3): the open user tasks and the waiting timers of a case, read
from its workflow after every step so that task lists and timer sweeps never deserialize
workflows. ``snapshot`` is a pure function of the workflow, so the rows can always be rebuilt."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.runtime.clock import Clock
from processes.roles import lane_roles, recipient_role


@dataclass(frozen=True)
class TaskView:
    id: str
    element_id: str
    process_id: str
    title: str
    form_key: str
    lane: str | None
    roles: tuple[str, ...]
    due_at: datetime | None


@dataclass(frozen=True)
class TimerView:
    id: str
    element_id: str
    process_id: str
    name: str
    kinds: tuple[str, ...]
    recipient: str | None
    due_at: datetime
    attached_to: str | None  # the task id of the activity a boundary timer sits on


@dataclass
class Snapshot:
    tasks: list[TaskView] = field(default_factory=list)
    timers: list[TimerView] = field(default_factory=list)  # waiting
    fired: dict[str, TimerView] = field(default_factory=dict)  # timers that have fired, by task id
    completed: bool = False
    procedure: str | None = None  # the procedure the case follows, as the routing diagram decided


LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def element_meta(meta: dict, task: Task) -> dict:
    return meta.get(task.workflow.spec.name, {}).get("elements", {}).get(task.task_spec.bpmn_id, {})


def timer_due(task: Task) -> datetime | None:
    value = task._get_internal_data("event_value")
    if not isinstance(value, str):
        return None
    return TimerEventDefinition.get_datetime(value)


def is_timer(task: Task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def _timer_view(task: Task, meta: dict, due: datetime) -> TimerView:
    info = element_meta(meta, task)
    attached = None
    if task.parent is not None and task.parent.task_spec.name.endswith(".BoundaryEventSplit"):
        main = [c for c in task.parent.children if not is_timer(c) and c.task_spec.manual]
        attached = str(main[0].id) if main else None
    return TimerView(
        id=str(task.id), element_id=task.task_spec.bpmn_id, process_id=task.workflow.spec.name,
        name=task.task_spec.bpmn_name or task.task_spec.bpmn_id, kinds=tuple(info.get("kinds", ())),
        recipient=recipient_role(info.get("recipient"), task.data), due_at=due, attached_to=attached)


def snapshot(workflow: BpmnWorkflow, meta: dict) -> Snapshot:
    snap = Snapshot(completed=workflow.completed)
    # One walk of the task tree for both (a walk is most of a snapshot's cost): the user tasks
    # come in the order a walk for ready manual tasks alone gives, which only skips branches.
    newest: dict[bool, Task] = {}  # the newest live and finished task that carries the procedure
    for task in workflow.get_tasks():
        if "prosedyre" in task.data and task.has_state(LIVE | TaskState.COMPLETED):
            live = task.has_state(LIVE)
            if live not in newest or task.last_state_change > newest[live].last_state_change:
                newest[live] = task
        if not is_timer(task):
            if task.state == TaskState.READY and task.task_spec.manual:
                snap.tasks.append(_task_view(task, meta))
            continue
        due = timer_due(task)
        if due is None:
            continue
        if task.state == TaskState.WAITING:
            snap.timers.append(_timer_view(task, meta, due))
        elif task.has_state(TaskState.READY | TaskState.STARTED | TaskState.COMPLETED):
            # A timer that is past waiting and was not cancelled has fired. Kept so that a
            # step can tell which timers fired in it, including one that was set and fired
            # within the same step (a deadline already past when it was set).
            snap.fired[str(task.id)] = _timer_view(task, meta, due)
    # The variable ``prosedyre`` of the newest live task that carries it, else of the newest
    # finished one.
    carrier = newest.get(True) or newest.get(False)
    snap.procedure = carrier.data["prosedyre"] if carrier is not None else None
    return snap


def _task_view(task: Task, meta: dict) -> TaskView:
    spec = task.task_spec
    form = getattr(getattr(spec, "form", None), "key", None) or ""
    return TaskView(id=str(task.id), element_id=spec.bpmn_id, process_id=task.workflow.spec.name,
                    title=spec.bpmn_name or spec.bpmn_id, form_key=form, lane=spec.lane,
                    roles=lane_roles(spec.lane, task.data), due_at=deadline_of(task, meta))


def deadline_of(task: Task, meta: dict) -> datetime | None:
    """The due time of a user task: its boundary timer marked ``frist``, whether still waiting
    or already fired — an overdue task keeps showing when it was due."""
    parent = task.parent
    if parent is None or not parent.task_spec.name.endswith(".BoundaryEventSplit"):
        return None
    candidates = [timer_due(sibling) for sibling in parent.children
                  if sibling is not task and is_timer(sibling) and "frist" in element_meta(meta, sibling).get("kinds", ())]
    dues = [d for d in candidates if d is not None]
    return min(dues) if dues else None


def utcnow_from(clock: Clock) -> datetime:
    return clock.now().astimezone(timezone.utc)
