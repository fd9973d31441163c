"""Keeping a long-running case's working state small.

SpiffWorkflow keeps every task it ever created: each evaluation round of an action plan adds
a dozen tasks to the tree, so a case followed up for a school year would cost more to load
and save at every step. What happened is already recorded, with its data, in the case's
history (DESIGN.md rule 5); the workflow state only needs what can still happen.

``compact`` re-roots a task tree at the deepest finished task that every unfinished task
descends from, once the tasks above it pass a threshold. Nothing below that point — where
joins and boundary events look — is touched, and the cut is a pure function of the state,
so re-execution of the history reproduces it exactly."""
from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

THRESHOLD = 30  # finished tasks above the common ancestor before a cut is worth it


def _chain(task: Task | None) -> list[Task]:
    """The task and its ancestors, root first."""
    chain = []
    while task is not None:
        chain.append(task)
        task = task.parent
    return chain[::-1]


def _compact_one(workflow: BpmnWorkflow, threshold: int) -> int:
    live = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not live:
        return 0
    chain = _chain(live[0])
    depth = len(chain) - 1
    for task in live[1:]:
        ancestors = {t.id for t in _chain(task)}
        while chain[depth].id not in ancestors:
            depth -= 1
    while depth > 0 and not chain[depth].has_state(TaskState.FINISHED_MASK):
        depth -= 1
    if depth < threshold:
        return 0
    root = chain[depth]
    keep, stack = set(), [root]
    while stack:
        task = stack.pop()
        keep.add(task.id)
        stack.extend(task.children)
    dropped = [tid for tid in workflow.tasks if tid not in keep]
    for tid in dropped:
        del workflow.tasks[tid]
    root._parent = None
    workflow.task_tree = root
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        workflow.last_task = root
    return len(dropped)


def compact(workflow: BpmnWorkflow, threshold: int = THRESHOLD) -> int:
    """Drop finished tasks that nothing can reach any more; returns how many were dropped."""
    dropped = _compact_one(workflow, threshold)
    for sub in list(workflow.subprocesses.values()):
        dropped += _compact_one(sub, threshold)
    # A subprocess whose calling task was dropped has ended; forget it too.
    while True:
        present = set(workflow.tasks)
        for sub in workflow.subprocesses.values():
            present |= set(sub.tasks)
        orphans = [sid for sid in workflow.subprocesses if sid not in present]
        if not orphans:
            return dropped
        for sid in orphans:
            del workflow.subprocesses[sid]
