"""Values of kap12's own code in SQL — a case's status, a procedure, a party's relation, a role,
a kind of case — written into the statement as literals, not sent as parameters.

Why: psycopg prepares a statement a connection runs often, and PostgreSQL then plans it once
for any parameters (the generic plan) if that plan looks about as cheap as planning each run. A
plan made for ``status = $5`` does not know that the status is 'open', so it guesses a tenth of
a county's cases where 'open' picks a few: at 100,000 cases the generic plans of the task list,
its filter choices and the access policy looked five to seven times dearer than they are, and
PostgreSQL planned every run anew instead — 1.7 ms of planning for 0.3 ms of work in the task
list's choice of procedures, most of rektor's Mine oppgaver. With the code's values in the
text, the generic plan knows them and is chosen: rektor's Mine oppgaver spent 2.2 ms in the
database at 1,000 cases and 6.2 at 100,000 before, 1.9 and 2.3 after.

Only what the code itself says goes in this way. What a person sends (a filter, a name) stays a
parameter: a value of any other shape is refused here, so nothing typed by a user can reach the
statement's text. A literal also belongs to SQLAlchemy's cache key of the statement, so two
statements differing only in such a value are compiled apart."""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from sqlalchemy import Integer, String, literal_column
from sqlalchemy.sql.elements import ColumnElement

# The shape of every such value: 'open', 'accused', 'C', 'Å', 'avdelingsleder', 'sak'.
_SHAPE = re.compile(r"[A-Za-zÆØÅæøå0-9_]{1,40}")


def code(value: str) -> ColumnElement[str]:
    """``value`` as an SQL string literal (``'open'``)."""
    if not _SHAPE.fullmatch(value):
        raise ValueError(f"not a value of kap12's code: {value!r}")
    return literal_column(f"'{value}'", String)


def codes(values: Iterable[str]) -> list[ColumnElement[str]]:
    """Each of ``values`` as a literal, for ``column.in_(codes(...))`` (sorted: the same set is
    the same statement)."""
    return [code(value) for value in sorted(values)]


def number(value: int) -> ColumnElement[int]:
    """A count the code chose (one of its page sizes and one more, ``LIMIT 1``; a size a client
    chooses stays a parameter, see ``paging.SIZES``), written in as ``code``: a LIMIT sent as a
    parameter is taken by the generic plan as a tenth of the rows, and at 100,000 cases a school
    owner's task list then looked best as a hash join over every open task."""
    return literal_column(str(int(value)), Integer)


def chosen(value: str, values: Collection[str]) -> ColumnElement[str] | str:
    """A person's choice in a filter (a status, a procedure): as ``code`` when it is one of the
    code's ``values``; anything else as it came, sent as a parameter (and matching nothing)."""
    return code(value) if value in values else value
