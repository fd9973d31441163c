"""What PostgreSQL's planner makes of the statements a call sends: for tests that an index made
for a query is the one the query reads (a change to either alone leaves it unread)."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event


def statements_of(engine, call: Callable[[], object]) -> list[tuple[str, dict]]:
    """The SQL statements (with their parameters) that ``call()`` sends through ``engine``."""
    seen: list[tuple[str, dict]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def plan_of(engine, statement: str, parameters: dict, *settings: str) -> str:
    """EXPLAIN of one statement, with ``settings`` (e.g. ``enable_seqscan = off``) for a test
    database of a handful of rows, where the planner would rightly read the table instead."""
    with engine.connect() as connection:
        for setting in settings:
            connection.exec_driver_sql(f"SET {setting}")
        return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
