"""The append-only, hash-chained history (DESIGN.md rule 5).

Each event's hash is taken over the previous event's hash and a canonical JSON encoding of
the event, so changing, removing or inserting an event breaks every hash after it. The
database also refuses UPDATE and DELETE on the table (triggers, see the migrations).

Three things keep the *end* of a chain from being cut or rewritten unnoticed:

- the case row carries its chain head (``chain_seq``, ``chain_hash``), written in the same
  transaction as the events, so a chain shorter than its head, or a head that differs, shows;
- checkpoints in the system chain record a digest over every head (``engine.write.checkpoints``);
- with a history key (``KAP12_HISTORY_KEY``) each hash is an HMAC, so recomputing hashes after
  a change needs the key. Each event records which key it was made with (``key_id``, empty for
  plain SHA-256), so chains begun before the key stay verifiable."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exc, func, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine.errors import DamagedHistory, NotFound
from engine.store.counted_events import completed_task_id, task_completed
from engine.store.events import DEADLINE_MISSED, ESCALATED, REMINDER, TIMER_FIRED
from engine.store.models import Case, HistoryEvent
from processes.messages import Message

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"
CASE_PREFIX = "case:"

# What a timer did is the system's act, never the person whose step happened to run the engine
# past it: these events are written, and shown, as the timer's.
SYSTEM_ACTOR = "kap12 (tidsur)"
TIMER_EVENTS = frozenset({TIMER_FIRED, DEADLINE_MISSED, REMINDER, ESCALATED})


def shown_actor(kind: str, actor: str) -> str:
    """Who did it, as pages and exports say it (also for events written before timers were
    always credited to the system)."""
    return SYSTEM_ACTOR if kind in TIMER_EVENTS else actor


def completed_task_event(session: Session, task_id: str) -> HistoryEvent | None:
    """The step that did ``task_id`` (None: no such step), from the index of the steps done by
    their task: it read every step of the installation (0.5 s at 400,000)."""
    return session.scalars(select(HistoryEvent).where(task_completed(HistoryEvent),
                                                      completed_task_id(HistoryEvent) == task_id)).first()


def case_chain(case_id: int) -> str:
    return f"{CASE_PREFIX}{case_id}"


def case_id_of(chain: str) -> int | None:
    """The case a chain belongs to, or None for the system chain (or a name that is no case's)."""
    if chain.startswith(CASE_PREFIX) and chain[len(CASE_PREFIX):].isdigit():
        return int(chain[len(CASE_PREFIX):])
    return None


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


# -- keys -------------------------------------------------------------------------------------
def key_id(key: bytes) -> str:
    """A public name for a key, stored on each event it signed: it says which key verifies the
    event without revealing the key."""
    return hashlib.sha256(b"kap12-history-key:" + key).hexdigest()[:16]


@dataclass(frozen=True)
class HistoryKeys:
    """The key new events are signed with (None: plain SHA-256) and every key, old ones too,
    that verification may use, by their ``key_id``."""

    current: bytes | None = None
    known: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, current: str, old: tuple[str, ...] = ()) -> "HistoryKeys":
        keys = [k.encode("utf-8") for k in (current, *old) if k]
        return cls(current.encode("utf-8") if current else None, {key_id(k): k for k in keys})

    @property
    def current_id(self) -> str | None:
        return key_id(self.current) if self.current else None


NO_KEYS = HistoryKeys()
SESSION_KEYS = "kap12_history_keys"  # Session.info entry the Database puts its keys under


def keys_of(session: Session | None) -> HistoryKeys:
    """The history keys of the database this session belongs to. They travel with the session
    so that every place that appends an event signs it the same way without passing keys on."""
    return session.info.get(SESSION_KEYS, NO_KEYS) if session is not None else NO_KEYS


def event_hash(prev_hash: str, chain: str, seq: int, at: datetime, actor_id: int | None, actor: str, kind: str,
               definition_id: int | None, data: dict, key: bytes | None = None) -> str:
    body = {"chain": chain, "seq": seq, "at": at.isoformat(), "actor_id": actor_id, "actor": actor,
            "kind": kind, "definition_id": definition_id, "data": data}
    message = prev_hash.encode("ascii") + canonical(body)
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


# -- appending --------------------------------------------------------------------------------
# Built once: every recorded read asks it (building it cost more than running it).
_CASE = select(Case).where(Case.id == bindparam("case_id"))
_LOCKED_CASE = _CASE.with_for_update(of=Case)


def _locked_case(session: Session, case_id: int) -> Case:
    """The case row, which carries the chain head and is the lock on its chain. A case already in
    the session is taken as locked: the write path loads it under the lock, and so does a read
    recorded (``access.case_with_level(..., lock=True)``); loaded there without the lock, the
    chain would fork. Elsewhere (incidents, reads of the command line) take it here."""
    loaded = session.identity_map.get(identity_key(Case, case_id))
    if loaded is not None:
        return loaded
    sqlite = session.get_bind().dialect.name == "sqlite"  # BEGIN IMMEDIATE already serializes
    case = session.scalars(_CASE if sqlite else _LOCKED_CASE, {"case_id": case_id}).first()
    if case is None:
        raise NotFound(Message("Saken finnes ikke."))
    return case


