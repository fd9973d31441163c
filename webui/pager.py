"""The "Neste side" link of a paged list: the same address with the same filters and the cursor
of the page that follows (``etter``). Paging itself happens in the engine's queries."""
from __future__ import annotations

from flask import Flask, request, url_for

CURSOR_ARG = "etter"


def cursor(arg: str = CURSOR_ARG) -> str | None:
    return request.args.get(arg) or None


def page_url(next_cursor: str | None, arg: str = CURSOR_ARG) -> str:
    """This list from its first page (None) or from ``next_cursor``, keeping the filters (and the
    place of any other list on the page, which pages by its own ``arg``)."""
    args = {k: v for k, v in request.args.items() if k != arg}
    if next_cursor:
        args[arg] = next_cursor
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(page_url=page_url, paged=lambda arg=CURSOR_ARG: bool(cursor(arg)),
                                 cursor_arg=CURSOR_ARG)
