"""A school's own settings, set by an operator on the command line: the days the school is
closed (deadlines in the school's working days skip them) and the målform of letters to
families that have not chosen one."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from engine.runtime.calendars import add_closure
from engine.store.directory import school_by_name, set_language_form

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12


def add_school_closure(kap12: Kap12, school: str, first_day: date, last_day: date,
                       name: str = "") -> tuple[date, date]:
    """Record that ``school`` is closed from ``first_day`` to ``last_day``; the period stored."""
    with kap12.db.writing() as session:
        row = add_closure(session, school_by_name(session, school).id, first_day, last_day, name,
                          now=kap12.clock.now())
        return row.first_day, row.last_day


def set_school_language_form(kap12: Kap12, school: str, language_form: str) -> None:
    with kap12.db.writing() as session:
        set_language_form(session, school_by_name(session, school), language_form)
