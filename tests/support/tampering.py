"""What someone with the keys to the database does behind kap12's back: only ever on a
throwaway test database."""
from __future__ import annotations

import copy

from sqlalchemy import select, text

from engine.store import history
from engine.store.models import HistoryEvent


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
