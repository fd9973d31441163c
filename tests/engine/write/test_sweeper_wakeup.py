"""The sweeper sleeps until the next due timer and is woken when a step writes a sooner one."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from engine.runtime.clock import Clock
from engine.write import wakeup
from engine.write.demo import ensure_directory, report_data
from engine.write.timers import Sweeper, next_due
from processes.deadlines import OSLO

NORDLI = "Nordli videregående skole"


def _asleep(sweeper: Sweeper) -> None:
    """Started, one round swept, and asleep with nothing due."""
    sweeper.start()
    while sweeper.rounds < 1:
        time.sleep(0.05)
    assert next_due(sweeper.kap12) is None


def _fired(kap12, case_id: int, within: float) -> list:
    """The case's timers fired, once one has (waiting up to ``within`` seconds)."""
    deadline = time.monotonic() + within
    fired: list = []
    while not fired and time.monotonic() < deadline:
        fired = [e for e in kap12.case_history(case_id) if e.kind == "timer_fired"]
        time.sleep(0.1)
    return fired


def test_a_sleeping_sweeper_wakes_for_a_sooner_timer_and_fires_it_once(make_kap12, db_url, tmp_path, monkeypatch):
    """Only the step's wake-up can make the sweeper fire in time here: it would otherwise look
    again after ten minutes (the horizon's third), and on SQLite poll no sooner (the test gave
    the wake-up a minute while a sweeper looked again every five seconds, and passed without it)."""
    monkeypatch.setattr(wakeup, "HORIZON", timedelta(minutes=30))
    monkeypatch.setattr(wakeup, "SQLITE_POLL_SECONDS", 600)
    clock = Clock()
    kap12 = make_kap12(db_url, tmp_path, clock)
    kap12.init()
    people = ensure_directory(kap12)
    # Real time, shifted to three seconds before the end of a Monday's working day: a report now
    # must be received "the same working day", so its deadline falls due in three seconds.
    clock.advance(datetime(2026, 11, 30, 15, 59, 57, tzinfo=OSLO) - datetime.now(timezone.utc))
    sweeper = Sweeper(kap12, idle=600)  # with nothing due it would sleep ten minutes
    try:
        _asleep(sweeper)
        case = kap12.report(people.users["ansatt"], people.schools[NORDLI], report_data())
        assert next_due(kap12) is not None
        fired = _fired(kap12, case.id, 20)  # due in three seconds; without the wake-up, ten minutes
        assert fired, "the sweeper slept through a timer that fell due"
        late = [e.at - datetime.fromisoformat(e.data["due_at"]) for e in fired]
        assert all(timedelta(0) <= d < timedelta(seconds=10) for d in late), late
        assert {e.data["timer"] for e in fired} and len({e.data["due_at"] for e in fired}) == 1
        assert len(fired) == len({(e.data["element"], e.data["process_id"]) for e in fired})  # each once
    finally:
        sweeper.stop()
        sweeper.join(30)
        kap12.close()
    assert not sweeper.is_alive()


def test_a_timer_beyond_the_horizon_wakes_nobody_and_is_still_fired_on_time(make_kap12, db_url, tmp_path,
                                                                            monkeypatch):
    """A step announces only timers due within the horizon; sweepers look again at least that
    often, so a later timer is found before it is due without anyone being woken for it."""
    monkeypatch.setattr(wakeup, "HORIZON", timedelta(seconds=1))
    clock = Clock()
    kap12 = make_kap12(db_url, tmp_path, clock)
    kap12.init()
    people = ensure_directory(kap12)
    # Three seconds before the end of the working day: the report's deadline is due in three
    # seconds, beyond the one-second horizon.
    clock.advance(datetime(2026, 11, 30, 15, 59, 57, tzinfo=OSLO) - datetime.now(timezone.utc))
    woken = []
    monkeypatch.setattr(kap12.wakeup, "notify", lambda: woken.append(True))  # this process's sweepers
    other = wakeup.Listener(kap12.settings.database_url, wakeup.Wakeup(), kap12.db.is_sqlite)
    other.wait(0)  # another machine's sweeper, listening (PostgreSQL) before the report
    sweeper = Sweeper(kap12, idle=600)
    try:
        _asleep(sweeper)
        case = kap12.report(people.users["ansatt"], people.schools[NORDLI], report_data())
        assert not other.wait(0.5) and not woken, "a step announced a timer due beyond the horizon"
        assert _fired(kap12, case.id, 30), "the sweeper slept through a timer beyond the horizon"
        assert not woken
    finally:
        other.close()
        sweeper.stop()
        sweeper.join(30)
        kap12.close()
    assert not sweeper.is_alive()
