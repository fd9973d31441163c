"""What PostgreSQL's planner makes of the statements a call sends: for tests that an index made
for a query is the one the query reads (a change to either alone leaves it unread)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import psycopg
from sqlalchemy import Connection, event

T = TypeVar("T")


def statements_of(engine, call: Callable[[], object]) -> list[tuple[str, dict]]:
    """The SQL statements (with their parameters) that ``call()`` sends through ``engine``."""
    return answered(engine, call)[1]


def answered(engine, call: Callable[[], T]) -> tuple[T, list[tuple[str, dict]]]:
    """What ``call()`` returns, and the statements it sent through ``engine`` to find it: a plan
    test first checks that the call found what it should (the plan of a wrong answer proves
    nothing)."""
    seen: list[tuple[str, dict]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return answer, seen


def plan_of(engine, statement: str, parameters: dict, *settings: str,
            before: Callable[[Connection], object] | None = None) -> str:
    """EXPLAIN of one statement, with ``settings`` (e.g. ``enable_seqscan = off``) for a test
    database of a handful of rows, where the planner would rightly read the table instead.
    ``before(connection)`` runs first in the same transaction — an index dropped that ties with
    the one asked about on a handful of rows, rows copied for the planner to count — and is
    rolled back with the settings."""
    with engine.connect() as connection:
        if before is not None:
            before(connection)
        for setting in settings:
            connection.exec_driver_sql(f"SET {setting}")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
        connection.rollback()
        return plan


def generic_plan_of(engine, statement: str, parameters: dict, *settings: str) -> str:
    """EXPLAIN of the plan PostgreSQL keeps for one statement prepared (psycopg prepares a statement
    run often on a connection): the generic plan, made once for any parameters. A statement whose
    generic plan is poor runs poorly once it is prepared, though each run's own plan (``plan_of``)
    is good. PREPARE names the parameters by number, in order of first use, as psycopg sends them.
    The settings are the transaction's own (``SET LOCAL``): a forced generic plan must not stay on
    a pooled connection for the rest of the test."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    numbered = re.sub(r"%\((\w+)\)s", number, statement)  # a literal % stays %%, as the driver needs it
    with engine.connect() as connection:
        for setting in (*settings, "plan_cache_mode = force_generic_plan"):
            connection.exec_driver_sql(f"SET LOCAL {setting}")
        connection.exec_driver_sql("PREPARE generic_plan_of AS " + numbered)
        types = connection.exec_driver_sql("SELECT parameter_types::text[] FROM pg_prepared_statements "
                                           "WHERE name = 'generic_plan_of'").scalar()
        # The arguments as literals (a utility statement's parameters have no type to be sent with).
        arguments = ", ".join(f"%s::{kind}" for kind in types)
        with psycopg.ClientCursor(connection.connection.driver_connection) as cursor:
            called = f"generic_plan_of({arguments})" if arguments else "generic_plan_of"  # () is not SQL
            cursor.execute(f"EXPLAIN EXECUTE {called}", [parameters[name] for name in names])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        connection.exec_driver_sql("DEALLOCATE generic_plan_of")
        return plan


def plan_on_either(engine, statement: str, parameters, *settings: str) -> str:
    """The plan of one statement sent: SQLite's ``EXPLAIN QUERY PLAN``, or the plan PostgreSQL
    keeps for it prepared (``generic_plan_of``, with ``settings``)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            return " ".join(str(row) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    return generic_plan_of(engine, statement, parameters, *settings)
