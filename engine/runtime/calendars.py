"""The calendars of the case being advanced.

Deadline helpers in BPMN expressions count working days. Each timer says which calendar it
counts in (``kap12.kalender``): the school's days (its own holidays, SchoolClosure rows, are
closed days too), the county's working days (weekends and public holidays only), clock hours,
or the case's calendar (the county's in B and C, the school's in A). The write path sets the
case's school calendar for the duration of a step; the script engine sets the timer's calendar
while it evaluates that timer's expression; the helpers read both when they are called."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.runtime.clock import active_clock
from engine.store.models import SchoolClosure
from processes.deadlines import (
    CALENDARS,
    CASE_CALENDAR,
    CLOCK_HOURS,
    DEFAULT_CALENDAR,
    Calendar,
    case_calendar,
)
from processes.messages import Message

# The school's calendar, or how to read it: most steps evaluate no timer in the school's days.
_current: ContextVar[Calendar | Callable[[], Calendar] | None] = ContextVar("kap12_school_calendar", default=None)
_kind: ContextVar[str] = ContextVar("kap12_timer_calendar", default=DEFAULT_CALENDAR)
T = TypeVar("T")
COUNTY = Calendar()  # the county's working days: weekends and public holidays are closed


def current() -> Calendar | None:
    """The calendar the helpers count in now: the evaluated timer's, on the case's school."""
    kind = _kind.get()
    if kind == "klokke":
        return CLOCK_HOURS
    if kind == "fylke":
        return COUNTY
    school = _current.get()
    return school() if callable(school) else school


def timer_calendar(task_spec: object, data: dict | None = None) -> str:
    """The calendar a timer's ``kap12.kalender`` names; timers deployed before the property
    existed counted in the school's days, and re-execution must count as they did. ``sak``
    is the case's calendar, by the procedure in the timer's data (``prosedyre``), which
    re-execution reads again as it was."""
    kind = (getattr(task_spec, "extensions", None) or {}).get("kap12.kalender") or DEFAULT_CALENDAR
    if kind == CASE_CALENDAR:
        return case_calendar((data or {}).get("prosedyre"))
    return kind if kind in CALENDARS else DEFAULT_CALENDAR


@contextmanager
def _set(var: ContextVar[T], value: T) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def counting_in(kind: str) -> AbstractContextManager[None]:
    """Within this block the helpers count in calendar ``kind`` (klokke, fylke or skole)."""
    return _set(_kind, kind)


# Built once: a step that counts in the school's days asks it.
_CLOSURES = select(SchoolClosure).where(SchoolClosure.school_id == bindparam("school_id"))


def closures(session: Session, school_id: int) -> list[SchoolClosure]:
    return list(session.scalars(_CLOSURES, {"school_id": school_id}))


def calendar_as_of(rows: list[SchoolClosure], when: datetime | None = None) -> Calendar:
    """The calendar from closures entered before ``when`` (all of them when None): a closure
    entered later must not move a deadline that was set before it, not even on re-execution."""
    return Calendar.from_periods([(r.first_day, r.last_day) for r in rows
                                  if when is None or r.created_at is None or r.created_at <= when])


def using_calendar(calendar: Calendar) -> AbstractContextManager[None]:
    """Within this block the school's days are those of ``calendar``."""
    return _set(_current, calendar)


def calendar_for(session: Session, school_id: int) -> Calendar:
    return calendar_as_of(closures(session, school_id))


@contextmanager
def school_calendar(session: Session, school_id: int) -> Iterator[None]:
    """Within this block the school's days are the school's: its closures are read the first
    time a helper counts in them (in the step's transaction; without flushing the step's
    changes halfway), and not at all in a step that evaluates no such timer."""
    read: list[Calendar] = []

    def calendar() -> Calendar:
        if not read:
            with session.no_autoflush:
                read.append(calendar_for(session, school_id))
        return read[0]

    with _set(_current, calendar):
        yield


def add_closure(session: Session, school_id: int, first_day: date, last_day: date, name: str = "",
                now: datetime | None = None) -> SchoolClosure:
    if last_day < first_day:
        raise InvalidInput(Message("Perioden slutter før den begynner."), {"last_day": ["Velg en sluttdato etter startdatoen."]})

    row = SchoolClosure(school_id=school_id, first_day=first_day, last_day=last_day, name=name,
                        created_at=now or active_clock().now())
    session.add(row)
    session.flush()
    return row
