"""One case's parts as its page shows them, and the viewer's own lists: open tasks, pending
timers, the history, notices. Access is decided before these are asked (``access``)."""
from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, exists, func, select
from sqlalchemy.orm import Session

from engine import access
from engine.read import paging
from engine.store import history
from engine.store.events import CASE_READ
from engine.store.models import HistoryEvent, Notification, OpenTask, PendingTimer


def tasks_to_do(session: Session, viewer: access.Viewer) -> list[OpenTask]:
    """What the viewer may do now, the nearest deadline first, then the oldest."""
    query = access.workable_tasks(viewer).order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.opened_at)
    return list(session.scalars(query))


# Built once: every case page (and a report's receipt) asks them.
_OPEN_TASKS = select(OpenTask).where(OpenTask.case_id == bindparam("case_id")).order_by(OpenTask.opened_at)
_PENDING_TIMERS = select(PendingTimer).where(PendingTimer.case_id == bindparam("case_id")).order_by(PendingTimer.due_at)


_IN_HAND = select(exists().where(OpenTask.case_id == bindparam("case_id"))
                  | exists().where(PendingTimer.case_id == bindparam("case_id")))


def open_tasks(session: Session, case_id: int) -> list[OpenTask]:
    return list(session.scalars(_OPEN_TASKS, {"case_id": case_id}))


def in_hand(session: Session, case_id: int) -> bool:
    """Whether the open case is in the school's hands: a task is open, or it waits for a date
    the procedure set (the plan's evaluation: the measures are being carried out). Its reporter
    is told only that; loading the tasks (with their roles, a statement more) to count them was
    3% of the web workers' time under a load of reports."""
    return bool(session.scalar(_IN_HAND, {"case_id": case_id}))


def pending_timers(session: Session, case_id: int) -> list[PendingTimer]:
    return list(session.scalars(_PENDING_TIMERS, {"case_id": case_id}))


def case_history(session: Session, case_id: int, reads: bool = True) -> list[HistoryEvent]:
    """The case's events in order; without ``reads``, what happened to it (every page view is a
    read, so a much-read case would otherwise load its whole read log on every view)."""
    query = select(HistoryEvent).where(HistoryEvent.chain == history.case_chain(case_id))
    if not reads:
        query = query.where(HistoryEvent.kind != CASE_READ)
    return list(session.scalars(query.order_by(HistoryEvent.seq)))


HISTORY_ORDER = (paging.Key(HistoryEvent.seq),)
# A history page's cursor: the last event shown, and the chain's head when the first page was read.
HISTORY_CURSOR = (paging.Key(HistoryEvent.seq), paging.Key(HistoryEvent.seq))


def history_page(session: Session, case_id: int, reads: bool, cursor: str | None, limit: int | None,
                 head: int) -> paging.Page[HistoryEvent]:
    """One page of the case's events, oldest first (``case_history``), read along the chain's
    own order: a case followed up for years, and read thousands of times, is read a page at a
    time. The pages end at ``head``, the chain's last event when the first page was read (the
    reader's own read of it), carried on in the cursor: each page read is itself a read of the
    case, an event more, and a reader of the read log following pages of one event would never
    reach the end."""
    shown_to, head = paging.decode(cursor, HISTORY_CURSOR) if cursor else (0, head)
    query = select(HistoryEvent).where(HistoryEvent.chain == history.case_chain(case_id),
                                       HistoryEvent.seq > shown_to, HistoryEvent.seq <= head)
    if not reads:
        query = query.where(HistoryEvent.kind != CASE_READ)
    size = paging.clamp(limit)
    rows = list(session.scalars(paging.paged(query, HISTORY_ORDER, None, size)))
    shown = rows[:size]
    return paging.Page(shown, paging.encode([shown[-1].seq, head]) if len(rows) > size else None)


def _reads_of(case_id: int) -> tuple[ColumnElement[bool], ...]:
    return HistoryEvent.chain == history.case_chain(case_id), HistoryEvent.kind == CASE_READ


def read_count(session: Session, case_id: int) -> int:
    """How often the case was opened."""
    return session.scalar(select(func.count()).select_from(HistoryEvent).where(*_reads_of(case_id))) or 0


def case_reads(session: Session, case_id: int, limit: int) -> tuple[int, list[HistoryEvent]]:
    """How often the case was opened, and the ``limit`` latest openings, newest first."""
    latest = session.scalars(select(HistoryEvent).where(*_reads_of(case_id)).order_by(HistoryEvent.seq.desc())
                             .limit(limit))
    return read_count(session, case_id), list(latest)


def notices(session: Session, viewer: access.Viewer, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == viewer.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


NOTICE_ORDER = (paging.Key(Notification.id, descending=True),)


def notice_page(session: Session, viewer: access.Viewer, cursor: str | None = None,
                limit: int | None = None) -> paging.Page[Notification]:
    """One page of the viewer's notices, newest first."""
    page = paging.fetch(session, select(Notification).where(Notification.user_id == viewer.id), NOTICE_ORDER,
                        cursor, limit, lambda row: (row[0].id,))
    return paging.Page([row[0] for row in page.items], page.next_cursor)


# The unread notices counted on every page, up to one more than shown ("99+"): a school owner
# told of every serious case in the county has thousands, counted on every page they opened.
UNREAD_SHOWN = 99


def unread_count(session: Session, viewer: access.Viewer) -> int:
    """The viewer's unread notices, up to ``UNREAD_SHOWN + 1`` (more than shown)."""
    unread = select(Notification.id).where(Notification.user_id == viewer.id, Notification.read_at.is_(None))
    return session.scalar(select(func.count()).select_from(unread.limit(UNREAD_SHOWN + 1).subquery())) or 0
