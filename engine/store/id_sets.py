"""``id_in(column, ids)``: a column is one of the ids a sub-query finds — written for the planner.

``column IN (SELECT …)`` is what SQLite plans best. PostgreSQL plans it as a semi-join and,
once the sub-query finds a few thousand ids (a rektor's cases in a county of 100,000), hashes
them and reads the whole outer table to probe the hash: every list and count of a school
leader then costs a sequential scan of ``cases``. ``column = ANY(ARRAY(SELECT …))`` makes the
sub-query an init plan run once, and the condition an index condition on ``column``: the rows
are fetched by their ids, so the cost follows the ids found, not the table's size."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.sqltypes import NullType

_Column = ColumnElement[Any] | InstrumentedAttribute[Any]


class id_in(FunctionElement[Any]):  # noqa: N801 — used like a SQL function
    """True when ``column`` is one of the ids of ``ids`` (a one-column select of ids)."""

    # No Boolean type: SQLite would compare a boolean-typed function to 1 ("… IN (…) = 1").
    type = NullType()
    inherit_cache = True
    name = "id_in"

    def __init__(self, column: _Column, ids: Select[Any] | CompoundSelect) -> None:
        super().__init__(column, ids.scalar_subquery())


def _parts(element: id_in) -> tuple[Any, Any]:
    column, ids = element.clauses
    return column, ids


@compiles(id_in)
def _in(element: id_in, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = _parts(element)
    return compiler.process(column.in_(ids.element), **kw)


@compiles(id_in, "postgresql")
def _any_of_array(element: id_in, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = _parts(element)
    return compiler.process(column == any_(func.array(ids)), **kw)


def id_in_list(column: _Column, ids: Sequence[int], dialect: str) -> ColumnElement[bool]:
    """True when ``column`` is one of ``ids``, found earlier by the caller. On PostgreSQL one
    array written into the statement (``= ANY('{…}'::INTEGER[])``): thousands of ids as thousands
    of parameters cost more to render, send and plan than the query itself takes to run. Not one
    array parameter either: in the plan the server keeps for a prepared statement the array's
    length is unknown, so it planned a teacher's 2,500 reported cases as a few, read the whole
    case table, and compared each row with the ids one by one (the case list's school filter:
    175 ms at 100,000 cases). Written in, the server knows the ids as it plans, and looks them up
    in a hash. The statement is built and cached as before (SQLAlchemy writes the ids in after).
    On SQLite written in too, as a list: SQLite takes at most 32,766 parameters in a statement,
    and the daily notice of tasks past their deadline asks for all the county's overdue cases.

    No ids: false, which an OR of ways into a case drops. As ``= ANY('{}')`` it stayed an arm
    of the OR that only an index of ids answers, so a list that an index of its order would
    answer (rektor's cases of the school, newest first) was gathered whole and sorted instead."""
    if not ids:
        return false()
    if dialect == "postgresql":
        written = "{" + ",".join(str(int(i)) for i in ids) + "}"
        return column == any_(cast(bindparam(None, written, type_=String(), literal_execute=True), ARRAY(Integer)))
    return column.in_(bindparam(None, [int(i) for i in ids], expanding=True, literal_execute=True))


def ranges_outside(column: _Column, values: Collection[int]) -> list[ColumnElement[bool]]:
    """``column NOT IN values`` as the ranges between and around the values, each a range of an
    index on (…, ``column``) that the database walks; asked as the parts of a union, no entry of
    the values is read. As a NOT IN, each entry of the index is read and dropped: a person's rows
    of the places their roles reach, most of their rows, more with every year. NULL is in no
    range, as NOT IN does not hold for it either."""
    ordered = sorted(set(values))
    ranges = [column < ordered[0]]
    # Whole numbers: nothing lies between two neighbours (schools 4 and 5), so no range is asked.
    ranges += [and_(column > low, column < high) for low, high in pairwise(ordered) if high - low > 1]
    return ranges + [column > ordered[-1]]
