"""Checkpoints: now and then an event in the system chain records the head of every case's
chain, and of the system chain itself (``engine.store.checkpoint_digest``). Rewriting the end of a chain then means rewriting
the checkpoint too — and the checkpoint's digest, kept outside the database by the county, no
longer matches.

The sweeper writes one at most once an hour, and only when some chain has grown since the
last (a case's, or the system chain by an act: a role given, a version published); ``kap12 checkpoint`` writes one on demand."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from engine.store import history
from engine.store.checkpoint_digest import CHECKPOINT_KIND, Heads, checkpoint_data, fold_into
from engine.store.models import Case, CheckpointFold, CheckpointHead, HistoryEvent

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

log = logging.getLogger("kap12.checkpoints")

CHECKPOINT_EVERY = timedelta(hours=1)
ACTOR = "kap12 (kontrollpunkt)"
HEADS_PER_STATEMENT = 500  # chains named in one DELETE (SQLite's limit on parameters is far above)


@dataclass(frozen=True)
class CheckpointWritten:
    seq: int
    at: datetime
    digest: str
    chains: int
    changed: int


def _checkpoints() -> Select[HistoryEvent]:
    return (select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                       HistoryEvent.kind == CHECKPOINT_KIND).order_by(HistoryEvent.seq))


def _current_heads(session: Session) -> Heads:
    rows = session.execute(select(Case.id, Case.chain_seq, Case.chain_hash).where(Case.chain_seq > 0))
    return {history.case_chain(cid): (seq, digest) for cid, seq, digest in rows}


def write(kap12: Kap12, *, only_if_changed: bool = False, wait: bool = True) -> CheckpointWritten | None:
    """Write a checkpoint now (None when ``only_if_changed`` and no chain has grown, or when not
    ``wait`` and another transaction holds the system lock: a sweeper writing one or the
    appointed notices, a deploy; the sweeper that did not wait looks again next round)."""
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        if not history.take_system_chain(session, wait):  # two writers must not fold the same previous state
            return None
        heads, previous, late = _folded_heads(session)
        system = history.system_head(session)
        data = checkpoint_data(heads, _current_heads(session), previous, system)
        # Unchanged: no case chain has grown, and the system chain ends with the last checkpoint.
        if only_if_changed and previous is not None and not data["changed"] and system[0] == previous:
            if late:
                _keep_folded(session, late, previous)
            return None
        written = history.append(session, history.SYSTEM_CHAIN, kind=CHECKPOINT_KIND, at=now, actor=ACTOR, data=data)
        _keep_folded(session, late | {chain: (seq, digest) for chain, (seq, digest) in data["changed"].items()},
                     written.seq)
        return CheckpointWritten(written.seq, now, data["digest"], data["chains"], len(data["changed"]))


def _folded_heads(session: Session) -> tuple[Heads, int | None, Heads]:
    """Every chain's head as the latest checkpoint recorded it, that checkpoint's seq (None: no
    checkpoint yet), and the heads of checkpoints ``checkpoint_heads`` was not yet folded
    through (written by an older release, or all of them the first time), folded in here."""
    through = session.scalar(select(CheckpointFold.through_seq).where(CheckpointFold.id == 1))
    heads: Heads = {}
    if through is not None:
        heads = {chain: (seq, digest) for chain, seq, digest in
                 session.execute(select(CheckpointHead.chain, CheckpointHead.seq, CheckpointHead.hash))}
    late: Heads = {}
    previous = through
    for event in session.scalars(_checkpoints().where(HistoryEvent.seq > (through or 0))):
        fold_into(late, event.data)
        previous = event.seq
    heads.update(late)  # folding each late checkpoint in turn: later heads replace earlier ones
    return heads, previous, late


def _keep_folded(session: Session, changed: Heads, through: int) -> None:
    """``checkpoint_heads`` moved on to checkpoint ``through``: the changed heads replaced."""
    chains = sorted(changed)
    for start in range(0, len(chains), HEADS_PER_STATEMENT):
        session.execute(delete(CheckpointHead).where(CheckpointHead.chain.in_(chains[start:start + HEADS_PER_STATEMENT])))
    if chains:
        session.execute(insert(CheckpointHead), [{"chain": c, "seq": changed[c][0], "hash": changed[c][1]} for c in chains])
    session.merge(CheckpointFold(id=1, through_seq=through))


def write_if_due(kap12: Kap12, wait: bool = False) -> CheckpointWritten | None:
    """What the sweeper calls on every round: cheap unless an hour has passed since the last
    checkpoint and the total length of the case chains has changed, or the system chain has grown."""
    now = kap12.clock.now()
    with kap12.db.reading() as session:
        last = session.execute(select(HistoryEvent.seq, HistoryEvent.at, HistoryEvent.data)
                               .where(HistoryEvent.chain == history.SYSTEM_CHAIN, HistoryEvent.kind == CHECKPOINT_KIND)
                               .order_by(HistoryEvent.seq.desc()).limit(1)).first()
        if last is not None:
            if now - last.at < CHECKPOINT_EVERY:
                return None
            chains, events = session.execute(select(func.count(), func.coalesce(func.sum(Case.chain_seq), 0))
                                             .where(Case.chain_seq > 0)).one()
            system_grown = session.scalar(select(func.max(HistoryEvent.seq))
                                          .where(HistoryEvent.chain == history.SYSTEM_CHAIN)) != last.seq
            if (chains, events) == (last.data.get("chains"), last.data.get("events")) and not system_grown:
                return None
        elif session.scalar(select(func.count()).select_from(Case)) == 0:
            return None
    written = write(kap12, only_if_changed=True, wait=wait)  # at 100,000 cases a checkpoint takes 1-2 s
    if written:
        log.info("checkpoint %s: %s chains, digest %s", written.seq, written.chains, written.digest)
    return written
