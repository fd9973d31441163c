"""Bounds on what comes in from outside: ids in addresses and forms, dates, redirect targets.

One mechanism for every page: the ``id`` URL converter (registered once in the app factory)
takes only ids the database can hold, so ``/saker/99999999999999999999`` is the page's normal
404 instead of an overflow in the driver; the parsers below give ``None`` for anything out of
range, and the page answers as it does for a missing value."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from werkzeug.routing import IntegerConverter

from processes.forms import DATE_MAX, DATE_MIN

# The largest value of a 32-bit signed INTEGER column (PostgreSQL's ``integer``); SQLite would
# take more, but one bound for both keeps the answers the same on every database.
ID_MAX = 2_147_483_647


# Longest id text worth reading: ID_MAX has 10 digits; more can only be out of range.
_ID_DIGITS = len(str(ID_MAX))


def _up_to(limit: int) -> str:
    """A regular expression for exactly the whole numbers 1…limit, without leading zeros."""
    digits = str(limit)
    shorter = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            same_length.append(rf"{digits[:i]}[{low}-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}")
    return "(?:" + "|".join(shorter + same_length + [digits]) + ")"


class IdConverter(IntegerConverter):
    """``<id:case_id>``: a positive id within the database's integer range, else no match.

    The range is in the regular expression itself, not only in a check after it: werkzeug
    answers 405 instead of 404 when a converter refuses a value on a path that another method
    serves, so an out-of-range id must never match at all."""

    regex = _up_to(ID_MAX)

    def __init__(self, map, *args, **kwargs):  # noqa: A002 – werkzeug's name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def parse_id(raw: str | None) -> int | None:
    """A form field or query value as an id, or ``None`` when it is not one we could store."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > _ID_DIGITS:
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None


def parse_ids(values: list[str]) -> list[int]:
    """Every valid id of a multi-valued field, in order, without the ones that are not."""
    return [i for i in (parse_id(v) for v in values) if i is not None]


def parse_date(raw: str | None) -> date | None:
    """An ISO date (ÅÅÅÅ-MM-DD) between DATE_MIN and DATE_MAX, or ``None``."""
    text = (raw or "").strip()
    if len(text) != 10:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if DATE_MIN <= value <= DATE_MAX else None


def is_safe_path(target: str | None) -> bool:
    """A path on this site only: no scheme, no host, no scheme-relative ``//``, no backslash
    (browsers read it as a slash), and no control characters (CR/LF would split the header)."""
    if not target or not target.startswith("/") or target.startswith("//") or len(target) > 2000:
        return False
    return not any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)


def has_nul(values: Iterable[tuple[str, str]]) -> bool:
    """A NUL character anywhere in the names or values: no one types one, PostgreSQL refuses
    to store one in text, and some parsers stop reading at it."""
    return any("\x00" in key or "\x00" in value for key, value in values)
