"""Keyset paging (DESIGN.md rule 10): a page is "the next ``limit`` rows after this one" in a
fixed order, asked of the database with a ``WHERE`` on the sort keys, never ``OFFSET``. A page
costs the same on page one and page one thousand, and rows added or closed meanwhile neither
repeat nor drop out of the pages that follow.

The cursor is the sort keys of the last row shown, as opaque URL-safe text. It grants nothing:
the query it continues still goes through the access policy, so a cursor made up by hand shows
at most what the viewer could see anyway."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar, Unpack

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    SmallInteger,
    UnaryExpression,
    and_,
    literal,
    or_,
)
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.store.code_values import number

T = TypeVar("T")
AnySelect = Select[Unpack[tuple[Any, ...]]]  # a query of any columns
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# The page sizes kap12 itself asks for: the pages' (50), the API's when a client names none (100),
# Ukeoversikt's first rows of every stage (25), the one task that follows a completed one (1).
# They go into the statement as numbers (``code_values.number``); a size a client chooses is a
# parameter, so that the 500 a client may choose do not become 500 statements of their own.
SIZES = frozenset({1, 25, DEFAULT_LIMIT, 100})
BAD_CURSOR = "Sidepekeren er ugyldig. Gå tilbake til første side."


@dataclass(frozen=True)
class Key:
    """One sort key: a column (or expression) and its direction. The last key must be unique
    (an id), so that the order is total and no two rows tie across a page boundary."""

    column: Any  # a mapped column or a SQL expression (ColumnElement)
    descending: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # None: this is the last page


def encode(values: Sequence[object]) -> str:
    def plain(v: object) -> object:
        return {"dt": v.isoformat()} if isinstance(v, datetime) else v

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Longer than any cursor kap12 makes (four keys, two of them moments: some 150 characters).
MAX_CURSOR = 512


def decode(cursor: str, keys: Sequence[Key]) -> list[Any]:
    """The key values in ``cursor``, each of its column's type (a made-up cursor is refused in
    words, never passed to the database as something else)."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("wrong length")
        values = [datetime.fromisoformat(v["dt"]) if isinstance(v, dict) else v for v in values]
        for key, value in zip(keys, values, strict=True):
            expected = _python_type(key.column)
            if value is not None and (type(value) is not expected or
                                      (isinstance(value, datetime) and value.tzinfo is None)):
                raise ValueError("wrong type")
            _check_range(key.column, value)
        return values
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError, AttributeError, OverflowError,
            RecursionError):  # a list nested a thousand deep
        raise InvalidInput(BAD_CURSOR, {"cursor": [BAD_CURSOR]}) from None


def _check_range(column: Any, value: Any) -> None:
    """ValueError (or OverflowError) for a value of the right type that its column cannot hold:
    a number beyond the column's integer, which the database refuses with an error of its own
    (a 500, not the plain refusal); a moment that is no moment in UTC; a text with a NUL, a
    lone surrogate (neither can be sent: PostgreSQL refused the one, the driver the other) or
    longer than its column."""
    if isinstance(value, str):
        length = getattr(getattr(column.type, "impl", column.type), "length", None)
        if "\x00" in value or (length is not None and len(value) > length):
            raise ValueError("not a value of the column")
        value.encode("utf-8")  # UnicodeEncodeError, a ValueError, for a lone surrogate
    elif type(value) is int:
        kind = getattr(column.type, "impl", column.type)
        bits = 63 if isinstance(kind, BigInteger) else 15 if isinstance(kind, SmallInteger) else 31
        if not -(2 ** bits) <= value < 2 ** bits:
            raise ValueError("out of range")
    elif isinstance(value, datetime):
        value.astimezone(timezone.utc)  # OverflowError at the ends of the calendar


def _python_type(column: Any) -> type:
    kind = column.type
    return getattr(kind, "impl", kind).python_type  # a TypeDecorator (UTCDateTime): what it wraps


def _after(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys``: k1 beyond v1, or k1 equal and k2
    beyond v2, and so on. Equality is NULL-safe (IS NOT DISTINCT FROM), so a key that may be
    NULL is put after a boolean "is null" key, which orders the NULLs."""
    alternatives = []
    for i, key in enumerate(keys):
        equal = [keys[j].column.is_not_distinct_from(values[j]) for j in range(i)]
        if values[i] is None:
            continue  # nothing is beyond NULL within a group of NULLs (the is-null key orders them)
        value = literal(values[i], type_=key.column.type)  # a bound value, also for True and False
        beyond = key.column < value if key.descending else key.column > value
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def after(keys: Sequence[Key], cursor: str | None) -> ColumnElement[bool] | None:
    """The rows after ``cursor`` in the order of ``keys`` (None for the first page): also for a
    query that pages several sub-queries at once, each in its own columns (the task list)."""
    return _after(keys, decode(cursor, keys)) if cursor else None


def order(keys: Sequence[Key]) -> list[UnaryExpression[Any]]:
    return [k.column.desc() if k.descending else k.column.asc() for k in keys]


def clamp(limit: int | None) -> int:
    return max(1, min(MAX_LIMIT, limit or DEFAULT_LIMIT))


def paged(query: AnySelect, keys: Sequence[Key], cursor: str | None, limit: int) -> AnySelect:
    """``query`` cut to the page after ``cursor``: ordered, and one row beyond ``limit`` (to know
    whether there is a next page)."""
    condition = after(keys, cursor)
    if condition is not None:
        query = query.where(condition)
    return query.order_by(*order(keys)).limit(number(limit + 1) if limit in SIZES else limit + 1)


def page_of(rows: list[Any], limit: int, key_of: Callable[[Row[Any]], Sequence[object]]) -> Page[Any]:
    """The page of the rows a ``paged`` query returned."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode(key_of(rows[-1])) if more and rows else None)


def fetch(session: Session, query: AnySelect, keys: Sequence[Key], cursor: str | None, limit: int | None,
          key_of: Callable[[Row[Any]], Sequence[object]]) -> Page[Any]:
    """Run ``query`` (already filtered by the access policy) for one page. ``key_of(row)`` gives
    a result row's values of ``keys``, for the next cursor."""
    limit = clamp(limit)
    return page_of(list(session.execute(paged(query, keys, cursor, limit)).all()), limit, key_of)
