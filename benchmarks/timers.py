"""The timer sweeper: does a sweep cost more when more timers wait, and how many due timers
does one sweeper fire per second? On SQLite and on a throwaway PostgreSQL.

Run: .venv/bin/python benchmarks/timers.py [--quick] [--sqlite-only]"""
from __future__ import annotations

import argparse
import shutil
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]  # the engine package before benchmarks/engine.py

from _common import fresh, median_ms, row, timed  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from engine.store.models import PendingTimer  # noqa: E402
from engine.write.demo import report_data  # noqa: E402

NORDLI = "Nordli videregående skole"


def _waiting_rows(kap12, case_id: int, count: int, start) -> None:
    """``count`` timers that wait far in the future, on a case of their own."""
    for offset in range(0, count, 10_000):
        with kap12.db.writing() as session:
            session.execute(insert(PendingTimer), [
                {"id": f"w-{i:09d}", "case_id": case_id, "element_id": "Benchmark", "name": "venter", "kind": "",
                 "due_at": start + timedelta(days=365, seconds=i), "attempts": 0}
                for i in range(offset, min(offset + 10_000, count))])


def sweep_cost(url_factory, waiting: int, due: int = 10, trials: int = 3) -> float:
    samples = []
    for _ in range(trials):
        folder, kap12, demo = fresh(url_factory())
        base = kap12.clock.now()
        for _ in range(due):
            kap12.report(demo.users["ansatt"], demo.schools[NORDLI], report_data())
        kap12.clock.advance(timedelta(hours=1))
        quiet = kap12.report(demo.users["ansatt"], demo.schools[NORDLI], report_data())
        _waiting_rows(kap12, quiet.id, waiting, base)
        kap12.clock.set(base + timedelta(hours=2, minutes=1))
        result = {}
        samples.append(timed(lambda result=result, kap12=kap12: result.update(r=kap12.sweep_timers())))
        assert result["r"].claimed == due, result
        kap12.close()
        shutil.rmtree(folder, ignore_errors=True)
    return median_ms(samples)


def firing_rate(url_factory, due: int) -> tuple[float, float]:
    folder, kap12, demo = fresh(url_factory())
    base = kap12.clock.now()
    for _ in range(due):
        kap12.report(demo.users["ansatt"], demo.schools[NORDLI], report_data())
    kap12.clock.set(base + timedelta(hours=2, minutes=1))  # one reminder due in every case
    result = {}
    seconds = timed(lambda: result.update(r=kap12.sweep_timers()))
    assert result["r"].claimed == due and not result["r"].failures, result
    kap12.close()
    shutil.rmtree(folder, ignore_errors=True)
    return due / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    sizes = [100, 10_000] if args.quick else [100, 10_000, 100_000]
    due_many = 500 if args.quick else 10_000

    backends = [("SQLite", lambda: None)]
    server = None
    if not args.sqlite_only:
        from support.postgres import postgres_available, start_postgres

        if postgres_available():
            server = start_postgres()
            counter = iter(range(10_000))
            backends.append(("PostgreSQL", lambda: server.create_database(f"bench_{next(counter)}")))
        else:
            print("PostgreSQL is not installed here; measuring SQLite only.")
    try:
        for name, url_factory in backends:
            print(f"kap12 timer sweeper benchmark – {name}")
            costs = {n: sweep_cost(url_factory, n) for n in sizes}
            for n, ms in costs.items():
                row(f"one sweep firing 10 due timers, {n:,} waiting", f"{ms:8.1f} ms")
            row(f"    ratio {sizes[-1]:,} / 100 waiting", f"{costs[sizes[-1]] / costs[100]:8.2f}")
            rate, seconds = firing_rate(url_factory, due_many)
            row(f"one sweeper firing {due_many:,} due timers (one per case)", f"{rate:8.0f} timers/s ({seconds:.1f} s)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
