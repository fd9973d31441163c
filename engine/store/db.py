"""Database connection, sessions and schema upgrades.

SQLite (the embedded default) runs in WAL mode and every writing unit of work begins with
``BEGIN IMMEDIATE``, so writers queue up instead of failing halfway; readers never block.
PostgreSQL serializes writers per case with ``SELECT … FOR UPDATE`` in the unit of work.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, exc, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import OutcomeUnknown, connection_lost
from engine.store import schema_upgrade
from processes.messages import Message

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_tuning(engine)
        return engine
    # No JIT: kap12 asks many short questions, and a policy query whose estimated cost passes
    # jit_above_cost spent over a second compiling (measured: 1,342 of 1,348 ms on the weekly
    # overview at 10,000 cases) to save milliseconds. Everything it reads is indexed instead.
    # No parallel workers either: starting them cost the year figures more than they shared out
    # (a school owner's Ukeoversikt at 100,000 cases, 122 -> 109 ms without), and the cores they
    # take are the web workers' and the sweepers'.
    #
    # Reads run each statement on its own (autocommit, see Database), with no BEGIN that could
    # say READ ONLY: the connection's default keeps them from writing. A transaction says what it
    # is at its BEGIN, READ WRITE unless asked otherwise (``_begin_read_write``).
    engine = create_engine(url, pool_size=10, max_overflow=20,
                           connect_args={"options": "-c jit=off -c max_parallel_workers_per_gather=0 "
                                                    "-c default_transaction_read_only=on"})
    _ping_when_idle(engine)
    _begin_read_write(engine)
    _note_writes(engine)
    return engine


def _begin_read_write(engine: Engine) -> None:
    """psycopg begins a transaction READ WRITE when its connection's ``read_only`` is False, and
    plainly (here: read only) when it is None, as when new. SQLAlchemy sets it to False when it
    hands back a connection that was read only (``postgresql_readonly``): set from the start, a
    transaction is READ WRITE whatever the connection did before."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.read_only = False


