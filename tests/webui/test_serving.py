"""``kap12 serve`` under gunicorn: a restart (SIGTERM) or a reload of the workers (SIGHUP) in the
middle of a burst of task completions cuts off no request in progress, loses nothing that was
acknowledged, and half-writes nothing."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.access import Viewer
from engine.config import PROJECT_ROOT, Settings
from engine.service import Kap12
from engine.store import directory
from engine.store.models import HistoryEvent, OpenTask, User
from engine.versions.example_data import example_data
from engine.write.demo import ensure_directory, report_data

from .serve_support import get, initialised_sqlite, served

NORDLI = "Nordli videregående skole"
TASKS = 40
ANSWERS = (200, 404, 409)  # a complete answer: done, or a plain refusal


@dataclass
class Receiving:
    """Rektor's receive tasks of ``TASKS`` reports, each with its form filled in, and an API token."""

    kap12: Kap12
    rektor: Viewer
    title: str
    token: str
    work: list[tuple[str, dict]]


@pytest.fixture
def receiving(pg_server, tmp_path):
    url = pg_server.create_database(f"t_{uuid.uuid4().hex[:16]}")
    kap12 = Kap12(Settings(database_url=url, instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                           base_url="http://127.0.0.1:5000"))
    kap12.init()
    people = ensure_directory(kap12)
    rektor = people.users["rektor"]
    for _ in range(TASKS):
        kap12.report(people.users["ansatt"], people.schools[NORDLI], report_data())
    tasks = kap12.tasks_for(rektor)
    assert len(tasks) == TASKS
    work = [(t.id, example_data(kap12.forms.get(t.form_key), kap12.clock.now().date())) for t in tasks]
    with kap12.db.writing() as session:
        _row, token = directory.create_api_token(session, session.get(User, rektor.id), "last", kap12.clock.now())
    yield Receiving(kap12, rektor, tasks[0].title, token, work)
    kap12.close()


@dataclass
class Sent:
    """One task completion as its client saw it."""

    task_id: str
    before_signal: bool = False  # connected and the whole request written before the signal
    status: int | None = None  # None: no complete answer (refused, reset or cut off)
    answered_at: float = 0.0


def _complete(port: int, token: str, task_id: str, data: dict, signalling: threading.Event) -> Sent:
    """POST one completion. Whether it was all sent before the signal is read after the last byte
    is written and before the answer: ``signalling`` is set before the signal goes."""
    sent = Sent(task_id)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", f"/api/v1/tasks/{task_id}/complete", body=json.dumps(data),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        sent.before_signal = not signalling.is_set()
        response = connection.getresponse()
        response.read()  # the whole answer, or IncompleteRead
        sent.status, sent.answered_at = response.status, time.monotonic()
    except (OSError, http.client.HTTPException):
        pass  # refused, reset or cut off: no answer
    finally:
        connection.close()
    return sent


def _not_yet_accepted(port: int) -> int:
    """Connections made to the server's listening socket that no worker has accepted yet: its
    accept queue, the rx_queue column of a listening socket in /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        _slot, local, _remote, state, queues, *_rest = line.split()
        if state == "0A" and int(local.split(":")[1], 16) == port:
            return int(queues.split(":")[1], 16)
    return 0


def _all_accepted(port: int, seconds: float = 60) -> bool:
    """Wait (looking every millisecond: requests in progress should still be) until no connection
    waits to be accepted."""
    deadline = time.monotonic() + seconds
    while _not_yet_accepted(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def _burst(port: int, receiving: Receiving, send_signal) -> tuple[list[Sent], float]:
    """Six clients complete every task once; after the fifth acknowledgement ``send_signal()`` is
    called, in the middle of the burst. What each request got, and when the signal went.

    The signal waits until the workers have accepted every connection made so far (new ones are
    held back meanwhile, a few milliseconds): a connection the kernel has queued but no worker has
    taken is reset when gunicorn closes its socket, and the server never accepted that request
    (README, "Upgrading a county")."""
    work = list(receiving.work)
    lock, sent = threading.Lock(), []
    signalling, may_start = threading.Event(), threading.Event()
    may_start.set()

    def client():
        while may_start.wait(300):
            with lock:
                if not work:
                    return
                task_id, data = work.pop()
            outcome = _complete(port, receiving.token, task_id, data, signalling)
            with lock:
                sent.append(outcome)

    clients = [threading.Thread(target=client) for _ in range(6)]
    for each in clients:
        each.start()
    while sum(s.status == 200 for s in sent) < 5 and any(c.is_alive() for c in clients):
        time.sleep(0.01)
    may_start.clear()
    signalling.set()
    assert _all_accepted(port), "the workers did not accept the connections made before the signal"
    signal_at = time.monotonic()
    send_signal()
    may_start.set()
    for each in clients:
        each.join(300)
    assert not any(c.is_alive() for c in clients), "a client still waits for its answer"
    return sent, signal_at


def _assert_in_flight_across(sent: list[Sent], signal_at: float) -> None:
    """The signal came while requests were in progress, so the test saw what it claims to."""
    assert sum(s.status == 200 for s in sent) >= 5
    assert any(s.before_signal and s.answered_at > signal_at for s in sent), "no request in flight at the signal"


def _assert_stored_once(receiving: Receiving, sent: list[Sent]) -> None:
    """Every acknowledged completion is in the database once, and nothing is half-written: each
    receive task is either done once (with its event) or still open."""
    kap12 = receiving.kap12
    with kap12.db.reading() as session:
        done = Counter(e.data["task_id"] for e in session.scalars(
            select(HistoryEvent).where(HistoryEvent.kind == "task_completed")))
        for s in sent:
            if s.status == 200:
                assert done[s.task_id] == 1, f"acknowledged {s.task_id} was stored {done[s.task_id]} times"
                assert session.get(OpenTask, s.task_id) is None
    assert set(done.values()) <= {1}
    still_open = sum(1 for t in kap12.tasks_for(receiving.rektor) if t.title == receiving.title)
    assert sum(done.values()) + still_open == TASKS


@pytest.mark.postgres
def test_sigterm_during_a_burst_of_completions_cuts_off_nothing_in_progress(receiving, tmp_path):
    """A restart in the middle of a burst: every request the server had accepted before the
    signal gets its whole answer, not a reset. A request made after it may be refused; one
    acknowledged is stored once, and none is half-written."""
    url = receiving.kap12.settings.database_url
    with served(url, tmp_path, "--workers", "2", "--no-sweeper") as (base, process):
        port = int(base.rsplit(":", 1)[1])
        sent, signal_at = _burst(port, receiving, lambda: process.send_signal(signal.SIGTERM))
        assert process.wait(60) == 0
    # A request made after the signal may be refused; one the server had accepted may not be cut off.
    cut_off = [s.task_id for s in sent if s.before_signal and s.status not in ANSWERS]
    assert not cut_off, f"{len(cut_off)} request(s) accepted before SIGTERM got no whole answer: {cut_off}"
    _assert_in_flight_across(sent, signal_at)
    _assert_stored_once(receiving, sent)


def _workers_of(master: int) -> set[int]:
    """The master's gunicorn workers: forks of it, so with its command line."""
    return {pid for pid, args in _children_of(master).items() if b"webui.serving" in args}


