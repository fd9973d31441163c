"""Links on every row of a list, built once per list.

``url_for`` finds the rule, runs its converters, quotes, and applies the app's URL defaults:
some 8 µs a link on this machine, and Mine oppgaver links each of its fifty tasks twice. A row
link is one address with only the row's key changed, so a list asks ``url_for`` once, with a
marker where the key goes, and each row puts its own key in the marker's place. A key that
would need quoting (kap12's keys are numbers and uuids, which never do) goes through
``url_for`` itself, so a row link is always what ``url_for`` would have made."""
from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask, url_for

# A number every converter kap12 routes keys by accepts (``id``, within the database's integer,
# and the default string), long enough never to be part of an address by chance.
_MARKER = "1987654321"
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")  # what no converter quotes: numbers, uuids


def row_link(endpoint: str, key: str, **values: object) -> Callable[[object], str]:
    """``link(value) == url_for(endpoint, **values, **{key: value})``, for the rows of one list."""
    before, marker, after = url_for(endpoint, **values, **{key: _MARKER}).partition(_MARKER)
    if not marker or "?" in before or _MARKER in after:
        raise ValueError(f"{endpoint}: {key} is not one part of the address's path")

    def link(value: object) -> str:
        text = str(value)
        if _PLAIN.fullmatch(text):
            return f"{before}{text}{after}"
        return url_for(endpoint, **values, **{key: value})

    return link


def register(app: Flask) -> None:
    app.jinja_env.globals.update(row_link=row_link)
