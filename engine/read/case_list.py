"""The case list: one query for the pages, the API and the operator's command line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.store.models import Case, OpenTask, School


@dataclass(frozen=True)
class CaseSummary:
    id: int
    number: str
    school: str
    procedure: str
    status: str
    stage: str
    created_at: datetime
    next_deadline: datetime | None
    open_tasks: int


def case_summaries(session: Session, *, within: Select | None = None, status: str | None = None,
                   procedure: str | None = None, school: str | None = None,
                   search: str | None = None) -> list[CaseSummary]:
    """Chapter 12 cases, newest first, with their number of open tasks, filtered in the query
    itself. ``within``: the cases a viewer may see (``access.visible_cases``); None for every
    case (the command line, which runs with the database's own credentials)."""
    counts = select(OpenTask.case_id, func.count().label("n")).group_by(OpenTask.case_id).subquery()
    query = (select(Case, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.case_id == Case.id)
             .order_by(Case.created_at.desc(), Case.id.desc()))
    if within is not None:
        visible = within.subquery()
        query = query.join(visible, visible.c.id == Case.id)
    else:
        query = query.where(Case.kind == "sak")
    if status:
        query = query.where(Case.status == status)
    if procedure:
        query = query.where(Case.procedure == procedure)
    if school:
        query = query.where(Case.school_id.in_(select(School.id).where(School.name == school)))
    if search:
        query = query.where(Case.number.contains(search, autoescape=True))
    return [CaseSummary(c.id, c.number, c.school.name, c.procedure, c.status, c.stage, c.created_at,
                        c.next_deadline, n) for c, n in session.execute(query)]