def _two_workers(master: int, replacing: set[int] | frozenset[int] = frozenset()) -> set[int]:
    """For ``_until``: the master's two workers once none of ``replacing`` is left among them."""
    workers = _workers_of(master)
    return workers if len(workers) == 2 and not workers & replacing else set()


@pytest.mark.postgres
def test_sighup_during_a_burst_of_completions_reloads_the_workers_and_answers_every_request(receiving, tmp_path):
    """``kill -HUP`` (README: a graceful reload, e.g. for an upgrade): new workers take over while
    the old ones finish what they have. The socket stays open throughout, so every request, sent
    before or after the signal, is answered and stored once; the master stays the same process."""
    url = receiving.kap12.settings.database_url
    with served(url, tmp_path, "--workers", "2", "--no-sweeper") as (base, process):
        port = int(base.rsplit(":", 1)[1])
        old = _until(lambda: _two_workers(process.pid))
        assert old, f"not two workers: {_workers_of(process.pid)}"
        sent, signal_at = _burst(port, receiving, lambda: process.send_signal(signal.SIGHUP))
        new = _until(lambda: _two_workers(process.pid, replacing=old), 60)
        assert new, f"workers before the reload {old}, after {_workers_of(process.pid)}"
        assert process.poll() is None  # the same master, still serving
        assert get(base + "/healthz")[0] == 200
    unanswered = [(s.task_id, s.status) for s in sent if s.status != 200]
    assert len(sent) == TASKS and not unanswered, f"not answered 200 across the reload: {unanswered}"
    _assert_in_flight_across(sent, signal_at)
    _assert_stored_once(receiving, sent)


def _children_of(master: int) -> dict[int, list[bytes]]:
    """The processes the server's master started, by pid, with their arguments."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == master:
            found[int(proc.name)] = args
    return found


def _sweepers_of(master: int) -> list[int]:
    """The ``kap12 timers`` processes the server started (children of its master)."""
    return [pid for pid, args in _children_of(master).items() if b"webui.cli" in args and b"timers" in args]


def _until(found, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    return found()


def test_once_stopping_the_server_refuses_new_connections_and_answers_the_one_it_has(tmp_path):
    """After SIGTERM, while a worker still finishes a request it took, a new connection is refused
    at once (a load balancer then tries another machine): with gunicorn's own worker the kernel
    still queued it, and reset it when the worker exited. The request in progress is answered."""
    url = initialised_sqlite(tmp_path)
    with served(url, tmp_path, "--workers", "1", "--no-sweeper") as (base, process):
        port = int(base.rsplit(":", 1)[1])
        in_progress = socket.create_connection(("127.0.0.1", port), timeout=60)
        in_progress.sendall(b"GET /healthz HTTP/1.1\r\nHost: kap12\r\n")  # the blank line comes later
        assert _all_accepted(port), "the worker did not take the first connection"
        time.sleep(0.5)  # the worker's thread is reading the request
        process.send_signal(signal.SIGTERM)
        refused = False
        deadline = time.monotonic() + 20
        while not refused and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                time.sleep(0.05)  # accepted: the worker has not let go yet, or never will
            except ConnectionRefusedError:
                refused = True
        assert refused, "a connection made while the server stops was still accepted"
        in_progress.sendall(b"\r\n")
        answer = in_progress.makefile("rb").read()
        in_progress.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert process.wait(60) == 0


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
