"""``kap12 serve`` as a real server process (gunicorn) on a free port, for the tests that need
workers, signals and the metrics of several processes."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from engine.config import PROJECT_ROOT, Settings
from engine.service import Kap12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def initialised_sqlite(instance: Path) -> str:
    """An upgraded SQLite database in ``instance`` for ``kap12 serve`` to serve; its URL."""
    url = f"sqlite:///{instance}/kap12.sqlite3"
    kap12 = Kap12(Settings(database_url=url, instance_dir=instance, bpmn_dir=PROJECT_ROOT / "bpmn",
                           base_url="http://127.0.0.1:5000"))
    kap12.init()
    kap12.close()
    return url


@contextmanager
def served(database_url: str, instance: Path, *args: str, own_group: bool = False):
    """Start ``kap12 serve`` with ``args``; yields (base URL, process) once it is ready.
    ``own_group``: in a process group of its own, for a test that signals the whole group."""
    port = free_port()
    env = {**os.environ, "KAP12_DATABASE_URL": database_url, "KAP12_INSTANCE_DIR": str(instance),
           "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(instance / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "webui.cli", "serve", "--port", str(port), *args],
                               env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                               start_new_session=own_group)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(base + "/readyz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("kap12 serve did not start:\n" + (instance / "serve.log").read_text())
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(60)
        log.close()
