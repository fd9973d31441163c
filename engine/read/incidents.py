"""Drift's list of incidents: timers that failed too often to be retried by themselves, shown
until someone resolves them (``engine.write.timers.resolve_incident``), a page at a time, those
that should have fired first. A diagram's fault can fail the same timer in every case that
reaches it; the list is read from an index of the failed timers alone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from engine.read import paging
from engine.store.models import Case, PendingTimer

INCIDENT_ORDER = (paging.Key(PendingTimer.due_at), paging.Key(PendingTimer.id))


@dataclass(frozen=True)
class Incident:
    id: str
    case_id: int
    case_number: str
    name: str
    due_at: datetime
    attempts: int
    last_error: str | None


def incident_page(session: Session, within: ColumnElement[bool], cursor: str | None = None,
                  limit: int | None = None) -> paging.Page[Incident]:
    """The incidents of the cases ``within`` (the viewer's, ``access.operated``)."""
    query = (select(PendingTimer, Case.number).join(Case, Case.id == PendingTimer.case_id)
             .where(PendingTimer.failed(), within))
    page = paging.fetch(session, query, INCIDENT_ORDER, cursor, limit, lambda row: (row[0].due_at, row[0].id))
    return paging.Page([Incident(t.id, t.case_id, number, t.name, t.due_at, t.attempts, t.last_error)
                        for t, number in page.items], page.next_cursor)
