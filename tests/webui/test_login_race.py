"""Thirty wrong passwords for one account at once, against a real server that answers in three
worker processes sharing one database (a SQLite file, or PostgreSQL): only the account's few
free tries reach the password check, the right password is refused while it is locked, and
colleagues behind the same address still log in."""
from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlencode

import pytest

from engine.config import PROJECT_ROOT
from engine.write import demo
from engine.write.login_throttle import ACCOUNT
from tests.support.web import make_kap12

SERVER = """
import os, sys
from pathlib import Path
from werkzeug.serving import run_simple
from engine.config import PROJECT_ROOT, Settings
from engine.service import Kap12
from webui.app import create_app

url, instance, port = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
kap12 = Kap12(Settings(database_url=url, instance_dir=instance, bpmn_dir=PROJECT_ROOT / "bpmn",
                       base_url="http://127.0.0.1"))
app = create_app(kap12)
# Each request is served by a forked worker: none may share the parent's database connections.
kap12.db.engine.dispose()
os.register_at_fork(after_in_child=lambda: kap12.db.engine.dispose(close=False))
run_simple("127.0.0.1", port, app, processes=3, threaded=False, use_reloader=False)
"""
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
GUESSES = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One browser: its own cookie, speaking plain HTTP to the server."""

    def __init__(self, port: int):
        self.port, self.cookie = port, ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("kap12_session="):
                self.cookie = header.split(";", 1)[0]
        conn.close()
        return response.status, text

    def log_in_form(self) -> str:
        status, text = self.request("GET", "/logg-inn")
        assert status == 200
        return CSRF.search(text)[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path):
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_server").create_database(f"r_{uuid.uuid4().hex[:16]}")
    kap12, _clock = make_kap12(tmp_path, url)
    demo.ensure_directory(kap12)
    url = kap12.settings.database_url
    kap12.close()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("KAP12_SECRET_KEY", None)
    proc = subprocess.Popen([sys.executable, "-c", SERVER, url, str(tmp_path), str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            try:
                if Browser(port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start: " + (proc.stderr.read() if proc.poll() is not None else ""))
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_thirty_parallel_wrong_passwords_across_worker_processes(server):
    browsers = [Browser(server) for _ in range(GUESSES)]
    tokens = [b.log_in_form() for b in browsers]
    start = threading.Barrier(GUESSES)
    statuses: list[int] = []

    def guess(browser: Browser, token: str) -> None:
        start.wait()
        statuses.append(browser.request("POST", "/logg-inn", {"_csrf": token, "username": "rektor",
                                                              "password": "feil-passord"})[0])

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(browsers, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(statuses) == GUESSES
    # 401: the password was checked and was wrong; 429: refused before it was looked at.
    assert statuses.count(401) == ACCOUNT.free, statuses
    assert statuses.count(429) == GUESSES - ACCOUNT.free, statuses

    owner = Browser(server)
    status, text = owner.request("POST", "/logg-inn", {"_csrf": owner.log_in_form(), "username": "rektor",
                                                        "password": demo.PASSWORD})
    assert status == 429 and "For mange mislykkede forsøk" in text  # the right password, while locked

    for colleague in ("ansatt", "avdelingsleder"):  # behind the same address (the school's NAT)
        browser = Browser(server)
        status, _ = browser.request("POST", "/logg-inn", {"_csrf": browser.log_in_form(), "username": colleague,
                                                          "password": demo.PASSWORD})
        assert status == 302
        assert browser.request("GET", "/oppgaver")[0] == 200
