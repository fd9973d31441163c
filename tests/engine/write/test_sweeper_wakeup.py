"""The sweeper sleeps until the next due timer and is woken when a step writes a sooner one."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from engine.runtime.clock import Clock
from engine.write.demo import ensure_directory, report_data
from engine.write.timers import Sweeper, next_due
from processes.deadlines import OSLO

NORDLI = "Nordli videregående skole"


def test_a_sleeping_sweeper_wakes_for_a_sooner_timer_and_fires_it_once(make_kap12, db_url, tmp_path):
    clock = Clock()
    kap12 = make_kap12(db_url, tmp_path, clock)
    kap12.init()
    people = ensure_directory(kap12)
    # Real time, shifted to three seconds before the end of a Monday's working day: a report now
    # must be received "the same working day", so its deadline falls due in three seconds.
    clock.advance(datetime(2026, 11, 30, 15, 59, 57, tzinfo=OSLO) - datetime.now(timezone.utc))
    sweeper = Sweeper(kap12, idle=600)  # with nothing due it would sleep ten minutes
    sweeper.start()
    try:
        while sweeper.rounds < 1:
            time.sleep(0.05)
        assert next_due(kap12) is None  # asleep, with nothing to wait for
        case = kap12.report(people.users["ansatt"], people.schools[NORDLI], report_data())
        assert next_due(kap12) is not None
        deadline = time.monotonic() + 60  # far less than the ten minutes it would otherwise sleep
        fired = []
        while not fired and time.monotonic() < deadline:
            fired = [e for e in kap12.case_history(case.id) if e.kind == "timer_fired"]
            time.sleep(0.1)
        assert fired, "the sweeper slept through a timer that fell due"
        assert {e.data["timer"] for e in fired} and len({e.data["due_at"] for e in fired}) == 1
        assert len(fired) == len({(e.data["element"], e.data["process_id"]) for e in fired})  # each once
    finally:
        sweeper.stop()
        sweeper.join(30)
        kap12.close()
    assert not sweeper.is_alive()
