"""Shared set-up for the benchmarks: a throwaway engine on a SQLite file with the demo people."""
from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.config import PROJECT_ROOT, Settings
from engine.demo import ensure_directory
from engine.runtime.clock import Clock
from engine.service import Kap12

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))


def engine_at(folder: Path, clock: Clock | None = None, url: str | None = None) -> Kap12:
    clock = clock or Clock()
    if clock._fixed is None:
        clock.set(MONDAY_9)
    kap12 = Kap12(Settings(database_url=url or f"sqlite:///{folder}/bench.sqlite3", instance_dir=folder,
                           bpmn_dir=PROJECT_ROOT / "bpmn", base_url="http://127.0.0.1:5000"), clock=clock)
    kap12.init()
    return kap12


def fresh(url: str | None = None):
    folder = Path(tempfile.mkdtemp(prefix="kap12-bench-"))
    kap12 = engine_at(folder, url=url)
    return folder, kap12, ensure_directory(kap12)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def row(label: str, value: str) -> None:
    print(f"  {label:<62} {value}")