def _note_writes(engine: Engine) -> None:
    """Whether the transaction has sent anything but a plain SELECT (``Database.writing``): a
    ``SELECT … FOR UPDATE`` only locks; anything else counts as a write, and so does the step's
    ``SELECT pg_notify(…)``, which is sent at COMMIT."""
    @event.listens_for(engine, "begin")
    def _began(conn: Connection) -> None:
        conn.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _sent(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("SELECT") or "pg_notify(" in statement:
            conn.info[_WROTE] = True


_WROTE = "kap12_wrote"  # in the connection's info, from its transaction's BEGIN
_GENERIC_PLANS = text("SET LOCAL plan_cache_mode = force_generic_plan")  # ``Database.generic_plans``


# A pooled connection is tested before use only when it has lain unused this long. Tested at
# every checkout (``pool_pre_ping``), a request paid a round trip for each of its transactions:
# under load, 8% of a web worker's time. A connection used a moment ago is as good as a test;
# one that went bad since (the server restarted) fails its statement, and the pool then drops
# all its connections, as after a failed test.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:  # the pool replaces it and checks out again
            raise exc.DisconnectionError(str(err)) from err


def _sqlite_tuning(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("kap12_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def known_revisions() -> tuple[str, set[str]]:
    """The newest migration this code knows, and every one it knows."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    assert head is not None, "no migrations"
    return head, {s.revision for s in script.walk_revisions()}


def schema_is_current(revision: str | None, head: str, known: set[str]) -> bool:
    """The schema this code needs is there: the database is at this code's newest migration, or
    at one this code does not know, from a newer release (migrations only add, so older code
    keeps working while a new release rolls out). Behind, or empty, it is not."""
    return revision is not None and (revision == head or revision not in known)


class Database:
    """Sessions for reading and for the one write path."""

    def __init__(self, url: str, session_info: dict | None = None) -> None:
        """``session_info`` is handed to every session (``Session.info``): what all code that
        writes through this database must share, such as the history keys."""
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        info = dict(session_info or {})
        # On PostgreSQL a read runs in autocommit: each statement is its own transaction, which
        # at READ COMMITTED is all a reading transaction gave (each statement saw the database as
        # it was when that statement began), and it spares two round trips per read, BEGIN and
        # COMMIT: a request makes several reads (who is asking, the form catalog's version, the
        # page's own). A task completion's four API requests sent a quarter fewer calls to the
        # server. The connection's default (``make_engine``) keeps each statement read only.
        # psycopg keeps what it prepared, as there is no ROLLBACK (it forgets them all at one).
        # Where several statements must agree, ``snapshot`` is one transaction.
        reads = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read = sessionmaker(reads, expire_on_commit=False, info=info)
        # SQLite's reading transactions see one snapshot already (WAL, from their first read).
        self._snapshot = self._read if self.is_sqlite else sessionmaker(
            self.engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True),
            expire_on_commit=False, info=info)
        self._write = sessionmaker(self.engine.execution_options(kap12_write=True), expire_on_commit=False, info=info)
        # The task lists: one read-only transaction, told to use kept plans (``generic_plans``).
        self._generic = self._read if self.is_sqlite else sessionmaker(
            self.engine.execution_options(postgresql_readonly=True), expire_on_commit=False, info=info)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """On PostgreSQL in autocommit, there is nothing to end: the session closes sending
        nothing (a commit sent nothing either, and took 1.6% of the web workers' time under
        load in SQLAlchemy's bookkeeping). On SQLite the reading transaction rolls back."""
        with self._read() as session:
            yield session

    def _end_read(self, session: Session) -> None:
        """A snapshot that went well ends with COMMIT on PostgreSQL, not ROLLBACK, at which
        psycopg would forget what it prepared; on SQLite, and after an error, the session rolls
        back as it closes."""
        if not self.is_sqlite:
            session.commit()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A reading session whose statements all see the database as it was at its first, for a
        count put together from several queries (a tally less the cases outside the viewer's
        circle, plus those they reach beyond it): a case committed between two of them must not
        make it one too few, or one too many — which would tell an accused the case exists."""
        with self._snapshot() as session:
            yield session
            self._end_read(session)

    @contextmanager
    def generic_plans(self) -> Iterator[Session]:
        """A reading session whose statements run on the plans PostgreSQL keeps for them once
        prepared (psycopg prepares a statement a connection runs often), never planned anew for
        each run's values: for the task lists, whose statements have the same best plan for any
        person (each arm reads its index in order and stops), and whose planning is most of
        their cost (the procedure filter's: 3 ms to plan, 0.2 ms to run, at 100,000 cases).
        Left to choose, PostgreSQL planned them anew at every request in one county and kept
        their plans in another, by a few percent of estimated cost: Mine oppgaver spent 9 ms in
        the database or 3. Not for every read: the weekly overview's counts need each run's own
        plan (forced for the whole database, a school owner's Ukeoversikt took 126 ms, not 48).
        The setting is the transaction's own (``SET LOCAL``), which ends with COMMIT, as a
        snapshot does (``_end_read``); on SQLite, a reading session."""
        with self._generic() as session:
            if not self.is_sqlite:
                session.execute(_GENERIC_PLANS)
            yield session
            self._end_read(session)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction commits at the end of the block; after an error, nothing
        it did is kept."""
        with self._write() as session:
            session.begin()
            try:
                yield session
            except Exception:
                self._end_failed_write(session)
                raise
            except BaseException:
                session.rollback()
                raise
            try:
                session.flush()  # what fails here was not written: as any failed write
            except Exception:
                self._end_failed_write(session)
                raise
            try:
                session.commit()
            except exc.DBAPIError as err:
                if connection_lost(err):  # during COMMIT: kept or not, no one knows (a refusal is a refusal)
                    raise OutcomeUnknown(Message(
                        "Forbindelsen til databasen brøt mens det ble lagret, så vi vet ikke om det ble lagret. "
                        "Se etter i saken før du gjør det igjen.")) from err
                raise

    def _end_failed_write(self, session: Session) -> None:
        """A refusal (the task was done by another a moment before, a double click, a stale
        page) usually comes before the step has written anything: it has only read and locked.
        On PostgreSQL such a transaction ends with COMMIT, which then keeps exactly what ROLLBACK
        would, nothing: at a ROLLBACK psycopg forgets every statement it prepared on the
        connection, and the next few hundred statements on it were planned anew. Measured under
        load, where a lost race is common (two people take the same task), PostgreSQL planned a
        quarter of all it ran. Anything written or waiting to be, or a failed statement, and the
        transaction rolls back as always."""
        if self._wrote_nothing(session):
            try:
                session.commit()
                return
            except exc.SQLAlchemyError:  # the connection failed: the refusal is still what the user hears
                pass
        session.rollback()

    def _wrote_nothing(self, session: Session) -> bool:
        """On PostgreSQL: nothing is waiting to be written, the transaction sent only plain
        SELECTs (``_note_writes``), and none of them failed."""
        if self.is_sqlite or session.new or session.dirty or session.deleted:
            return False
        try:
            conn = session.connection()
        except exc.SQLAlchemyError:  # a flush failed: the session must roll back
            return False
        dbapi = conn.connection.dbapi_connection
        return (not conn.info.get(_WROTE, True) and dbapi is not None
                and dbapi.info.transaction_status.name in ("IDLE", "INTRANS"))  # not INERROR

    def upgrade(self) -> None:
        """Create or upgrade the schema with Alembic, all migrations in one transaction (READ
        WRITE), beside a running release (``schema_upgrade``). A migration that must run outside a
        transaction (CREATE INDEX CONCURRENTLY) would need a connection of its own: the pool's are
        read only outside a transaction."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        schema_upgrade.upgrade(self, cfg, *known_revisions())

    @property
    def shown_url(self) -> str:
        """The database's URL as a person may read it: without its password (``kap12 init``
        printed it into the terminal and the deploy log)."""
        return make_url(self.url).render_as_string(hide_password=True)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first upgrade). Raises
        when the database does not answer."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def dispose(self) -> None:
        self.engine.dispose()

