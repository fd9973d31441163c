"""A sweeper in a process of its own, for tests that run several or kill one.

usage: python sweeper_process.py DATABASE_URL ISO_NOW [BATCH] [SLOW_SECONDS]"""
import sys
import time
from datetime import datetime
from pathlib import Path

from engine.config import PROJECT_ROOT, Settings
from engine.runtime.clock import Clock
from engine.service import Kap12


def main() -> None:
    url, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    slow = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    clock = Clock()
    clock.set(now)
    kap12 = Kap12(Settings(database_url=url, instance_dir=Path("/tmp"), bpmn_dir=PROJECT_ROOT / "bpmn",
                           base_url="http://127.0.0.1:5000"), clock=clock)
    if slow:  # widen the window in which a kill lands mid-sweep
        from engine.write import cases
        original = cases.fire_due_timers

        def slowly(k, case_id):
            time.sleep(slow)
            return original(k, case_id)

        cases.fire_due_timers = slowly
    from engine.write.timers import sweep

    result = sweep(kap12, batch=batch)
    print(f"claimed={result.claimed} advanced={result.cases_advanced} failures={len(result.failures)}", flush=True)
    for case_id, error in result.failures:
        print(f"failure case={case_id}: {error}", flush=True)


if __name__ == "__main__":
    main()
