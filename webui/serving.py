"""``kap12 serve``: the web pages under gunicorn, with the embedded sweeper as a process beside it.

Each gunicorn worker is a process with its own database connections; nothing a worker needs
lives in another's memory (DESIGN.md rule 8). On SIGTERM (or Ctrl+C) gunicorn stops taking new
connections and lets every request in progress finish before the workers exit, and the
sweeper finishes the case it is firing, so a restart loses nothing that was acknowledged."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from engine.config import Settings
from webui import logs
from webui.sweeper_keeper import SweeperKeeper

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
GRACEFUL_SECONDS = 30  # a request still running this long after SIGTERM is cut off


def default_workers(settings: Settings) -> int:
    """``KAP12_WEB_WORKERS``, else one process for the embedded SQLite default, and one per core
    on PostgreSQL. (Not gunicorn's usual two per core plus one, which is for workers that wait
    on the network with no threads: kap12's requests are CPU-bound once the database has
    answered, and each worker's threads cover the waits. Measured with the write mix on two
    cores: 2 workers took 84-89 writes/s, 3 took 81, 5 took 71-75.)"""
    if settings.web_workers:
        return max(1, settings.web_workers)
    if settings.database_url.startswith("sqlite"):
        return 1
    return os.cpu_count() or 1


def prepare_metrics_dir(settings: Settings) -> Path:
    """The directory where every process of this server writes its metric values, without the
    values of processes that no longer run (a previous run's would be added to this one's). A
    sweeper started apart on this machine (``kap12 timers``) with the same directory keeps its
    own: removing the whole folder, as a restart of the web server did, lost its counts. It must
    be in the environment before prometheus-client is imported (it decides its storage then)."""
    path = settings.metrics_dir or settings.instance_dir / "metrics"
    path.mkdir(parents=True, exist_ok=True)
    for values in path.glob("*.db"):
        if not _running(values.stem.rpartition("_")[2]):
            values.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)  # noqa: TID251 - prometheus-client and the workers read it
    return path


def _running(pid: str) -> bool:
    """Whether the process that wrote a values file (``counter_<pid>.db``) still runs here."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


def _child_exit(_server: Arbiter, worker: Worker) -> None:
    # A worker that is gone stops counting in the gauges it set (sums of counters stay). Imported
    # here: prometheus-client must not load in this process before prepare_metrics_dir ran.
    from prometheus_client import multiprocess  # noqa: PLC0415

    multiprocess.mark_process_dead(worker.pid)


class _Arbiter(Arbiter):
    """gunicorn's master, which tells the sweeper's keeper first when it is told to stop."""

    keeper: SweeperKeeper | None = None

    def signal(self, sig: int, frame: object) -> None:
        if self.keeper is not None and sig in STOP_SIGNALS:
            self.keeper.winding_down()
        super().signal(sig, frame)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class Kap12Server(BaseApplication):
    """gunicorn, configured from ``kap12 serve``'s options instead of a config file."""

    def __init__(self, options: dict, keeper: SweeperKeeper | None = None):
        self.options = options
        self.keeper = keeper
        super().__init__()

    def run(self) -> None:
        """``BaseApplication.run``, with the master that tells the keeper (``_Arbiter``)."""
        arbiter = _Arbiter(self)
        arbiter.keeper = self.keeper
        try:
            arbiter.run()
        except RuntimeError as err:  # gunicorn's configuration errors, as BaseApplication.run says them
            print(f"\nError: {err}\n", file=sys.stderr, flush=True)
            sys.exit(1)

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 24+ opens a control socket under $HOME by default: one per machine, so
            # two servers would fight over it; kap12 is managed by signals instead.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        # In each worker after the fork: the app (and prometheus-client with it) loads there.
        from webui.app import create_app  # noqa: PLC0415
        from webui.settling import settled  # noqa: PLC0415

        return settled(create_app())


def gunicorn_options(host: str, port: int, workers: int, threads: int, log_config: dict | None) -> dict:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "webui.stopping_worker.StoppingThreadWorker",  # gthread, which lets go when it stops
        "threads": threads,
        "graceful_timeout": GRACEFUL_SECONDS,
        "timeout": 120,  # a PDF or an export may take a while; a hung worker is replaced after this
        # No keep-alive: a gthread worker keeps serving the connections it accepted, so with
        # clients that keep theirs open one worker took most of the load (measured, 2 workers,
        # 32 API clients: one at 81% of a core, the other at 13%) while the machine had a core
        # to spare. Closing after each answer lets every request go to a free worker. A reverse
        # proxy in front opens a connection per request by default; keep it so.
        "keepalive": 0,
        "child_exit": _child_exit,
        "proc_name": "kap12",
        # Tmp files for the workers' heartbeats in memory, not on a possibly slow disk.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
    }
    if log_config is not None:
        options["logconfig_dict"] = log_config
    return options


def become_server(options: dict, with_sweeper: bool) -> NoReturn:
    """Replace this process (same pid, so signals reach gunicorn) by a fresh interpreter that runs
    gunicorn: this one has imported prometheus-client already, before the metrics folder was in
    the environment, and the workers it forked would not share their values."""
    options = {k: v for k, v in options.items() if k != "child_exit"}  # set again by the server
    os.execv(sys.executable, [sys.executable, "-m", "webui.serving", json.dumps(options), "1" if with_sweeper else ""])


def main() -> None:
    """``python -m webui.serving OPTIONS_JSON WITH_SWEEPER``: gunicorn, with the embedded sweeper
    beside it, kept running (``sweeper_keeper``) and stopped on the way out."""
    options, with_sweeper = json.loads(sys.argv[1]), sys.argv[2] == "1"
    options["child_exit"] = _child_exit
    master = os.getpid()
    # The master's own lines (the keeper's) as the server's: with a level, or as JSON.
    logs.configure(logging.WARNING, Settings.from_env().log_format)
    keeper = None
    try:
        if with_sweeper:
            keeper = SweeperKeeper(GRACEFUL_SECONDS)
            keeper.start()
        Kap12Server(options, keeper).run()
    finally:
        # A worker leaves gunicorn through these frames too (it was forked inside run()).
        if keeper is not None and os.getpid() == master:
            keeper.stop()


if __name__ == "__main__":
    main()
