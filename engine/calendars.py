"""The working-day calendar of the school whose case is being advanced.

Deadline helpers in BPMN expressions count working days; a school's own holidays
(SchoolClosure rows) count as closed days too. The write path sets the case's school calendar
for the duration of a step, and the helpers read it when they are called."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import select

from processes.deadlines import Calendar

from .models import SchoolClosure

_current: ContextVar[Calendar | None] = ContextVar("kap12_school_calendar", default=None)


def current() -> Calendar | None:
    return _current.get()


def calendar_for(session, school_id: int) -> Calendar:
    rows = session.execute(select(SchoolClosure.first_day, SchoolClosure.last_day)
                           .where(SchoolClosure.school_id == school_id)).all()
    return Calendar.from_periods([(r.first_day, r.last_day) for r in rows])


@contextmanager
def school_calendar(session, school_id: int):
    token = _current.set(calendar_for(session, school_id))
    try:
        yield
    finally:
        _current.reset(token)


def add_closure(session, school_id: int, first_day, last_day, name: str = "") -> SchoolClosure:
    if last_day < first_day:
        from .errors import InvalidInput

        raise InvalidInput("Perioden slutter før den begynner.", {"last_day": ["Velg en sluttdato etter startdatoen."]})
    row = SchoolClosure(school_id=school_id, first_day=first_day, last_day=last_day, name=name)
    session.add(row)
    session.flush()
    return row
