"""Every deadline of a case, met or missed and by how much, read from its history.

Statsforvaltaren's most common finding is that schools start too late; this is the list that
shows, step by step, whether this school did. It is derived from the recorded events only, so
the case page, the overview and the exports all tell the same story."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.store.events import TASK_CANCELLED, TASK_COMPLETED, TASK_OPENED
from processes.deadlines import deadline_met, seconds_late

MET, MISSED, OPEN, OVERDUE, CANCELLED = "met", "missed", "open", "overdue", "cancelled"


@dataclass(frozen=True)
class DeadlineRow:
    title: str
    opened_at: datetime
    due_at: datetime
    done_at: datetime | None
    status: str
    seconds_late: int  # > 0: late by this much; <= 0: done (or still open) this much before


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def deadlines(events, now: datetime) -> list[DeadlineRow]:
    """``events``: the case's history in order. One row per task that had a deadline."""
    opened: dict[str, tuple[str, datetime, datetime]] = {}
    rows: list[DeadlineRow] = []
    for ev in events:
        data = ev.data or {}
        if ev.kind == TASK_OPENED and data.get("due_at"):
            opened[data["task_id"]] = (data["title"], ev.at, _at(data["due_at"]))
        elif ev.kind in (TASK_COMPLETED, TASK_CANCELLED) and data.get("task_id") in opened:
            title, at, due = opened.pop(data["task_id"])
            due = _at(data.get("due_at")) or due
            late = seconds_late(due, ev.at)
            status = CANCELLED if ev.kind == TASK_CANCELLED else (MET if deadline_met(late) else MISSED)
            rows.append(DeadlineRow(title, at, due, ev.at, status, late))
    for title, at, due in opened.values():
        late = seconds_late(due, now)
        rows.append(DeadlineRow(title, at, due, None, OPEN if deadline_met(late) else OVERDUE, late))
    return sorted(rows, key=lambda r: r.due_at)
