"""The role rows of the open tasks: each written with its task's place and order keys.

A task list is read one role and place at a time from an index of the role rows in the list's
order (``engine/access.py``), so each row carries what that index needs: the case, school and
county, the deadline (``NEVER_DUE`` for none) and when the task opened; and the case's procedure,
for the list's filter. The place never changes for a case; the rest changes only in a step, and
every step writes its case's rows again. Who may see a task is never read from these copies:
the circle is asked of the case's id (``access.workable_task_arms``). They only spare work: the
cases a person reaches through their tasks leave out the rows whose case a role of theirs reaches
anyway by the row's place and procedure (``access._task_ids``), and those cases are checked
against the roles again.

During an upgrade the release before this one still writes role rows, without those columns, until
its workers are restarted: such a row is in no index of a place, so its task would be missing from
the lists. Every sweep fills them from their tasks and cases (``fill_unplaced``); a partial index
holds just those rows, so the check costs nothing once the upgrade is over."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, ScalarSelect, exists, select, update
from sqlalchemy.orm import Session, aliased

from engine.store.db import Database
from engine.store.models import Case, OpenTask, OpenTaskRole
from engine.store.task_order import NEVER_DUE, due_order

# A role row's columns, in the order ``role_rows`` gives them.
ROLE_VALUES = ("task_id", "role", "case_id", "school_id", "county_id", "procedure", "due_order", "opened_at")


def role_rows(case: Case, task_id: str, due_at: datetime | None, opened_at: datetime,
              roles: Iterable[str]) -> list[dict[str, Any]]:
    """The task's role rows as the step leaves its case (after its procedure is settled)."""
    return [dict(zip(ROLE_VALUES, (task_id, role, case.id, case.school_id, case.county_id, case.procedure,
                                   due_at or NEVER_DUE, opened_at), strict=True))
            for role in roles]


def _unplaced() -> ColumnElement[bool]:
    return OpenTaskRole.county_id.is_(None)


def fill_unplaced(db: Database) -> int:
    """Fill the place and order of role rows an older release wrote (and of their tasks' other
    role rows); how many were written."""
    with db.reading() as session:
        if not session.scalar(select(exists().where(_unplaced()))):
            return 0
    with db.writing() as session:
        return _fill(session)


def _fill(session: Session) -> int:
    def of_task(column: str) -> ScalarSelect[Any]:
        return select(getattr(OpenTask, column)).where(OpenTask.id == OpenTaskRole.task_id).scalar_subquery()

    def of_case(column: str) -> ScalarSelect[Any]:
        return (select(getattr(Case, column)).join(OpenTask, OpenTask.case_id == Case.id)
                .where(OpenTask.id == OpenTaskRole.task_id).scalar_subquery())

    # The task's other role rows too: a role the old release added to a task whose deadline moved
    # in the same step would otherwise sit beside siblings with the old deadline, and the task
    # show twice to someone holding both roles. Two sweepers at once write the same values.
    unplaced = aliased(OpenTaskRole)
    fill = update(OpenTaskRole).where(OpenTaskRole.task_id.in_(
        select(unplaced.task_id).where(unplaced.county_id.is_(None)))).values(
        case_id=of_task("case_id"), school_id=of_case("school_id"), county_id=of_case("county_id"),
        procedure=of_case("procedure"), opened_at=of_task("opened_at"), due_order=due_order(of_task("due_at")))
    result = cast(CursorResult[Any], session.execute(fill.execution_options(synchronize_session=False)))
    return result.rowcount or 0
