"""The working-day calendar of the school whose case is being advanced.

Deadline helpers in BPMN expressions count working days; a school's own holidays
(SchoolClosure rows) count as closed days too. The write path sets the case's school calendar
for the duration of a step, and the helpers read it when they are called."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import select

from engine.store.models import SchoolClosure
from processes.deadlines import Calendar

_current: ContextVar[Calendar | None] = ContextVar("kap12_school_calendar", default=None)


def current() -> Calendar | None:
    return _current.get()


def closures(session, school_id: int) -> list[SchoolClosure]:
    return list(session.scalars(select(SchoolClosure).where(SchoolClosure.school_id == school_id)))


def calendar_as_of(rows: list[SchoolClosure], when=None) -> Calendar:
    """The calendar from closures entered before ``when`` (all of them when None): a closure
    entered later must not move a deadline that was set before it, not even on re-execution."""
    return Calendar.from_periods([(r.first_day, r.last_day) for r in rows
                                  if when is None or r.created_at is None or r.created_at <= when])


@contextmanager
def using_calendar(calendar: Calendar):
    token = _current.set(calendar)
    try:
        yield
    finally:
        _current.reset(token)


def calendar_for(session, school_id: int) -> Calendar:
    return calendar_as_of(closures(session, school_id))


@contextmanager
def school_calendar(session, school_id: int):
    with using_calendar(calendar_for(session, school_id)):
        yield


def add_closure(session, school_id: int, first_day, last_day, name: str = "", now=None) -> SchoolClosure:
    if last_day < first_day:
        from engine.errors import InvalidInput

        raise InvalidInput("Perioden slutter før den begynner.", {"last_day": ["Velg en sluttdato etter startdatoen."]})
    from engine.runtime.clock import active_clock

    row = SchoolClosure(school_id=school_id, first_day=first_day, last_day=last_day, name=name,
                        created_at=now or active_clock().now())
    session.add(row)
    session.flush()
    return row
