"""A sweeper on a machine of its own shows its metrics itself (``kap12 timers --metrics-port``):
the timers it fired and how late, with nothing about a case."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from engine.config import PROJECT_ROOT, Settings
from engine.runtime.clock import Clock
from engine.service import Kap12
from engine.write.demo import ensure_directory, report_data
from processes.deadlines import add_working_hours
from webui import serving

from .serve_support import free_port, get
from .test_health import _value


def _working_moment_two_hours_ago() -> datetime:
    """A moment from which two working hours are over now: a receipt reminder made then is due."""
    moment = datetime.now(timezone.utc) - timedelta(days=1)
    while add_working_hours(moment, 2) > datetime.now(timezone.utc) - timedelta(minutes=1):
        moment -= timedelta(days=1)
    return moment


def test_a_sweeper_shows_the_timers_it_fired_on_its_own_port(tmp_path):
    url = f"sqlite:///{tmp_path}/kap12.sqlite3"
    clock = Clock()
    clock.set(_working_moment_two_hours_ago())
    kap12 = Kap12(Settings(database_url=url, instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                           base_url="http://127.0.0.1:5000"), clock=clock)
    kap12.init()
    people = ensure_directory(kap12)
    kap12.report(people.users["ansatt"], people.schools["Nordli videregående skole"],
                 report_data(hva_skjedde="Hemmelig hendelse ved Kvitfjellbekken"))
    kap12.close()

    port = free_port()
    env = {**os.environ, "KAP12_DATABASE_URL": url, "KAP12_INSTANCE_DIR": str(tmp_path),
           "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(tmp_path / "timers.log", "w") as log:
        sweeper = subprocess.Popen([sys.executable, "-m", "webui.cli", "timers", "--metrics-port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        try:
            fired, text = 0.0, ""
            deadline = time.monotonic() + 60
            while fired < 1 and time.monotonic() < deadline:
                time.sleep(0.5)
                try:
                    status, text = get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                except OSError:
                    continue
                assert status == 200
                fired = _value(text, "kap12_timers_fired_total")
            assert fired >= 1, (tmp_path / "timers.log").read_text()
            assert _value(text, "kap12_timer_lateness_seconds_count") >= 1
            assert "Kvitfjellbekken" not in text  # counts only
        finally:
            sweeper.terminate()
            sweeper.wait(60)


def test_a_web_servers_start_keeps_the_values_of_a_sweeper_still_running(tmp_path, monkeypatch):
    """``kap12 serve`` clears the values of processes that no longer run, not those of a sweeper
    started apart on this machine with the same folder (a restart of the web server removed
    the whole folder, and the sweeper's counts with it)."""
    monkeypatch.delenv(serving.MULTIPROC_ENV, raising=False)  # put back after the test
    folder = tmp_path / "metrics"
    folder.mkdir()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True).stdout.strip()
    sweeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for name in (f"counter_{sweeper.pid}.db", f"gauge_livesum_{sweeper.pid}.db", f"counter_{ended}.db",
                     f"histogram_{ended}.db"):
            (folder / name).write_bytes(b"values")
        serving.prepare_metrics_dir(Settings(database_url="sqlite://", instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                                             base_url="http://127.0.0.1:5000", metrics_dir=folder))
        assert sorted(p.name for p in folder.iterdir()) == [f"counter_{sweeper.pid}.db",
                                                            f"gauge_livesum_{sweeper.pid}.db"]
        assert os.environ[serving.MULTIPROC_ENV] == str(folder)
    finally:
        sweeper.kill()
        sweeper.wait()
