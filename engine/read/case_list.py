"""The case list: one query for the pages, the API and the operator's command line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from engine.read import paging
from engine.store.code_values import chosen, code
from engine.store.models import Case, OpenTask, School
from processes.roles import PROCEDURE_LABELS

STATUSES = ("open", "closed")


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


# Newest first; the id makes the order total for paging.
CASE_ORDER = (paging.Key(Case.created_at, descending=True), paging.Key(Case.id, descending=True))


def narrowing(row: Any, procedure: str | None, school: str | None) -> list[ColumnElement[bool]]:
    """The lists' filters as conditions on ``row``: ``Case``, or a tally of cases (whose counts
    must be narrowed as the cases are): the procedure, and the school by its name."""
    conditions: list[ColumnElement[bool]] = []
    if procedure:
        conditions.append(row.procedure == chosen(procedure, PROCEDURE_LABELS))
    if school:
        conditions.append(row.school_id.in_(select(School.id).where(School.name == school)))
    return conditions


def _query(within: Select | None, status: str | None, procedure: str | None, school: str | None,
           search: str | None) -> Select:
    """Cases with their number of open tasks (counted for the rows shown only), filtered."""
    open_tasks = select(func.count()).where(OpenTask.case_id == Case.id).correlate(Case).scalar_subquery()
    query = (within if within is not None else select(Case).where(Case.kind == code("sak"))).add_columns(open_tasks)
    query = query.where(*narrowing(Case, procedure, school))
    if status:
        query = query.where(Case.status == chosen(status, STATUSES))
    if search:
        query = query.where(Case.number.contains(search, autoescape=True))
    return query


def _summary(case: Case, open_tasks: int) -> CaseSummary:
    return CaseSummary(case.id, case.number, case.school.name, case.procedure, case.status, case.stage,
                       case.created_at, case.next_deadline, open_tasks)


def case_summaries(session: Session, *, within: Select | None = None, status: str | None = None,
                   procedure: str | None = None, school: str | None = None,
                   search: str | None = None) -> list[CaseSummary]:
    """Chapter 12 cases, newest first, with their number of open tasks, filtered in the query
    itself. ``within``: the cases a viewer may see (``access.visible_cases``); None for every
    case (the command line, which runs with the database's own credentials)."""
    query = _query(within, status, procedure, school, search).order_by(*paging.order(CASE_ORDER))
    return [_summary(c, n) for c, n in session.execute(query)]


def status_counts(session: Session, *, within: Select | None = None, procedure: str | None = None,
                  school: str | None = None, search: str | None = None, cap: int | None = None) -> dict[str, int]:
    """How many of the filtered cases are open and closed: the list shows them beside its
    status choice, so a case that just closed is seen to be one click away. With ``cap``, each
    is counted only up to ``cap + 1`` ("more than cap"), so that the count costs the same with
    a thousand cases or a county's hundred thousand."""
    if cap is None:
        base = _query(within, None, procedure, school, search).subquery()
        rows = session.execute(select(base.c.status, func.count()).group_by(base.c.status))
        return {status: n for status, n in rows}
    counts = {}
    for status in STATUSES:
        some = _query(within, status, procedure, school, search).with_only_columns(Case.id).limit(cap + 1).subquery()
        counts[status] = session.scalar(select(func.count()).select_from(some)) or 0
    return counts


def case_summary_page(session: Session, *, within: Select | None = None, status: str | None = None,
                      procedure: str | None = None, school: str | None = None, search: str | None = None,
                      cursor: str | None = None, limit: int | None = None) -> paging.Page[CaseSummary]:
    """One page of ``case_summaries``, paged in SQL (keyset)."""
    page = paging.fetch(session, _query(within, status, procedure, school, search), CASE_ORDER, cursor, limit,
                        lambda row: (row[0].created_at, row[0].id))
    return paging.Page([_summary(c, n) for c, n in page.items], page.next_cursor)
