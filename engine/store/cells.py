"""Text in a cell of a file people open in a spreadsheet (the overview's export, the staff list).

A spreadsheet reads a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula, and a formula can fetch from the network or run a command: a
display name from the county's log-in service, a school's name or a case's stage typed as one
would run when an administrator opens the file. Such a cell is written with an apostrophe in
front, which the spreadsheet shows as text; a file kap12 reads back (the staff list) has it taken
off again, so the round trip changes nothing."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> str:
    """``value`` as a cell that is never read as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def read(text: str) -> str:
    """A cell as ``safe`` wrote it, back to the text it was."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text
