"""The case list: one query for the pages, the API and the operator's command line."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union
from sqlalchemy.orm import Session

from engine.access import Part
from engine.read import paging
from engine.store.code_values import chosen, code
from engine.store.models import CASE_STATUSES, Case, OpenTask, School
from processes.roles import PROCEDURE_LABELS

STATUSES = CASE_STATUSES


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


def newest_first(created_at: Any, case_id: Any) -> tuple[paging.Key, paging.Key]:
    """The case list's order in these columns (the cases', or a part's own: ``access.Part``):
    newest first; the id makes the order total for paging."""
    return paging.Key(created_at, descending=True), paging.Key(case_id, descending=True)


CASE_ORDER = newest_first(Case.created_at, Case.id)


def narrowing(row: Any, procedure: str | None, school: str | None) -> list[ColumnElement[bool]]:
    """The lists' filters as conditions on ``row``: ``Case``, or a tally of cases (whose counts
    must be narrowed as the cases are): the procedure, and the school by its name."""
    conditions: list[ColumnElement[bool]] = []
    if procedure:
        conditions.append(row.procedure == chosen(procedure, PROCEDURE_LABELS))
    if school:
        conditions.append(row.school_id.in_(select(School.id).where(School.name == school)))
    return conditions


def _open_tasks() -> Any:
    return select(func.count()).where(OpenTask.case_id == Case.id).correlate(Case).scalar_subquery()


def _narrowed(query: Select, procedure: str | None, school: str | None, search: str | None) -> Select:
    query = query.where(*narrowing(Case, procedure, school))
    return query.where(Case.number.contains(search, autoescape=True)) if search else query


def _query(within: Select | None, status: str | None, procedure: str | None, school: str | None,
           search: str | None) -> Select:
    """Cases with their number of open tasks (counted for the rows shown only), filtered."""
    query = (within if within is not None else select(Case).where(Case.kind == code("sak"))).add_columns(_open_tasks())
    if status:
        query = query.where(Case.status == chosen(status, STATUSES))
    return _narrowed(query, procedure, school, search)


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


def case_summary_page(session: Session, parts: Sequence[Part], *, procedure: str | None = None,
                      school: str | None = None, search: str | None = None, cursor: str | None = None,
                      limit: int | None = None) -> paging.Page[CaseSummary]:
    """One page of the cases of ``parts`` (``access.visible_parts``, of the status chosen), newest
    first, with their number of open tasks, filtered and paged in SQL (keyset). Several parts
    are each paged in the order of their own index, and the page is the first rows of the
    pages found: a part's rows are not gathered whole to be sorted with the others'."""
    limit = paging.clamp(limit)
    if len(parts) == 1:  # ordered by the part's own columns, which its index holds in that order
        [part] = parts
        query = paging.paged(_narrowed(part.cases.add_columns(_open_tasks()), procedure, school, search),
                             newest_first(part.created_at, part.id), cursor, limit)
    else:
        # The ids alone: a case is one row of the page whatever moment each part gave it.
        found = union(*(select(page.c.id).select_from(page) for page in (
            paging.paged(_narrowed(part.cases, procedure, school, search)
                         .with_only_columns(part.id.label("id")),
                         newest_first(part.created_at, part.id), cursor, limit).subquery()
            for part in parts))).subquery()
        query = paging.paged(select(Case, _open_tasks()).join(found, found.c.id == Case.id), CASE_ORDER, None, limit)
    page = paging.page_of(list(session.execute(query).all()), limit, lambda row: (row[0].created_at, row[0].id))
    return paging.Page([_summary(c, n) for c, n in page.items], page.next_cursor)
