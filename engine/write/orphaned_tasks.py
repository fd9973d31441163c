"""What follows for the cases when the directory changes (``staff_directory``): tasks taken by
someone who may no longer do them, given back to their role, and a school's open tasks that
nobody active may take any more.

A taken (claimed) task is hidden from the others with the role until it is let go. A person who
leaves, or loses the role, would take it with them, and the case would stop with nobody seeing
it while its deadlines run. Such a task is let go through the write path, in a step of its case
recorded in the case's history, and the role's holders see it again."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, aliased

from engine import access
from engine.errors import Conflict
from engine.store.events import TASK_RELEASED
from engine.store.models import Case, County, OpenTask, OpenTaskRole, RoleGrant, School, User
from engine.write.unit_of_work import Actor, CaseStep

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

# Why a task was let go, as its history event says (``webui/present.py`` words it).
RELEASED_BY_DIRECTORY = "directory"


@dataclass(frozen=True)
class LetGo:
    """A task taken by someone who may no longer do it, given back to its role."""

    case_number: str
    title: str
    username: str


@dataclass(frozen=True)
class Unstaffed:
    """Open tasks at a school for a role that nobody active holds there any more."""

    school: str
    roles: tuple[str, ...]  # the tasks' roles (codes: the pages name them in the reader's language)
    tasks: int


def let_go(kap12: Kap12, task_id: str, case_id: int, user_id: int, actor: str) -> LetGo | None:
    """Give the task back to its role in a step of its case, if its taker still may not do it."""
    done: list[LetGo] = []

    def act(step: CaseStep) -> None:
        row = step.session.get(OpenTask, task_id)
        user = step.session.get(User, user_id)
        if row is None or user is None or row.assignee_id != user_id or _keeps(step.session, user, task_id):
            return
        row.assignee_id = None
        step.record(TASK_RELEASED, task_id=task_id, element=row.element_id, title=row.title,
                    released_from=user.display_name, reason=RELEASED_BY_DIRECTORY)
        done.append(LetGo(step.case.number, row.title, user.username))

    try:
        kap12.writer.step(case_id, Actor.system(actor), act)
    except Conflict:  # someone acted on the case meanwhile: once more, as it is now
        kap12.writer.step(case_id, Actor.system(actor), act)
    return done[0] if done else None


def _keeps(session: Session, user: User, task_id: str) -> bool:
    return user.active and access.keeps_task(session, access.Viewer.of(user), task_id)


def tasks_to_let_go(session: Session, user_ids: list[int], county: str | None = None) -> list[tuple[OpenTask, Case, User]]:
    """The open tasks taken by these people, or (``county``) by anyone in the county's cases, that
    their takers may no longer do. The whole county at every import: a task that an earlier run
    did not get to let go (it stopped after its commit) is let go by the next."""
    taken_by: ColumnElement[bool] = OpenTask.assignee_id.in_(user_ids)
    if county is not None:
        taken_by = or_(taken_by, Case.county_id.in_(select(County.id).where(County.name == county)))
    rows = session.execute(select(OpenTask, Case, User).join(Case, Case.id == OpenTask.case_id)
                           .join(User, User.id == OpenTask.assignee_id)
                           .where(taken_by).order_by(Case.id, OpenTask.id)).all()
    for user in {user.id: user for _task, _case, user in rows}.values():
        session.refresh(user, ["grants"])  # as this transaction left them
    return [(task, case, user) for task, case, user in rows if not _keeps(session, user, task.id)]


def unstaffed(session: Session, county_name: str) -> list[Unstaffed]:
    """Each school's open tasks that no active person may take: none holds any of the task's
    roles at its school (or, for a county role, in its county)."""
    role = aliased(OpenTaskRole)
    held = exists().where(role.task_id == OpenTask.id, RoleGrant.role == role.role, User.id == RoleGrant.user_id,
                          User.active.is_(True),
                          or_(RoleGrant.school_id == role.school_id, RoleGrant.county_id == role.county_id))
    rows = session.execute(select(School.name, OpenTask.id, OpenTaskRole.role)
                           .join(Case, Case.id == OpenTask.case_id).join(School, School.id == Case.school_id)
                           .join(County, County.id == School.county_id)
                           .join(OpenTaskRole, OpenTaskRole.task_id == OpenTask.id)
                           .where(County.name == county_name, ~held)).all()
    tasks: dict[str, set[str]] = {}
    roles: dict[str, set[str]] = {}
    for school, task_id, role_code in rows:
        tasks.setdefault(school, set()).add(task_id)
        roles.setdefault(school, set()).add(role_code)
    return [Unstaffed(school, tuple(sorted(roles[school])), len(ids))
            for school, ids in sorted(tasks.items())]
