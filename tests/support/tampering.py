"""What someone with the keys to the database does behind kap12's back: only ever on a
throwaway test database."""
from __future__ import annotations

import copy

from sqlalchemy import select, text

from engine.store import history
from engine.store.checkpoint_digest import CHECKPOINT_KIND, heads_digest
from engine.store.models import Case, HistoryEvent


def unguard_history(kap12) -> None:
    """Drop the triggers that refuse to change or delete history, so a test can forge it."""
    with kap12.db.writing() as session:
        for trigger in ("history_events_no_update", "history_events_no_delete"):
            on = "" if kap12.db.is_sqlite else " ON history_events"
            session.execute(text(f"DROP TRIGGER {trigger}{on}"))


def reword_a_deployment(session) -> int:
    """The first published version's comment changed in place (after ``unguard_history``), as a
    forger would to say it was approved; the event's number."""
    deployed = session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                          HistoryEvent.kind == "deployed")
                               .order_by(HistoryEvent.seq)).first()
    data = copy.deepcopy(deployed.data)
    data["comment"] = "Godkjent av skoleeier"
    deployed.data = data
    session.flush()
    return deployed.seq


def rehash_system_chain(session, start: int) -> None:
    """What a forger with the database (and no key, or the key) does after changing the system
    chain's event ``start``: every hash from it on computed again, so the chain links up."""
    events = session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN)
                             .order_by(HistoryEvent.seq)).all()
    prev = history.GENESIS
    for ev in events:
        if ev.seq >= start:
            ev.prev_hash = prev
            ev.hash = history.event_hash(prev, ev.chain, ev.seq, ev.at, ev.actor_id, ev.actor, ev.kind,
                                         ev.definition_id, ev.data)
        prev = ev.hash
    session.flush()


def append_earlier_release_checkpoint(kap12) -> str:
    """A checkpoint as releases before the system chain's head was recorded wrote it (every case
    chain's head, the digest over those alone), appended now; its digest. Written by kap12
    itself then, so no guard is lifted: it stands for an installation upgraded since."""
    with kap12.db.writing() as session:
        history.take_system_chain(session, True)
        heads = {history.case_chain(cid): (seq, digest) for cid, seq, digest in
                 session.execute(select(Case.id, Case.chain_seq, Case.chain_hash).where(Case.chain_seq > 0))}
        data = {"digest": heads_digest(heads), "chains": len(heads), "events": sum(seq for seq, _ in heads.values()),
                "changed": {chain: list(head) for chain, head in sorted(heads.items())}, "previous": None}
        history.append(session, history.SYSTEM_CHAIN, kind=CHECKPOINT_KIND, at=kap12.clock.now(),
                       actor="kap12 (kontrollpunkt)", data=data)
        return data["digest"]
