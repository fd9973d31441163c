"""Waking sweepers when a step writes a timer, so a timer fires on the second.

A sweeper sleeps until the next timer is due, and looks again at least every third of the
``HORIZON``. When a step writes a timer due within the horizon of the step's time, which may be
sooner, the sweepers must hear of it. A later one they find when they next look, before it is
due, as long as the step commits within two thirds of the horizon (ten seconds) of its start:
only a step held up that long on a lock does not. Waking both sweepers for every report and
completion, whose timers fall due in hours or days, cost a tenth of the machine under load.

- on PostgreSQL the step sends ``NOTIFY kap12_timers`` in its own transaction (delivered only
  if it commits), and every sweeper, in any process on any machine, ``LISTEN``s;
- on SQLite (one machine) a sweeper in the same process is woken at once through an event,
  and one in another process looks at the next due time every half second (a read of an
  indexed column in a local file).
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # the PostgreSQL driver is optional (the postgres extra)
    import psycopg

log = logging.getLogger("kap12.timers")

CHANNEL = "kap12_timers"
SQLITE_POLL_SECONDS = 0.5
HORIZON = timedelta(seconds=15)


def worth_waking(due: datetime | None, now: datetime) -> bool:
    """Whether a timer row written by a step at ``now``, due at ``due``, must wake the
    sweepers (see above)."""
    return due is not None and due - now <= HORIZON


def look_again_seconds() -> float:
    """The longest a sweeper sleeps before it looks at the next due time again (see above)."""
    return HORIZON.total_seconds() / 3


class Wakeup:
    """This process's signal from the write path to its sweepers."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if woken by a step."""
        woken = self._event.wait(max(0.0, timeout))
        self._event.clear()
        return woken


def announce(session: Session, is_sqlite: bool) -> None:
    """Inside the step's transaction: tell sweepers elsewhere, once it commits."""
    if not is_sqlite:
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Listener:
    """What a sweeper sleeps on: the process's Wakeup, and on PostgreSQL the LISTEN channel."""

    def __init__(self, database_url: str, wakeup: Wakeup, is_sqlite: bool):
        self.url, self.wakeup, self.is_sqlite = database_url, wakeup, is_sqlite
        self._conn: psycopg.Connection | None = None

    def wait(self, timeout: float) -> bool:
        """Sleep until ``timeout`` passes or a step may have written a sooner timer; never longer
        than ``look_again_seconds``: steps do not announce timers beyond the horizon."""
        timeout = min(timeout, look_again_seconds())
        if self.is_sqlite:
            return self.wakeup.wait(min(timeout, SQLITE_POLL_SECONDS))
        try:
            conn = self._connection()
            # Own-process steps notify through PostgreSQL as well, so this one wait covers both.
            return any(True for _ in conn.notifies(timeout=max(0.0, timeout), stop_after=1))
        except Exception:  # noqa: BLE001 - the database may be down or restarting: poll meanwhile
            log.warning("LISTEN %s failed; polling instead", CHANNEL, exc_info=True)
            self.close()
            return self.wakeup.wait(min(timeout, 1.0))

    def _connection(self) -> psycopg.Connection:
        # psycopg is the PostgreSQL driver, installed only with the postgres extra.
        import psycopg  # noqa: PLC0415

        if self._conn is None or self._conn.closed:
            url = make_url(self.url).set(drivername="postgresql")
            self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self._conn = None
