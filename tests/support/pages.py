"""Every page of a paged list, one after the other, as a person clicking «Neste side» sees them."""
from __future__ import annotations

from datetime import timedelta


def all_pages(fetch, between=lambda page_no: None) -> list:
    """The rows of every page ``fetch(cursor)`` returns, following the cursors to the end;
    ``between(page_no)`` runs after each page but the last (cases changing underneath)."""
    seen, cursor, page_no = [], None, 0
    while True:
        page = fetch(cursor)
        seen.extend(page.items)
        page_no += 1
        if page.next_cursor is None:
            return seen
        between(page_no)
        cursor = page.next_cursor


def reports_over_time(flow, clock, together: int, apart: int) -> list[int]:
    """The ids of ``together`` reports made at one moment (their ids order them in a list), then
    of ``apart`` more, three minutes apart: a list's order by time and id, to page through."""
    made = [flow.report().id for _ in range(together)]
    for _ in range(apart):
        clock.advance(timedelta(minutes=3))
        made.append(flow.report().id)
    return made
