"""What a sweeper writes at an appointed time (a checkpoint, the weekly and the daily notices) is
written by one sweeper under the system lock. Another sweeper that finds the lock taken does not
queue behind it: it goes on firing timers and looks again next round. Queued, it fired none
while the first one gathered a county's notices (14.5 s at 100,000 cases before those were
asked set-based) or folded a checkpoint (1-2 s)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from support.backends import only_postgresql

from engine.store import history
from engine.write import checkpoints
from processes.deadlines import OSLO

pytestmark = only_postgresql  # the lock held here is PostgreSQL's (on SQLite the single writer is the lock)


@pytest.fixture
def past_deadline(flow, kap12):
    """A county on PostgreSQL at 08:00 on Tuesday, with Monday's report past its receipt deadline."""
    flow.report()
    monday = kap12.clock.now().astimezone(OSLO)
    kap12.clock.set((monday + timedelta(days=1)).replace(hour=8, minute=0))
    return kap12


def _hold_the_lock(connection) -> None:
    """What another sweeper writing at the appointed time holds, for the rest of its transaction."""
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": history.SYSTEM_CHAIN})


def test_a_sweeper_does_not_queue_behind_another_writing_at_the_appointed_time(past_deadline):
    kap12 = past_deadline
    kap12.sweep_timers()  # the receipt deadline is missed: a task past its deadline
    done: list[tuple[int, object]] = []
    with kap12.db.engine.connect() as other:  # another sweeper, in the middle of writing them
        _hold_the_lock(other)
        sweeper = threading.Thread(target=lambda: done.append((kap12.send_overdue_notices(),
                                                               checkpoints.write_if_due(kap12))))
        sweeper.start()
        sweeper.join(30)  # queued behind the lock, it would still be waiting
        queued = sweeper.is_alive()
        other.rollback()
    sweeper.join()
    assert not queued and done == [(0, None)]  # nothing written, nothing waited for
    assert kap12.send_overdue_notices() >= 2 and checkpoints.write_if_due(kap12) is not None  # the next round


def test_a_round_on_its_own_waits_for_the_lock_and_writes(past_deadline):
    """``kap12 timers --once`` has nothing else to do and may not run again that day: it waits
    for the lock, and writes the day's notice once it has it."""
    kap12 = past_deadline
    done: list = []
    with kap12.db.engine.connect() as other:
        _hold_the_lock(other)
        alone = threading.Thread(target=lambda: done.append(kap12.sweep_round()))
        alone.start()
        with kap12.db.engine.connect() as look:  # until the round waits for the lock
            waited = any(look.execute(text("SELECT pg_sleep(0.05), count(*) FROM pg_locks "
                                           "WHERE locktype = 'advisory' AND NOT granted")).one()[1]
                         for _ in range(600))
        other.rollback()
    alone.join()
    assert waited and done[0].fired.claimed and done[0].notices >= 2
