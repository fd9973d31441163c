"""The timer service: exactly once across several sweepers and a killed one, catch-up after
downtime, and failing timers that become incidents without blocking the others."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from engine.errors import NotFound
from engine.store.models import HistoryEvent, PendingTimer
from engine.write.timers import LEASE, MAX_ATTEMPTS
from tests.support.counties import person_of_another_county

HERE = Path(__file__).resolve().parent


def _reports(flow, n: int) -> list[int]:
    return [flow.report().id for _ in range(n)]


def _fired(kap12) -> Counter:
    """(case, element) → how many times that timer fired, from the history."""
    with kap12.db.reading() as s:
        rows = s.execute(select(HistoryEvent.case_id, HistoryEvent.data).where(HistoryEvent.kind == "timer_fired")).all()
    return Counter((case_id, data["element"]) for case_id, data in rows)


def _sweepers(url: str, now, count: int, batch: int = 20, slow: float = 0.0) -> list[subprocess.Popen]:
    env = dict(os.environ, PYTHONPATH=str(HERE.parents[2]))
    return [subprocess.Popen([sys.executable, str(HERE / "sweeper_process.py"), url, now.isoformat(), str(batch),
                              str(slow)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            for _ in range(count)]


def test_catch_up_after_downtime_records_due_and_fired_time(flow, kap12, demo):
    case = flow.report()  # Monday 09:00: reminder due 11:00, deadline 16:00
    kap12.clock.advance(timedelta(days=1))  # nothing ran overnight
    kap12.sweep_timers()
    fired = [e.data for e in kap12.case_history(case.id) if e.kind == "timer_fired"]
    assert [f["kinds"] for f in fired] == [["paminnelse"], ["eskalering", "frist"]] or \
        sorted(tuple(f["kinds"]) for f in fired) == [("eskalering", "frist"), ("paminnelse",)]
    for f in fired:
        assert f["fired_at"] > f["due_at"] and f["late_by_seconds"] > 0
    assert "Følg opp forsinket mottak" in flow.open_titles(case.id)


def test_failing_timer_becomes_an_incident_and_blocks_no_other(flow, kap12, demo, monkeypatch):
    broken, healthy = _reports(flow, 2)
    from engine.write import cases
    original = cases.fire_due_timers

    def buggy(k, case_id):
        if case_id == broken:
            raise RuntimeError("uttrykket feilet")
        return original(k, case_id)

    monkeypatch.setattr(cases, "fire_due_timers", buggy)
    kap12.clock.advance(timedelta(hours=2, minutes=1))
    first = kap12.sweep_timers()
    assert first.failures == [(broken, "RuntimeError: uttrykket feilet")]
    assert flow.kinds(healthy).count("reminder") == 1
    for attempt in range(2, MAX_ATTEMPTS + 1):  # back-off: each retry waits longer
        kap12.clock.advance(timedelta(minutes=2 ** (attempt - 1), seconds=1))
        assert kap12.sweep_timers().failures, attempt
    admin = demo.users["admin"]
    [incident] = kap12.incidents(admin).items
    assert incident.case_id == broken and "uttrykket feilet" in incident.last_error
    # Another county's administrator sees none of this county's cases, and resolves nothing here.
    stranger = person_of_another_county(kap12, "administrator")
    assert kap12.incidents(stranger).items == []
    with pytest.raises(NotFound):
        kap12.resolve_incident(stranger, incident.id, "Rettet.")
    assert "incident" in flow.kinds(broken)
    kap12.clock.advance(timedelta(hours=1))
    assert kap12.sweep_timers().claimed == 0  # an incident waits for a person
    monkeypatch.setattr(cases, "fire_due_timers", original)
    kap12.resolve_incident(admin, incident.id, "Rettet feilen i diagrammet.")
    kap12.sweep_timers()
    assert kap12.incidents(admin).items == []
    assert flow.kinds(broken).count("reminder") == 1 and "incident_resolved" in flow.kinds(broken)
    assert all(r.ok for r in kap12.verify([broken, healthy]))


def test_incidents_are_for_administrators(kap12, demo):
    from engine.errors import Denied

    with pytest.raises(Denied):
        kap12.incidents(demo.users["ansatt"])


@pytest.mark.parametrize("sweepers", [2, 4])
def test_several_sweepers_fire_each_timer_exactly_once(flow_on, make_kap12, db_url, tmp_path, clock, sweepers):
    """PostgreSQL: sweepers claim disjoint rows (SKIP LOCKED). SQLite: one writer at a time
    (BEGIN IMMEDIATE), so extra sweepers queue up; either way each timer fires once."""
    from engine.write.demo import ensure_directory

    url = db_url
    kap12 = make_kap12(url, tmp_path, clock)
    kap12.init()
    cases = _reports(flow_on(kap12, ensure_directory(kap12)), 250)  # each has a reminder and a deadline: 500 due timers …
    # … and 500 more rows due at the same time on the same cases' clock, as a real backlog would.
    due = clock.now() + timedelta(hours=2, minutes=1)
    with kap12.db.writing() as s:
        s.execute(insert(PendingTimer), [{"id": f"extra-{i}", "case_id": cases[i % len(cases)], "element_id": "X",
                                          "name": "ekstra", "kind": "", "due_at": due - timedelta(hours=3),
                                          "attempts": 0} for i in range(500)])
    later = clock.now() + timedelta(hours=8)  # both timers of every case are due
    procs = _sweepers(url, later, sweepers)
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    fired = _fired(kap12)
    assert len(fired) == 500 and set(fired.values()) == {1}, outputs
    # (How the work was shared depends on who started first; that each fired once does not.)
    with kap12.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PendingTimer).where(PendingTimer.due_at <= later)) == 0
    assert all(r.ok for r in kap12.verify())
    kap12.close()


def test_a_sweeper_killed_mid_sweep_loses_nothing_and_fires_nothing_twice(flow_on, make_kap12, db_url, tmp_path, clock):
    from engine.write.demo import ensure_directory

    url = db_url
    kap12 = make_kap12(url, tmp_path, clock)
    kap12.init()
    _reports(flow_on(kap12, ensure_directory(kap12)), 60)
    later = clock.now() + timedelta(hours=8)
    [victim] = _sweepers(url, later, 1, batch=10, slow=0.05)
    # Kill it once it has fired something (how long it takes to start depends on the machine's load).
    deadline = time.monotonic() + 120
    while not _fired(kap12) and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    partly = sum(_fired(kap12).values())
    assert 0 < partly < 120, "the kill should land mid-sweep"
    # The killed sweeper's leases lapse; the next sweeper takes over.
    [heir] = _sweepers(url, later + LEASE + timedelta(seconds=1), 1)
    out = heir.communicate(timeout=600)[0]
    assert heir.returncode == 0, out
    fired = _fired(kap12)
    assert len(fired) == 120 and set(fired.values()) == {1}
    assert all(r.ok for r in kap12.verify())
    kap12.close()
