"""Where a workflow stands in its diagrams: the elements done and the ones open now. The case
page draws it from the stored workflow, the auditors' replay after every re-executed step."""
from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

LIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING


def is_boundary(task: Task) -> bool:
    return type(task.task_spec).__name__ == "BoundaryEvent"


def visible_parent(task: Task) -> str | None:
    """The nearest ancestor that is an element of the diagram (SpiffWorkflow adds hidden ones)."""
    parent = task.parent
    while parent is not None and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


def completed_elements(wf: BpmnWorkflow) -> dict[str, set[str]]:
    """process id -> ids of its elements that are done (as far as the workflow still knows:
    compaction drops finished tasks nothing can reach any more)."""
    done: dict[str, set[str]] = {}
    for task in wf.get_tasks(state=TaskState.COMPLETED):
        if task.task_spec.bpmn_id:
            done.setdefault(task.workflow.spec.name, set()).add(task.task_spec.bpmn_id)
    return done


def active_elements(wf: BpmnWorkflow) -> dict[str, set[str]]:
    """process id -> ids of its elements open now. A waiting boundary event is a door left
    open, not work going on."""
    active: dict[str, set[str]] = {}
    for task in wf.get_tasks(state=LIVE):
        if task.task_spec.bpmn_id and not (task.has_state(TaskState.WAITING) and is_boundary(task)):
            active.setdefault(task.workflow.spec.name, set()).add(task.task_spec.bpmn_id)
    return active
