"""Upgrading the schema while the old release still serves (README, "Upgrading a county").

All of a release's migrations run in one transaction: the schema is at the old release's
revision or at the new one's, never between. On PostgreSQL, with people at work, that
transaction met them in deadlocks: a migration took a table that a writer had read (an index
dropped needs ACCESS EXCLUSIVE), while the writer waited for a table the upgrade held already.
PostgreSQL then ended one of them: the upgrade (a county's upgrade under 27 reports/s failed
four times in four), or, once the upgrade held the tables for writing, a writer — whose "nothing
was saved" a teacher reads. So an upgrade with migrations to run here

- first waits for any other upgrade: several web machines start ``kap12 serve`` at once, and each
  upgrades; the second failed on alembic_version's key;
- then takes every kap12 table for itself (ACCESS EXCLUSIVE, one statement), within
  ``LOCK_WAIT``. Once it has them it waits for nothing more, so no one can be caught in a cycle
  with it: every request that comes meanwhile waits until the migrations commit (seconds: the
  indexes of migration 0035 took 0.45 s at 100,000 cases, migration 0024's tallies 4 s), and
  none fails. While it takes them, others may wait for it: for less than PostgreSQL's
  ``deadlock_timeout`` (1 s), so no one's deadlock check runs meanwhile. Not got in time (a long
  transaction holds one), it lets go of them all and tries again, ``TRIES`` times;
- leaves alembic_version untaken, so ``/readyz`` answers throughout: a load balancer that asked
  it and waited would take every worker out at once.

SQLite has one writer at a time, and the upgrade is it."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import exc, inspect, text
from sqlalchemy.engine import Connection

from engine.errors import Conflict
from processes.messages import Message

if TYPE_CHECKING:
    from engine.store.db import Database

log = logging.getLogger("kap12.store")

LOCK_WAIT = "500ms"
TRIES = 20
# Between tries: 0.5, 1, 2 … seconds, at most 8: two minutes in all. A county's requests leave
# the tables free now and then (at 15 writes and 20 reads a second, the second try took them);
# tables never free at once (writers without a pause) are the operator's to quiet.
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 8.0
# The advisory lock of "an upgrade runs", keyed as the history's chains are (hashtext of a name).
UPGRADE_LOCK = "kap12 schema upgrade"
# Not got in time (statement_timeout, lock_timeout), or a deadlock: nothing changed, try again.
LOCK_CONFLICTS = {"57014", "55P03", "40P01"}


class _TablesBusy(Exception):
    """The tables were not all free within ``LOCK_WAIT``; the transaction must roll back."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def upgrade(db: Database, config: Config, head: str, known: set[str]) -> None:
    """Alembic's upgrade to ``head`` in one transaction; on PostgreSQL as the module says."""
    if db.is_sqlite:
        with db.engine.begin() as conn:
            if _behind(conn, head, known):
                _run(conn, config)
        return
    for attempt in range(1, TRIES + 1):
        try:
            with db.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": UPGRADE_LOCK})
                if _behind(conn, head, known):
                    _take_the_tables(conn)
                    _run(conn, config)
            return
        except _TablesBusy as busy:  # only the taking is tried again: a migration that fails fails
            code = busy.code
        if attempt == TRIES:
            break
        pause = min(FIRST_PAUSE * 2 ** (attempt - 1), LONGEST_PAUSE)
        log.warning("schema upgrade: the tables were busy (%s); nothing was changed, trying again in %.0f s "
                    "(%d of %d)", code, pause, attempt, TRIES)
        time.sleep(pause)
    raise Conflict(Message("Databasen ble ikke oppgradert: tabellene var hele tiden i bruk av en lang transaksjon. "
                           "Ingenting ble endret. Prøv igjen litt senere."))


def _run(conn: Connection, config: Config) -> None:
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def _behind(conn: Connection, head: str, known: set[str]) -> bool:
    """Migrations to run here: the schema is empty or at an older revision this code knows (a
    newer release's revision is left alone: its migrations only added to this code's)."""
    if not inspect(conn).has_table("alembic_version"):
        return True
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision is None or (revision != head and revision in known)


def _take_the_tables(conn: Connection) -> None:
    tables = list(conn.execute(text("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = "
                                    "current_schema() AND tablename <> 'alembic_version' ORDER BY tablename"))
                  .scalars())
    if not tables:
        return
    # The whole statement within the wait (a lock_timeout bounds each table's wait alone).
    conn.execute(text(f"SET LOCAL statement_timeout = '{LOCK_WAIT}'"))
    try:
        conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
    except exc.OperationalError as err:
        code = getattr(err.orig, "sqlstate", None) or ""
        if code in LOCK_CONFLICTS:
            raise _TablesBusy(code) from err
        raise
    conn.execute(text("SET LOCAL statement_timeout TO DEFAULT"))
