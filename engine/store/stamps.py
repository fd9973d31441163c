""""Last used" and "last seen" stamps that do not make every read a write.

A stamp is written at most once per ``EVERY``, in its own short transaction, and only when the
stored one is stale: a caller that reads with an API key or a session takes no write lock on
the other calls. The update is conditional, so workers racing to stamp the same row write once."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import InstrumentedAttribute

from engine.store.db import Database

EVERY = timedelta(minutes=1)


def is_stale(last: datetime | None, now: datetime) -> bool:
    return last is None or now - last >= EVERY


def stamp(db: Database, column: InstrumentedAttribute, row_id: int, now: datetime) -> None:
    """Set ``column`` to ``now`` on the row ``row_id`` if it is still stale there."""
    model = column.class_
    with db.writing() as session:
        session.execute(update(model).where(model.id == row_id, or_(column.is_(None), column <= now - EVERY))
                        .values({column.key: now}))
