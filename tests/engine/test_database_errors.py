"""Which failures of the database are "away, try again" (a 503 on the pages and the API) and which
are kap12's own bug (a 500 with its traceback), and a connection lost while committing, whose
outcome no one knows (``engine.errors``). Real errors from both databases' drivers."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, exc, text
from sqlalchemy.orm import Session
from support.backends import only_postgresql

from engine.errors import OutcomeUnknown, connection_lost, database_away, database_trouble
from engine.write.demo import report_data
from tests.webui.serve_support import free_port


def _error(engine, statement: str, *setup: str) -> exc.DBAPIError:
    with engine.connect() as conn:
        for line in setup:
            conn.execute(text(line))
        with pytest.raises(exc.DBAPIError) as raised:
            conn.execute(text(statement))
    return raised.value


def test_sqlites_mistakes_are_bugs_and_its_locked_file_is_away(kap12):
    if not kap12.db.is_sqlite:
        pytest.skip("SQLite's driver")
    for bug in ("SELECT numbr FROM cases", "SELEC 1"):  # both an OperationalError in sqlite3
        error = _error(kap12.db.engine, bug)
        assert not database_away(error) and database_trouble(error) is None, bug
    assert database_trouble(_error(kap12.db.engine, "SELECT * FROM ingen_tabell")).startswith(
        "Databasen har ikke tabellene")
    locked = exc.OperationalError("COMMIT", {}, __import__("sqlite3").OperationalError("database is locked"))
    assert database_away(locked) and not connection_lost(locked)


@only_postgresql
def test_postgresqls_refusals_and_time_outs_are_away_and_its_bugs_are_not(kap12):
    assert not database_away(_error(kap12.db.engine, "SELEC 1"))  # a syntax error
    assert not database_away(_error(kap12.db.engine, "SELECT 1/0"))
    timed_out = _error(kap12.db.engine, "SELECT pg_sleep(1)", "SET statement_timeout = '50ms'")
    assert database_away(timed_out) and not connection_lost(timed_out)  # PostgreSQL said no: nothing kept
    away = create_engine(f"postgresql+psycopg://kap12@127.0.0.1:{free_port()}/kap12")
    try:
        with pytest.raises(exc.OperationalError) as refused:
            away.connect()
    finally:
        away.dispose()
    assert database_away(refused.value) and connection_lost(refused.value)
    assert database_trouble(refused.value).startswith("Får ikke brukt databasen: connection failed")


@only_postgresql
def test_a_connection_lost_while_committing_is_an_unknown_outcome_not_nothing_saved(kap12, demo, monkeypatch):
    """The server may have kept the report: "nothing was saved, try again" could make it twice."""
    commit = Session.commit

    def lost(session):
        commit(session)  # kept; only the answer is lost
        raise exc.OperationalError("COMMIT", {}, psycopg.OperationalError("server closed the connection unexpectedly"))

    monkeypatch.setattr(Session, "commit", lost)
    with pytest.raises(OutcomeUnknown, match="vet ikke om det ble lagret"):
        kap12.report(demo.users["ansatt"], demo.schools["Nordli videregående skole"], report_data())
    monkeypatch.setattr(Session, "commit", commit)
    assert len(kap12.cases_for(demo.users["rektor"])) == 1  # it was kept, as the message allows
