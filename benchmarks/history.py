"""How long verifying a case's history takes: the hash chain, and re-execution of every step,
for cases of about 20, 100 and 500 events, and for a whole database of cases. SQLite.

Run: .venv/bin/python benchmarks/history.py [--quick]"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # the engine package before benchmarks/engine.py

import _bulk  # noqa: E402
from _common import fresh, logged_in, median_ms, row, timed  # noqa: E402

from engine.audit import integrity  # noqa: E402
from engine.audit.replay import verify_case  # noqa: E402
from engine.write.demo import complete_next, report_data  # noqa: E402
from webui.app import create_app  # noqa: E402

NORDLI = "Nordli videregående skole"
LEADER = "avdelingsleder"


def case_with_events(kap12, demo, target: int) -> int:
    """A procedure A case followed up round after round until it has about ``target`` events
    (reads are events too: the leader opens the case in each round, as people do)."""
    u = demo.users
    case = kap12.report(u["ansatt"], demo.schools[NORDLI], report_data())
    complete_next(kap12, u[LEADER], case.id)
    complete_next(kap12, u[LEADER], case.id, trygt_skolemiljo="nei")
    def tomorrow() -> str:  # evaluation dates are never in the past: one round a day
        return (kap12.clock.now() + timedelta(days=1)).date().isoformat()

    complete_next(kap12, u[LEADER], case.id, evalueringsdato=tomorrow())
    while len(kap12.case_history(case.id)) < target:
        kap12.case(u[LEADER], case.id)
        complete_next(kap12, u[LEADER], case.id)
        kap12.clock.advance(timedelta(days=1))
        kap12.sweep_timers()
        complete_next(kap12, u[LEADER], case.id, evaluering_resultat="fortsette", evalueringsdato=tomorrow())
    return case.id


def verify_times(kap12, case_id: int, repeats: int) -> tuple[float, float]:
    def check_chain():
        with kap12.db.reading() as session:
            assert integrity.check_case(session, kap12.history_keys, case_id).ok

    def reexecute():
        assert verify_case(kap12, case_id).ok

    return (median_ms([timed(check_chain) for _ in range(repeats)]),
            median_ms([timed(reexecute) for _ in range(repeats)]))


def page_ms(client, case_id: int, repeats: int) -> float:
    """The case page as its leader opens it (each opening is one more read of the case)."""
    def load():
        assert client.get(f"/saker/{case_id}").status_code == 200

    return median_ms([timed(load) for _ in range(repeats)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    args = parser.parse_args()
    sizes, repeats, many, reads = ([20, 100], 2, 200, 200) if args.quick else ([20, 100, 500], 3, 10_000, 2_000)

    print("kap12 history verification benchmark (SQLite)")
    folder, kap12, demo = fresh()
    client = logged_in(create_app(kap12), LEADER)
    for size in sizes:
        case_id = case_with_events(kap12, demo, size)
        events = len(kap12.case_history(case_id))
        chain_ms, replay_ms = verify_times(kap12, case_id, repeats)
        row(f"one case, {events} events: hash chain", f"{chain_ms:9.1f} ms")
        row(f"one case, {events} events: re-execution", f"{replay_ms:9.1f} ms")
        row(f"one case, {events} events: its page", f"{page_ms(client, case_id, 5):9.1f} ms")
    for _ in range(reads):  # a case much looked at: every view of the page is a read
        kap12.case(demo.users[LEADER], case_id)
    row(f"the same case after {reads:,} more reads: its page", f"{page_ms(client, case_id, 5):9.1f} ms")
    kap12.close()
    shutil.rmtree(folder, ignore_errors=True)

    folder, kap12, demo = fresh()
    u = demo.users
    made = []
    for i in range(8):  # short cases in different stages, as a county's database holds
        case = kap12.report(u["ansatt"], demo.schools[NORDLI], report_data())
        for step in range(i % 4):  # received, investigated (safe), closed
            complete_next(kap12, u[LEADER], case.id, **({"trygt_skolemiljo": "ja"} if step == 1 else {}))
        made.append(case.id)
    kap12.clock.advance(timedelta(hours=9))
    kap12.sweep_timers()  # the first deadlines missed: escalations in the history
    # The rest are copies of these (benchmarks/_bulk.py) at the same times, which re-execution
    # accepts: building 10,000 cases step by step took longer than the benchmark's budget.
    with kap12.db.reading() as session:
        templates = [_bulk.load_template(session, case_id) for case_id in made]
    started = time.perf_counter()
    _bulk.clone(kap12, templates, many - len(made), [demo.schools[NORDLI]], open_share=0.5, spread=False)
    row(f"built {many:,} cases ({len(made)} through the write path, the rest copies)",
        f"{time.perf_counter() - started:9.1f} s")
    seconds = timed(lambda: all(r.ok for r in kap12.verify()) or sys.exit("a chain is broken"))
    row(f"all {many:,} cases: hash chains", f"{seconds:9.1f} s")
    from sqlalchemy import select

    from engine.store.models import Case

    with kap12.db.reading() as session:
        ids = list(session.scalars(select(Case.id)))
    seconds = timed(lambda: all(verify_case(kap12, i).ok for i in ids) or sys.exit("a case diverges"))
    row(f"all {many:,} cases: re-execution", f"{seconds:9.1f} s ({seconds / len(ids) * 1000:.1f} ms a case)")
    kap12.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
