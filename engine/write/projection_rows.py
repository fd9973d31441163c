"""The open-task, role and timer rows of a case, written at the end of every step (DESIGN.md
rule 3) from the snapshot of its workflow; and, when the step closes the case, its measures
retired from the plan they belong to (below, ``RETIRE_MEASURES``).

The step compares what its case's rows hold with the snapshot and writes only the difference, as
statements on the tables rather than ORM objects: the rows belong to the projection alone (the one
change an act makes to them, a claim's assignee, is flushed first), and loading them as objects,
diffing their collections and flushing them was about 2 ms of a 10 ms step — a fifth of what
kap12 adds to SpiffWorkflow's own work. Objects of these rows the step's session loaded before
(the task being completed, with its roles) are let go afterwards, so that a check later in the
step (``parties.ensure_workable``) or the notices read the rows as written."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from engine.store.models import Case, Measure, OpenTask, OpenTaskRole, PendingTimer
from engine.write import task_roles
from engine.write.projection import Snapshot, TaskView, TimerView

TASKS, ROLES, TIMERS, MEASURES = (cast(Table, model.__table__)
                                  for model in (OpenTask, OpenTaskRole, PendingTimer, Measure))
# What the snapshot says of a task; the rest of its row is its case's, or when it opened.
TASK_VALUES = ("element_id", "title", "form_key", "lane", "due_at")

# Every statement a step sends here, built once with its values as bound parameters: building
# a statement (and its cache key) cost several times what running it on SQLite does.
_HELD_TASKS = (select(*(TASKS.c[name] for name in ("id", *TASK_VALUES, "opened_at")),
                      *(ROLES.c[name].label(f"role_{name}") for name in task_roles.ROLE_VALUES))
               .select_from(TASKS.outerjoin(ROLES, ROLES.c.task_id == TASKS.c.id))
               .where(TASKS.c.case_id == bindparam("case_id")))
_HELD_TIMERS = select(TIMERS.c.id, TIMERS.c.due_at).where(TIMERS.c.case_id == bindparam("case_id"))
_UPDATE_TASK = update(TASKS).where(TASKS.c.id == bindparam("task_id"))  # the values are the parameters'
_DELETE_TASKS = delete(TASKS).where(TASKS.c.id.in_(bindparam("ids", expanding=True)))
_DELETE_ROLES = delete(ROLES).where(ROLES.c.task_id.in_(bindparam("ids", expanding=True)))
_DELETE_TIMERS = delete(TIMERS).where(TIMERS.c.id.in_(bindparam("ids", expanding=True)))
_MOVE_TIMER = update(TIMERS).where(TIMERS.c.id == bindparam("timer_id")).values(due_at=bindparam("due"))
_INSERT_TASKS, _INSERT_ROLES, _INSERT_TIMERS = insert(TASKS), insert(ROLES), insert(TIMERS)
# A closed case has no current plan: nobody carries out its measures any more. Retired when it
# closes, a person's «Mine tiltak» (and its count on Mine oppgaver) finds their measures by the
# index on (responsible, current) alone, instead of reading every measure they ever had and
# dropping those of closed cases. (A reclassification retires them too: ``measures.retire_all``.)
RETIRE_MEASURES = (update(MEASURES).where(MEASURES.c.case_id == bindparam("retired_case"), MEASURES.c.current.is_(True))
                   .values(current=False))


def write(session: Session, case: Case, after: Snapshot, new: bool = False) -> datetime | None:
    """Write the case's rows as ``after`` leaves them; the soonest due time of a timer row added
    or moved (None: none was). ``new``: the case was made in this step, so it has no rows to read
    first (these rows are written here alone): a report sends two statements fewer."""
    session.flush()  # the act's own changes through the ORM first (a claim's assignee)
    connection = session.connection()
    _write_tasks(connection, case, after.tasks, new)
    soonest = _write_timers(connection, case, after.timers, new)
    if after.completed:
        connection.execute(RETIRE_MEASURES, {"retired_case": case.id})
    for row in [row for row in session.identity_map.values()
                if isinstance(row, (OpenTask, PendingTimer)) and row.case_id == case.id]:
        session.expunge(row)  # an OpenTask's roles go with it
    return soonest


def _held_tasks(connection: Connection, case_id: int) -> tuple[dict[str, Any], dict[str, set[tuple[Any, ...]]]]:
    """The case's task rows (by id) and each task's role rows, read in one statement."""
    tasks: dict[str, Any] = {}
    roles: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    for row in connection.execute(_HELD_TASKS, {"case_id": case_id}):
        tasks[row.id] = row
        if row.role_role is not None:
            roles[row.id].add(tuple(row._mapping[f"role_{name}"] for name in task_roles.ROLE_VALUES))
    return tasks, roles


def _write_tasks(connection: Connection, case: Case, views: list[TaskView], new: bool) -> None:
    held, held_roles = ({}, {}) if new else _held_tasks(connection, case.id)
    wanted = {view.id for view in views}
    new_tasks: list[dict[str, Any]] = []
    new_roles: list[dict[str, Any]] = []
    reroled: list[str] = []  # kept tasks whose role rows are written again
    for view in views:
        values = {name: getattr(view, name) for name in TASK_VALUES}
        row = held.get(view.id)
        if row is None:
            opened_at = case.updated_at
            new_tasks.append({"id": view.id, "case_id": case.id, "opened_at": opened_at, "assignee_id": None,
                              **values})
        else:
            opened_at = row.opened_at
            if tuple(row._mapping[name] for name in TASK_VALUES) != tuple(values.values()):
                connection.execute(_UPDATE_TASK, {"task_id": view.id, **values})
        roles = task_roles.role_rows(case, view.id, view.due_at, opened_at, view.roles)
        if row is not None:
            if held_roles.get(view.id, set()) == {tuple(role.values()) for role in roles}:
                continue
            reroled.append(view.id)
        new_roles.extend(roles)
    gone = [task_id for task_id in held if task_id not in wanted]
    if gone:  # their role rows with them (the foreign key cascades)
        connection.execute(_DELETE_TASKS, {"ids": gone})
    if reroled:
        connection.execute(_DELETE_ROLES, {"ids": reroled})
    if new_tasks:
        connection.execute(_INSERT_TASKS, new_tasks)
    if new_roles:
        connection.execute(_INSERT_ROLES, new_roles)


def _write_timers(connection: Connection, case: Case, views: list[TimerView], new: bool) -> datetime | None:
    held = {} if new else dict(connection.execute(_HELD_TIMERS, {"case_id": case.id}).all())
    wanted = {view.id for view in views}
    gone = [timer_id for timer_id in held if timer_id not in wanted]
    if gone:
        connection.execute(_DELETE_TIMERS, {"ids": gone})
    added = [view for view in views if view.id not in held]
    if added:
        connection.execute(_INSERT_TIMERS, [
            {"id": view.id, "case_id": case.id, "element_id": view.element_id, "name": view.name,
             "kind": ",".join(view.kinds), "due_at": view.due_at, "claimed_until": None, "attempts": 0,
             "last_error": None} for view in added])
    moved = [view for view in views if view.id in held and held[view.id] != view.due_at]
    if moved:  # a lease or back-off on them stays as it was
        connection.execute(_MOVE_TIMER, [{"timer_id": view.id, "due": view.due_at} for view in moved])
    return min((view.due_at for view in (*added, *moved)), default=None)
