"""The history events the weekly overview's figures of the school year count, as conditions on
the history table: the deadlines met and missed, and the plans made.

One definition for the queries that count them (``engine/read/overview.py``) and for the partial
indexes that answer those queries (``engine/store/models.py``, migration 0016). PostgreSQL uses a
partial index only for a query whose condition contains the index's own, so the two must not be
written twice: an index whose condition drifted from the query's would be kept up on every step
and never read. With them, a county owner's year figures read a small index of the counted
events (no row of the history itself) instead of looking up each of the year's cases' events
and reading its JSON: at 100,000 cases 250 ms → 60 ms, and 130 ms → 5 ms.

``events`` is the ``HistoryEvent`` model, an alias of it, or a migration's lightweight table."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, and_, func, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from engine.store.code_values import code
from engine.store.events import DEADLINE_MISSED, TASK_COMPLETED
from processes.deadlines import LATEST_MET
from processes.measures import PLAN_FORM


def deadline_counted(events: Any) -> ColumnElement[bool]:
    """A deadline the figures count: a missed one is its own event; a met one is a step done
    with a due time, by that time."""
    due = events.data["due_at"].as_string()
    late = func.coalesce(events.data["late_by_seconds"].as_float(), 0)
    return or_(events.kind == code(DEADLINE_MISSED),
               and_(events.kind == code(TASK_COMPLETED), due.is_not(None), due != "", late <= LATEST_MET))


def plan_made(events: Any) -> ColumnElement[bool]:
    """An action plan made or revised (the form's task done)."""
    return and_(events.kind == code(TASK_COMPLETED), events.data["form"].as_string() == code(PLAN_FORM))


class _JsonText(FunctionElement[str]):
    """A text value of an event's data with its key written into the statement, the same in the
    index and in the query: SQLite matches an expression index only to the same expression, and
    SQLAlchemy sends a JSON path as a parameter."""

    type = String()
    inherit_cache = True


@compiles(_JsonText, "postgresql")
def _json_text_postgresql(element: _JsonText, compiler: Any, **kw: Any) -> str:
    column, key = element.clauses
    return f"({compiler.process(column, **kw)} ->> '{key.value}')"


@compiles(_JsonText)
def _json_text(element: _JsonText, compiler: Any, **kw: Any) -> str:
    column, key = element.clauses
    return f"json_extract({compiler.process(column, **kw)}, '$.{key.value}')"


def completed_task_id(events: Any) -> ColumnElement[str]:
    """The task a completed step did, as ``ix_history_events_completed_task`` indexes it: how a
    task that is no longer open is found (a stale link, a double click, a task done by another)."""
    return _JsonText(events.data, literal("task_id", literal_execute=True))


def task_completed(events: Any) -> ColumnElement[bool]:
    """The index's condition: only the steps done are indexed by their task."""
    return events.kind == code(TASK_COMPLETED)