def lock_system_chain(session: Session) -> None:
    """Deploys, form versions and checkpoints from several processes queue here for the rest of
    the transaction instead of failing on the (chain, seq) unique key; on SQLite the single
    writer (BEGIN IMMEDIATE) already does this."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": SYSTEM_CHAIN})


def take_system_chain(session: Session, wait: bool) -> bool:
    """``lock_system_chain``, waiting for it; or, not ``wait``, only if no other transaction holds
    it (False then, at once). Whether this transaction has it. Not waiting is for a sweeper's
    work at an appointed time (a checkpoint, the notices), which it can leave to its next round:
    the holder (another sweeper doing that work, a deploy) may take seconds, and a sweeper queued
    behind it fired no timers meanwhile. On SQLite the single writer has the lock already."""
    if wait:
        lock_system_chain(session)
        return True
    if session.get_bind().dialect.name == "sqlite":
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:c))"), {"c": SYSTEM_CHAIN}))


def system_head(session: Session) -> tuple[int, str]:
    """The system chain's last event (number and hash), for a writer holding its lock."""
    return _system_head(session, SYSTEM_CHAIN)


def _system_head(session: Session, chain: str) -> tuple[int, str]:
    lock_system_chain(session)
    last = session.execute(select(HistoryEvent.seq, HistoryEvent.hash).where(HistoryEvent.chain == chain)
                           .order_by(HistoryEvent.seq.desc()).limit(1)).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


@dataclass(frozen=True)
class NewEvent:
    """One event to append: what happened, when, and who did it."""

    kind: str
    at: datetime
    actor_id: int | None = None
    actor: str = "system"
    data: dict | None = None
    definition_id: int | None = None


@dataclass(frozen=True)
class Appended:
    """Where an appended event landed in its chain."""

    chain: str
    seq: int
    hash: str


HISTORY = cast(Table, HistoryEvent.__table__)
_INSERT = insert(HISTORY)  # built once: every step sends it


def append(session: Session, chain: str, *, kind: str, at: datetime, actor_id: int | None = None, actor: str = "system",
           data: dict | None = None, case_id: int | None = None, definition_id: int | None = None) -> Appended:
    """Add one event at the end of ``chain`` (see ``append_all``)."""
    return append_all(session, chain, [NewEvent(kind, at, actor_id, actor, data, definition_id)], case_id=case_id)[-1]


def append_all(session: Session, chain: str, events: Iterable[NewEvent], *, case_id: int | None = None) -> list[Appended]:
    """Add events at the end of ``chain``, in order, with one statement. A case's chain continues
    from the head on its case row, which is moved on in the same transaction (under the case's
    write lock); the system chain continues from its last event.

    The rows are inserted at once, as a statement on the table rather than ORM objects (which
    cost a step a unit-of-work flush for each): the case row must be in the database already —
    it is locked here, or a new case was flushed before its first event."""
    if (case_id is None) != (chain == SYSTEM_CHAIN) or (case_id is not None and chain != case_chain(case_id)):
        raise ValueError(f"event for chain {chain!r} names case {case_id!r}")
    owner = _locked_case(session, case_id) if case_id is not None else None
    seq, prev = (owner.chain_seq, owner.chain_hash) if owner is not None else _system_head(session, chain)
    keys = keys_of(session)
    rows: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        # Round-trip through JSON so the hash covers exactly what is stored.
        data = json.loads(canonical(event.data or {}))
        digest = event_hash(prev, chain, seq, event.at, event.actor_id, event.actor, event.kind, event.definition_id,
                            data, keys.current)
        rows.append({"chain": chain, "seq": seq, "case_id": case_id, "at": event.at, "actor_id": event.actor_id,
                     "actor": event.actor, "kind": event.kind, "definition_id": event.definition_id, "data": data,
                     "prev_hash": prev, "hash": digest, "key_id": keys.current_id})
        prev = digest
    if not rows:
        return []
    session.connection().execute(_INSERT, rows)
    if owner is not None:
        owner.chain_seq, owner.chain_hash = seq, prev
    return [Appended(chain, row["seq"], row["hash"]) for row in rows]


def all_chains(session: Session) -> list[str]:
    return list(session.scalars(select(HistoryEvent.chain).group_by(HistoryEvent.chain).order_by(func.min(HistoryEvent.id))))


DAMAGED = ("Historikken kan ikke leses: noe i den er ødelagt. Ingenting er endret. En revisor kan se hva på "
           "revisjonssiden til saken, eller med «kap12 verify».")


@contextmanager
def readable() -> Iterator[None]:
    """Loading events as objects, or reading their data in SQL (the heat view's counts): a
    garbled time or data field (altered behind kap12's back) becomes a plain ``DamagedHistory``
    instead of a decoding error, or the database's refusal of the JSON it was asked to read;
    verification names it."""
    try:
        yield
    except (ValueError, TypeError) as err:
        raise DamagedHistory(DAMAGED) from err
    except exc.DBAPIError as err:
        if not _unreadable_json(err):
            raise
        raise DamagedHistory(DAMAGED) from err


def _unreadable_json(err: exc.DBAPIError) -> bool:
    """SQLite's words for data that is no JSON; PostgreSQL checks JSON as it is stored, and says
    so by its code (invalid text representation) if it ever met such data."""
    said = str(err.orig)
    return "malformed JSON" in said or (getattr(err.orig, "sqlstate", None) == "22P02" and "json" in said)
