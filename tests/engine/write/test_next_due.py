"""When the next timer may be fired: the leased timers are read from their own index, not found
among every timer waiting."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from support.plans import answered, plan_of

from engine.store.models import PendingTimer
from engine.write.timers import next_due


def test_a_lease_is_found_from_the_index_of_the_leased(flow, kap12, demo, clock):
    flow.report()
    flow.report()
    lease_ends = clock.now() + timedelta(minutes=2)
    with kap12.db.writing() as session:
        session.execute(update(PendingTimer).values(claimed_until=lease_ends))
    found, sent = answered(kap12.db.engine, lambda: next_due(kap12))
    assert found == lease_ends  # every timer leased: the next is when a lease ends
    [(statement, parameters)] = [s for s in sent if "min(pending_timers.claimed_until)" in s[0]]
    if kap12.db.is_sqlite:
        with kap12.db.engine.connect() as connection:
            plan = " ".join(str(r) for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    else:
        plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off")
    assert "ix_pending_timers_leased" in plan, plan
