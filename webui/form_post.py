"""HTML form posts turned into the nested data a form declaration's schema expects (checkbox
fallbacks, numbered group rows): presentation, so it lives with the pages."""
from __future__ import annotations

import re
from typing import Any, Protocol

from processes.forms import Field, Form


class MultiDictLike(Protocol):
    def keys(self) -> Any: ...
    def getlist(self, key: str) -> list[str]: ...


def _html_value(f: Field, post: MultiDictLike, key: str) -> Any:
    values = post.getlist(key)
    if f.type == "multichoice":
        return list(values)
    if f.type == "boolean":
        # An unchecked checkbox is not posted at all; a hidden fallback may precede the box.
        return values[-1] if values else False
    return values[0] if values else None


def _filled(value: Any) -> bool:
    return bool(value.strip()) if isinstance(value, str) else bool(value)


def _html_rows(f: Field, post: MultiDictLike) -> list[dict[str, Any]]:
    # Rows are ordered by their number, which need not be contiguous (rows can be removed).
    pattern = re.compile(rf"^{re.escape(f.name)}-(\d{{1,4}})-")
    indices = sorted({int(m[1]) for k in post.keys() if (m := pattern.match(k))})
    rows = []
    for i in indices:
        row = {s.name: _html_value(s, post, f"{f.name}-{i}-{s.name}") for s in f.fields}
        # A blank template row left untouched is not a row the user meant to add.
        if any(_filled(v) for v in row.values()):
            rows.append({k: v for k, v in row.items() if v is not None})
    return rows


def from_html_form(form: Form, post: MultiDictLike) -> dict[str, Any]:
    """Turn a flat HTML post into the nested data the schema expects.

    Group rows come as `tiltak-0-hva`, `tiltak-1-hva`, ...; keys that are not declared fields
    (a CSRF token, the submit button) are left out.
    """
    data: dict[str, Any] = {}
    for f in form.fields:
        if f.type == "group":
            data[f.name] = _html_rows(f, post)
        else:
            value = _html_value(f, post, f.name)
            if value is not None:
                data[f.name] = value
    return data
