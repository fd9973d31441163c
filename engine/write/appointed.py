"""Notices written at an appointed time, once: the weekly lederforum notice (Monday 07:00) and the
daily notice of tasks past their deadline (08:00 on the county's working days).

The sweeper asks every round. One sweeper writes them under the system lock; another that finds
the lock taken goes on firing timers and looks again next round, when it sees what the first one
wrote (queued behind it, it fired none while the notices of a county were gathered). A sweeper
that was down at the appointed time writes them when it is back. A process remembers the periods
it has already seen written, so most rounds ask nothing of the database."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.store import history
from engine.store.models import Notification
from engine.write.unit_of_work import Host

# (database, kind, period) this process has seen written: skip the query.
_done: set[tuple[str, str, str]] = set()


def send_once(kap12: Host, kind: str, start: datetime | None, write: Callable[[Session], list[Notification]],
              wait: bool = False) -> int:
    """The notices of ``kind`` for the period that began at ``start`` (None: no such period
    today), made by ``write`` if the time has come and none of them is written yet; how many.
    Unless ``wait`` (one round on its own, ``kap12 timers --once``, which has nothing else to
    do and may not run again that day), none while another holds the system lock."""
    now = kap12.clock.now()
    if start is None or now < start:
        return 0
    key = (str(kap12.db.engine.url), kind, start.isoformat())
    if key in _done:
        return 0
    with kap12.db.writing() as session:
        if not history.take_system_chain(session, wait):
            return 0  # another sweeper writing these or a checkpoint, or a deploy: the next round looks again
        already = session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.kind == kind, Notification.created_at >= start))
        notices = [] if already else write(session)
        session.add_all(notices)
    _done.add(key)
    return len(notices)
