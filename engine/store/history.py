"""The append-only, hash-chained history (DESIGN.md rule 5).

Each event's hash is SHA-256 over the previous event's hash and a canonical JSON encoding of
the event, so changing, removing or inserting an event breaks every hash after it. The
database also refuses UPDATE and DELETE on the table (triggers, see the migrations)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine.store.models import HistoryEvent

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def case_chain(case_id: int) -> str:
    return f"case:{case_id}"


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def event_hash(prev_hash: str, chain: str, seq: int, at: datetime, actor_id, actor: str, kind: str,
               definition_id, data: dict) -> str:
    body = {"chain": chain, "seq": seq, "at": at.isoformat(), "actor_id": actor_id, "actor": actor,
            "kind": kind, "definition_id": definition_id, "data": data}
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(body)).hexdigest()


def append(session, chain: str, *, kind: str, at: datetime, actor_id=None, actor: str = "system",
           data: dict | None = None, case_id: int | None = None, definition_id: int | None = None) -> HistoryEvent:
    """Add one event at the end of ``chain``. The caller's unit of work holds the case's write
    lock, and (chain, seq) is unique, so two writers can never both extend the same link."""
    last = session.execute(select(HistoryEvent.seq, HistoryEvent.hash).where(HistoryEvent.chain == chain)
                           .order_by(HistoryEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    # Round-trip through JSON so the hash covers exactly what is stored.
    data = json.loads(canonical(data or {}))
    digest = event_hash(prev, chain, seq, at, actor_id, actor, kind, definition_id, data)
    event = HistoryEvent(chain=chain, seq=seq, case_id=case_id, at=at, actor_id=actor_id, actor=actor,
                         kind=kind, definition_id=definition_id, data=data, prev_hash=prev, hash=digest)
    session.add(event)
    return event


@dataclass(frozen=True)
class ChainReport:
    chain: str
    events: int
    ok: bool
    last_hash: str
    broken_at: int | None = None  # seq of the first event that does not verify
    reason: str = ""


def verify_chain(session, chain: str) -> ChainReport:
    prev, expected_seq, count = GENESIS, 1, 0
    for ev in session.scalars(select(HistoryEvent).where(HistoryEvent.chain == chain).order_by(HistoryEvent.seq)):
        count += 1
        if ev.seq != expected_seq:
            return ChainReport(chain, count, False, prev, ev.seq,
                               f"hendelse nr. {expected_seq} mangler (neste er nr. {ev.seq})")
        if ev.prev_hash != prev:
            return ChainReport(chain, count, False, prev, ev.seq,
                               f"hendelse nr. {ev.seq} peker ikke på hendelsen før den")
        digest = event_hash(prev, chain, ev.seq, ev.at, ev.actor_id, ev.actor, ev.kind, ev.definition_id, ev.data)
        if digest != ev.hash:
            return ChainReport(chain, count, False, prev, ev.seq, f"hendelse nr. {ev.seq} er endret etter at den ble skrevet")
        prev, expected_seq = ev.hash, ev.seq + 1
    return ChainReport(chain, count, True, prev)


def all_chains(session) -> list[str]:
    return list(session.scalars(select(HistoryEvent.chain).group_by(HistoryEvent.chain).order_by(func.min(HistoryEvent.id))))
