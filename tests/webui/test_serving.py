"""``kap12 serve`` under gunicorn: a restart (SIGTERM) in the middle of a burst of task
completions loses nothing that was acknowledged, and half-writes nothing."""
from __future__ import annotations

import json
import os
import queue
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.config import PROJECT_ROOT, Settings
from engine.read.queries import completed_task_event
from engine.service import Kap12
from engine.store import directory
from engine.store.models import HistoryEvent, OpenTask, User
from engine.versions.example_data import example_data
from engine.write.demo import ensure_directory, report_data

from .serve_support import get, initialised_sqlite, served

pytestmark = pytest.mark.postgres
NORDLI = "Nordli videregående skole"


def _post(url: str, token: str, data: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_sigterm_during_a_burst_of_completions_loses_nothing_acknowledged(pg_server, tmp_path):
    url = pg_server.create_database(f"t_{uuid.uuid4().hex[:16]}")
    kap12 = Kap12(Settings(database_url=url, instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                           base_url="http://127.0.0.1:5000"))
    kap12.init()
    people = ensure_directory(kap12)
    rektor = people.users["rektor"]
    for _ in range(40):
        kap12.report(people.users["ansatt"], people.schools[NORDLI], report_data())
    work: queue.Queue = queue.Queue()
    receive = kap12.tasks_for(rektor)
    assert len(receive) == 40
    title = receive[0].title
    for task in receive:
        work.put((task.id, example_data(kap12.forms.get(task.form_key), kap12.clock.now().date())))
    with kap12.db.writing() as session:
        _row, token = directory.create_api_token(session, session.get(User, rektor.id), "last", kap12.clock.now())

    acknowledged: list[str] = []
    with served(url, tmp_path, "--workers", "2", "--no-sweeper") as (base, process):
        def complete_tasks():
            while True:
                try:
                    task_id, data = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    status = _post(f"{base}/api/v1/tasks/{task_id}/complete", token, data)
                except OSError:
                    continue  # refused or cut off: not acknowledged, so it may or may not be done
                if status == 200:
                    acknowledged.append(task_id)

        clients = [threading.Thread(target=complete_tasks) for _ in range(6)]
        for client in clients:
            client.start()
        while len(acknowledged) < 5 and any(c.is_alive() for c in clients):
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)  # a restart, in the middle of the burst
        for client in clients:
            client.join()
        assert process.wait(60) == 0

    assert len(acknowledged) >= 5
    with kap12.db.reading() as session:
        for task_id in acknowledged:
            assert completed_task_event(session, task_id) is not None, f"acknowledged {task_id} was lost"
            assert session.get(OpenTask, task_id) is None
        # Nothing half-written: every receive task is either done (with its event) or still open.
        done = session.scalar(select(func.count()).select_from(HistoryEvent)
                              .where(HistoryEvent.kind == "task_completed"))
    assert done + sum(1 for t in kap12.tasks_for(rektor) if t.title == title) == 40
    kap12.close()


def _sweepers_of(master: int) -> list[int]:
    """The ``kap12 timers`` processes the server started (children of its master)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == master and b"webui.cli" in command and b"timers" in command:
            found.append(int(proc.name))
    return found


def _until(found, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    return found()


def test_a_sweeper_that_dies_is_said_and_started_again(tmp_path):
    """kill -9 of the embedded sweeper: it was gone for good and nothing said so (reviewed)."""
    url = initialised_sqlite(tmp_path)
    with served(url, tmp_path) as (base, process):
        [first] = _until(lambda: _sweepers_of(process.pid))
        assert _until(lambda: "kap12_sweeper_last_round_timestamp_seconds " in get(base + "/metrics")[1])
        os.kill(first, signal.SIGKILL)
        [second] = _until(lambda: [pid for pid in _sweepers_of(process.pid) if pid != first])
        log = (tmp_path / "serve.log").read_text()
        assert f"ERROR kap12.web: the sweeper (pid {first}) stopped" in log and "deadlines do not fire" in log
    assert _until(lambda: _gone(second))  # stopped with the server, not left behind


def _gone(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) == "Z"  # not yet reaped
    except OSError:
        return True


def test_with_json_logs_every_line_the_server_writes_is_a_json_object(tmp_path, monkeypatch):
    """KAP12_LOG_FORMAT=json: the start, gunicorn's lines, the access log and the sweeper's, each
    one JSON object a log collector can read (the first line was plain text)."""
    url = initialised_sqlite(tmp_path)
    monkeypatch.setenv("KAP12_LOG_FORMAT", "json")
    with served(url, tmp_path) as (base, _process):
        assert get(base + "/healthz")[0] == 200
    lines = [line for line in (tmp_path / "serve.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert any(r["message"].startswith("kap12 kjører på") for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)


def test_a_stop_sent_to_the_whole_server_does_not_start_the_sweeper_again(tmp_path):
    """systemd's default stop and Ctrl+C signal every process of the server: the sweeper stopped
    at once while gunicorn still waited for a request, and the keeper took that for a death,
    said so as an error and started another (reviewed)."""
    url = initialised_sqlite(tmp_path)
    with served(url, tmp_path, own_group=True) as (base, process):
        [sweeper] = _until(lambda: _sweepers_of(process.pid))
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as slow:  # a request not yet all sent
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.5)
            os.killpg(process.pid, signal.SIGTERM)
            assert _until(lambda: _gone(sweeper))
            time.sleep(2.5)  # the keeper looks every second
            slow.sendall(b"\r\n")
        process.wait(60)
    log = (tmp_path / "serve.log").read_text()
    assert "stopped after" not in log and not _sweepers_of(process.pid), log
