"""The order of the task lists: soonest deadline first, a task without one after every task
with one. The order key of a task is its deadline, or ``NEVER_DUE``; the role rows store it
(``due_order``) and the lists compute it for the tasks they read from ``open_tasks``."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ColumnElement, func, literal

from engine.store.models import UTCDateTime

NEVER_DUE = datetime(9999, 12, 31, tzinfo=timezone.utc)


def due_order(due_at: Any) -> ColumnElement[datetime]:
    """The order key of a deadline column (or sub-query) in SQL."""
    return func.coalesce(due_at, literal(NEVER_DUE, UTCDateTime()))
