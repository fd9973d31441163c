"""PostgreSQL connections: pooled ones are tested before use only after lying unused a while
(``db.PING_AFTER_IDLE_SECONDS``), and those that went bad meanwhile are replaced, not failed;
reads are read only, send no BEGIN or COMMIT, and keep their prepared statements; so does a
refusal that wrote nothing, and nothing of a refused write is kept."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from support.postgres import postgres_available, start_postgres

from engine.errors import Conflict
from engine.store import db as database

pytestmark = pytest.mark.skipif(not postgres_available(), reason="PostgreSQL server programs are not installed")


@pytest.fixture
def server():
    pg = start_postgres()  # its own: the test restarts it
    yield pg
    pg.stop()


def _pings(monkeypatch, db: database.Database) -> list[bool]:
    pinged: list[bool] = []
    real = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pinged.append(True) or real(conn))
    return pinged


def test_a_connection_used_a_moment_ago_is_not_tested_again(server, monkeypatch):
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.3)
    db = database.Database(server.url)
    pinged = _pings(monkeypatch, db)
    for _ in range(5):
        with db.reading() as session:
            assert session.scalar(text("SELECT 1")) == 1
    assert pinged == []
    time.sleep(0.4)
    with db.reading() as session:
        assert session.scalar(text("SELECT 1")) == 1
    assert pinged == [True]
    db.engine.dispose()


def test_connections_idle_across_a_server_restart_are_replaced(server, monkeypatch):
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.3)
    db = database.Database(server.url)
    with db.reading() as first, db.reading() as second:  # two connections in the pool
        assert first.scalar(text("SELECT 1")) == second.scalar(text("SELECT 1")) == 1
    server.restart()
    time.sleep(0.4)
    for _ in range(3):
        with db.writing() as session:
            assert session.scalar(text("SELECT 1")) == 1
    db.engine.dispose()


def test_reads_keep_their_prepared_statements_and_cannot_write(server):
    """psycopg prepares a statement run often and forgets all at a ROLLBACK: reading
    transactions end with COMMIT, so the server plans a frequent statement once, not each time."""
    db = database.Database(server.url)
    for _ in range(12):
        with db.reading() as session:
            assert session.scalar(text("SELECT count(*) FROM pg_class WHERE relkind = 'r'")) > 0
    with db.reading() as session:
        assert session.scalar(text("SELECT count(*) FROM pg_prepared_statements")) >= 1
    with db.snapshot() as session:
        assert session.scalar(text("SELECT count(*) FROM pg_prepared_statements")) >= 1
    for reading in (db.reading, db.snapshot):
        with pytest.raises(DBAPIError, match="read-only transaction"), reading() as session:
            session.execute(text("CREATE TABLE written_in_a_read (i int)"))
    with db.writing() as session:
        session.execute(text("CREATE TABLE written (i int)"))
    with db.engine.begin() as connection:  # migrations and set-ups: read write, whatever the connection did before
        connection.execute(text("CREATE TABLE written_by_the_engine (i int)"))
    db.engine.dispose()


def test_a_read_is_its_statements_alone(server):
    """A read spares the round trips of BEGIN and COMMIT: no transaction stays open between its
    statements (each is its own, as at READ COMMITTED each saw its own moment anyway). A
    snapshot is one transaction, for statements that must agree."""
    from psycopg.pq import TransactionStatus

    db = database.Database(server.url)

    def status(session) -> TransactionStatus:
        return session.connection().connection.dbapi_connection.info.transaction_status

    with db.reading() as session:
        assert session.scalar(text("SELECT 1")) == 1
        assert status(session) == TransactionStatus.IDLE
        assert session.scalar(text("SHOW transaction_read_only")) == "on"
    with db.snapshot() as session:
        assert session.scalar(text("SELECT 1")) == 1
        assert status(session) == TransactionStatus.INTRANS
        assert session.scalar(text("SHOW transaction_isolation")) == "repeatable read"
    with db.writing() as session:
        assert session.scalar(text("SHOW transaction_read_only")) == "off"
    db.engine.dispose()


def test_the_task_lists_reads_run_on_kept_plans_and_leave_the_connection_as_it_was(server):
    """``generic_plans`` (the task lists): one read-only transaction whose statements run on the
    plan PostgreSQL keeps once they are prepared; the setting ends with it, and so the next read
    on the same pooled connection lets PostgreSQL choose again. What was prepared is kept."""
    db = database.Database(server.url)
    asked = text("SELECT count(*) FROM pg_class WHERE relkind = :kind")
    for _ in range(8):  # prepared by psycopg after five
        with db.generic_plans() as session:
            assert session.scalar(asked, {"kind": "r"}) > 0
            assert session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"
            assert session.scalar(text("SHOW transaction_read_only")) == "on"
            backend = session.scalar(text("SELECT pg_backend_pid()"))
    with db.reading() as session:
        assert session.scalar(text("SELECT pg_backend_pid()")) == backend  # the same pooled connection
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
        generic, custom = session.execute(text("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                               "WHERE statement LIKE 'SELECT count(*) FROM pg_class%'")).one()
    assert generic >= 3 and custom == 0
    with pytest.raises(DBAPIError, match="read-only transaction"), db.generic_plans() as session:
        session.execute(text("CREATE TABLE written_in_a_read (i int)"))
    db.engine.dispose()


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "rows"
    id: Mapped[int] = mapped_column(primary_key=True)


def test_a_refusal_keeps_the_prepared_statements_and_nothing_of_what_it_did(server):
    """A refusal before the step wrote anything (a task done by another a moment before) ends
    its transaction with COMMIT, which keeps what ROLLBACK would, nothing, and spares the
    connection's prepared statements, which psycopg forgets at a ROLLBACK. A refusal after a
    write, with a change waiting to be written, or after a failed statement, rolls back."""
    db = database.Database(server.url)
    with db.engine.begin() as connection:
        _Base.metadata.create_all(connection)

    def prepared() -> int:
        with db.reading() as session:  # one connection: the test never holds two
            return session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))

    def refused(act) -> None:
        with pytest.raises(Conflict), db.writing() as session:
            act(session)
            raise Conflict("refused")

    for _ in range(12):
        with db.writing() as session:
            session.execute(text("SELECT count(*) FROM rows"))
    assert prepared() >= 1
    refused(lambda session: session.execute(select(_Row).with_for_update()).all())  # read and locked only
    assert prepared() >= 1

    refused(lambda session: session.execute(text("INSERT INTO rows (id) VALUES (1)")))
    refused(lambda session: session.add(_Row(id=2)))  # waiting to be written
    with db.writing() as session:
        session.add(_Row(id=3))

    def failed(session) -> None:  # a refusal made of a failed statement: the transaction is aborted
        try:
            session.execute(text("SELECT 1 / 0"))
        except DBAPIError as err:
            raise Conflict("refused") from err

    refused(failed)
    with db.writing() as session:  # and the connection is good for the next
        session.add(_Row(id=4))
    with db.reading() as session:
        assert session.scalars(select(_Row.id).order_by(_Row.id)).all() == [3, 4]
    db.engine.dispose()
