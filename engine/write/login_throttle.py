"""Log-in throttling in the database, so that it holds across web workers and parallel requests.

Each attempt is *counted before the password is checked*, in one short transaction that locks
the account's and the address's counter rows (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
PostgreSQL). An account gets ``ACCOUNT.free`` tries from one address; the last of them locks it
there for a while, and each try after a lock locks it twice as long (30 s, 1 min, 2 min … up to
15 min). While it is locked nothing from there reaches the password check, not even the right
password. From every address together the account has a higher bar (``ACCOUNT_WIDE``), for a
guesser spread over many addresses: a lock on the account everywhere from a handful of wrong
passwords let anyone keep a rektor out of a system built for reporting at once. A success
clears the account's counts. An address (a school's NAT) has a far higher bar (``ADDRESS``),
and a success from it gives back the try it was charged, so one person guessing at one account
never locks out the colleagues behind the same address.

A browser where the person logged in before (``device``: a signed cookie the web layer set at
that log-in) is counted on its own, as one address is: neither the locks of the account
everywhere nor those of the address reach it. Otherwise anyone could keep a rektor out — thirty
wrong passwords from a few addresses, then one every quarter of an hour (reviewed) — or a pupil
on the school's network everyone at the school. Guessing needs no such cookie, and one stolen
with it is held to ``ACCOUNT``'s few tries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.store.db import Database
from engine.store.models import LoginCounter


@dataclass(frozen=True)
class Policy:
    free: int  # tries before the counter locks
    first_lock: timedelta  # the first lock; each later try doubles it
    max_lock: timedelta
    forget_after: timedelta  # a counter with no try for this long starts again from zero

    def lock_for(self, attempts: int) -> timedelta:
        return min(self.first_lock * (2 ** min(attempts - self.free, 20)), self.max_lock)


ACCOUNT = Policy(free=5, first_lock=timedelta(seconds=30), max_lock=timedelta(minutes=15),
                 forget_after=timedelta(hours=24))
ACCOUNT_WIDE = Policy(free=30, first_lock=timedelta(seconds=30), max_lock=timedelta(minutes=15),
                      forget_after=timedelta(hours=24))
ADDRESS = Policy(free=100, first_lock=timedelta(seconds=30), max_lock=timedelta(minutes=5),
                 forget_after=timedelta(hours=1))

# The longest username kap12 stores; a longer one cannot exist, and keys stay bounded.
_USERNAME_MAX = 100


def account_name(username: str) -> str:
    """The account a log-in names, as the throttle counts it: "Ola " and "ola" are one account."""
    return username.strip().lower()[:_USERNAME_MAX]


def _keys(username: str, address: str, device: str | None) -> dict[str, Policy]:
    account, place = f"u:{account_name(username)}", f"ip:{address[:60]}"
    if device:
        return {f"{account}|dev:{device[:40]}": ACCOUNT}
    return {f"{account}|{place}": ACCOUNT, account: ACCOUNT_WIDE, place: ADDRESS}


def _locked_rows(session: Session, keys: list[str], now: datetime) -> list[LoginCounter]:
    """The counter rows for ``keys``, created if missing, locked until the transaction ends.
    Sorted, so two workers always lock in the same order and never deadlock."""
    keys = sorted(keys)
    dialect = session.get_bind().dialect.name
    values = [{"key": k, "attempts": 0, "last_at": now} for k in keys]
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite if dialect == "sqlite" else postgresql).insert
        session.execute(insert(LoginCounter).values(values).on_conflict_do_nothing(index_elements=["key"]))
    else:  # other databases: writers are serialized by the write path's lock anyway
        existing = set(session.scalars(select(LoginCounter.key).where(LoginCounter.key.in_(keys))))
        session.add_all(LoginCounter(**v) for v in values if v["key"] not in existing)
        session.flush()
    query = select(LoginCounter).where(LoginCounter.key.in_(keys)).order_by(LoginCounter.key).with_for_update()
    return list(session.scalars(query.execution_options(populate_existing=True)))


def begin_attempt(db: Database, username: str, address: str, now: datetime, device: str | None = None) -> int:
    """Count one log-in attempt (from a browser known for this account: ``device``). 0: go on
    and check the password; otherwise the number of seconds to wait, and the attempt is not
    counted."""
    policies = _keys(username, address, device)
    with db.writing() as session:
        rows = _locked_rows(session, list(policies), now)
        waits = [(row.locked_until - now).total_seconds() for row in rows
                 if row.locked_until is not None and row.locked_until > now]
        if waits:
            return max(1, int(max(waits) + 0.999))
        for row in rows:
            policy = policies[row.key]
            if now - row.last_at >= policy.forget_after:
                row.attempts = 0
            row.attempts += 1
            row.last_at = now
            if row.attempts >= policy.free:
                row.locked_until = now + policy.lock_for(row.attempts)
        return 0


def succeeded(db: Database, username: str, address: str, now: datetime, device: str | None = None) -> None:
    """The password was right: the account starts again from zero, and the address gets back
    the try this log-in was charged (its failures stay counted)."""
    policies = _keys(username, address, device)
    with db.writing() as session:
        for row in _locked_rows(session, list(policies), now):
            policy = policies[row.key]
            if policy is not ADDRESS:
                row.attempts, row.locked_until = 0, None
            else:
                row.attempts = max(row.attempts - 1, 0)
                if row.attempts < policy.free:
                    row.locked_until = None
