"""Health, readiness and metrics: what a load balancer and Prometheus ask, and who may ask."""
from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import exc

from engine.config import PROJECT_ROOT, Settings
from engine.errors import Conflict, OutcomeUnknown
from engine.service import Kap12
from engine.versions.example_data import example_data
from engine.write.demo import report_data
from processes import forms
from processes.messages import Message
from tests.support.web import csrf_of, login
from webui.app import create_app

from .serve_support import free_port, get, initialised_sqlite, served


def _app(tmp_path: Path, url: str, **settings) -> tuple[Kap12, object]:
    kap12 = Kap12(Settings(database_url=url, instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                           base_url="http://127.0.0.1:5000", **settings))
    return kap12, create_app(kap12)


def test_alive_and_ready(env):
    client = env.app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json == {"status": "ready"}


def test_a_database_that_is_down_is_not_ready(tmp_path):
    # Nothing listens on this port: the database does not answer.
    kap12, app = _app(tmp_path, f"postgresql+psycopg://kap12@127.0.0.1:{free_port()}/kap12")
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200  # the process itself is alive
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json == {"status": "database unavailable"}  # no address, no error text
    finally:
        kap12.close()


def test_a_request_while_the_database_is_down_is_a_503_to_try_again(tmp_path):
    """Not "something went wrong with us" (500): a load balancer and a client know what 503 and
    Retry-After ask of them (reviewed: the API answered 500 to reads during a restart)."""
    kap12, app = _app(tmp_path, f"postgresql+psycopg://kap12@127.0.0.1:{free_port()}/kap12")
    try:
        client = app.test_client()
        form = client.get("/logg-inn")  # the form needs no database; the log-in does
        page = client.post("/logg-inn", data={"_csrf": csrf_of(form.text), "username": "rektor",
                                             "password": "demo1234"})
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "Databasen svarer ikke akkurat nå" in page.text and "Ingenting ble lagret" in page.text
        api = client.get("/api/v1/cases", headers={"Authorization": "Bearer k12_" + "x" * 40})
        assert api.status_code == 503 and api.headers["Retry-After"] == "5"
        assert api.json["title"] == "Midlertidig utilgjengelig" and "Prøv igjen" in api.json["detail"]
    finally:
        kap12.close()


def _raising(error: Exception):
    def fail(*_args, **_kwargs):
        raise error
    return fail


def test_a_logged_in_page_whose_database_goes_away_says_so_and_a_bug_stays_a_500(env, monkeypatch):
    """The page's frame asked the away database for the unread count while the 503 was drawn,
    and the error page itself failed (reviewed); and SQLite says OperationalError of a mistyped
    column too, which is kap12's bug, not the database away."""
    from webui import tasks

    client = login(env.app, "rektor")
    locked = exc.OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))
    monkeypatch.setattr(tasks.queries, "task_page", _raising(locked))
    monkeypatch.setattr(type(env.kap12), "unread_count", _raising(locked))
    page = client.get("/oppgaver")
    assert page.status_code == 503 and "Databasen svarer ikke akkurat nå" in page.text
    monkeypatch.undo()
    mistyped = exc.OperationalError("SELECT numbr", {}, sqlite3.OperationalError("no such column: numbr"))
    monkeypatch.setattr(tasks.queries, "task_page", _raising(mistyped))
    page = client.get("/oppgaver")
    assert page.status_code == 500 and "Noe gikk galt hos oss" in page.text


def test_a_connection_lost_while_committing_is_not_called_nothing_saved(env, monkeypatch):
    """No 503 and Retry-After there: an API client that sent the report again might make two."""
    from tests.webui.test_api import bearer, make_token

    unknown = OutcomeUnknown(Message("Forbindelsen til databasen brøt mens det ble lagret, så vi vet ikke om det "
                                     "ble lagret. Se etter i saken før du gjør det igjen."))
    monkeypatch.setattr(type(env.kap12), "report", _raising(unknown))
    sent = env.app.test_client().post("/api/v1/cases", json={"school_id": env.nordli, "report": report_data()},
                                      headers=bearer(make_token(env, "ansatt")))
    assert sent.status_code == 500 and "Retry-After" not in sent.headers
    assert "vet ikke om det ble lagret" in sent.json["detail"]


def test_a_database_behind_the_code_is_not_ready(tmp_path):
    kap12, app = _app(tmp_path, f"sqlite:///{tmp_path}/empty.sqlite3")  # never upgraded
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503 and response.json == {"status": "schema not current"}
    finally:
        kap12.close()


def _value(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:{{(.*)}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[1] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match[2])
    return total


def test_metrics_count_requests_steps_and_cases_without_case_data(env):
    client = login(env.app, "ansatt")
    from engine.write.demo import report_data

    # This module's other engines run on the machine's clock, so the example data's "today" is
    # given as this engine's: a report may not say it was known about after the day it is sent.
    today = env.kap12.clock.now().date().isoformat()
    env.kap12.report(env.demo.users["ansatt"], env.nordli,
                     report_data(hva_skjedde="Hemmelig hendelse ved Kvitfjellbekken", kjent_dato=today))
    client.get("/oppgaver")
    text = env.app.test_client().get("/metrics").text
    assert _value(text, "kap12_http_request_seconds_count", route="/oppgaver", status="200") >= 1
    assert _value(text, "kap12_steps_total", outcome="ok") >= 1
    assert _value(text, "kap12_open_cases", kind="sak", procedure="A", stage="meldt") >= 1
    assert "kap12_mails_waiting" in text and "kap12_open_incidents" in text
    # letters only: a number could turn up by chance inside a timestamp
    assert "Kvitfjellbekken" not in text and "Emma" not in text  # counts only, nothing from a case


def test_a_step_that_loses_a_race_is_counted_as_a_conflict(env):
    """Two leaders completing the same task: the second is refused, counted as a conflict, and
    not as an error (an operator watches the errors)."""
    def counted(outcome: str) -> float:
        return _value(env.app.test_client().get("/metrics").text, "kap12_steps_total", outcome=outcome)

    today = env.kap12.clock.now().date().isoformat()
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data(kjent_dato=today))
    task = next(t for t in env.kap12.tasks_for(env.demo.users["rektor"]) if t.case_id == case.id)
    data = example_data(forms.get_form(task.form_key), env.kap12.clock.now().date())
    env.kap12.complete(env.demo.users["avdelingsleder"], task.id, data)
    conflicts, errors = counted("conflict"), counted("error")
    with pytest.raises(Conflict):
        env.kap12.complete(env.demo.users["rektor"], task.id, data)
    assert (counted("conflict"), counted("error")) == (conflicts + 1, errors)


def test_metrics_only_from_this_machine_without_a_token(env):
    client = env.app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    # Through a reverse proxy on this machine the request comes from anywhere.
    for header in ("X-Forwarded-For", "X-Real-IP", "Via", "Forwarded", "X-Forwarded-Proto"):
        assert client.get("/metrics", headers={header: "203.0.113.9"}).status_code == 403, header


def test_metrics_need_the_token_behind_a_configured_proxy(tmp_path):
    """With ``KAP12_PROXY_HOPS`` set, every request comes through the proxy on loopback: one
    that adds no header (a tunnel, a TCP proxy) must not pass for this machine."""
    kap12, app = _app(tmp_path, f"sqlite:///{tmp_path}/k.sqlite3", proxy_hops=1)
    kap12.init()
    try:
        assert app.test_client().get("/metrics").status_code == 403
    finally:
        kap12.close()


def test_metrics_with_a_token_need_the_token(tmp_path):
    kap12, app = _app(tmp_path, f"sqlite:///{tmp_path}/k.sqlite3", metrics_token="s3cret-for-prometheus")
    kap12.init()
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 403  # loopback is not enough now
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-for-prometheus"},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert ok.status_code == 200 and "kap12_open_cases" in ok.text
    finally:
        kap12.close()


def test_metrics_under_gunicorn_add_up_every_worker(tmp_path):
    url = initialised_sqlite(tmp_path)
    with served(url, tmp_path, "--workers", "2", "--threads", "2", "--no-sweeper") as (base, process):
        def worker_files() -> set[str]:
            # Each process writes its values to files named by its pid; the master has one too.
            names = {p.name for p in (tmp_path / "metrics").glob("histogram_*.db")}
            return names - {f"histogram_{process.pid}.db"}

        sent = 0
        # Which worker accepts a connection is up to the kernel: send until both have answered.
        while len(worker_files()) < 2 and sent < 4000:
            threads = [threading.Thread(target=get, args=(base + "/healthz",)) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            sent += len(threads)
        assert len(worker_files()) == 2, worker_files()
        status, text = get(base + "/metrics")
        assert status == 200
        assert _value(text, "kap12_http_request_seconds_count", route="/healthz") == sent


def test_the_server_closes_each_connection_after_its_answer(tmp_path):
    """A gthread worker serves the connections it accepted until they close: were they kept
    open, a few busy clients would hold one worker while the other had nothing to do
    (measured under load: one worker at 81% of a core, the other at 13%). Closing each
    connection after its answer sends the next request to whichever worker is free."""
    import http.client

    url = initialised_sqlite(tmp_path)
    with served(url, tmp_path, "--workers", "2", "--threads", "2", "--no-sweeper") as (base, _process):
        client = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
        try:
            for path in ("/healthz", "/api/v1/tasks", "/healthz"):  # a client that asks to keep it
                client.request("GET", path, headers={"Connection": "keep-alive"})
                response = client.getresponse()
                response.read()
                assert response.status in (200, 401)
                assert response.getheader("Connection") == "close", path
        finally:
            client.close()


def test_readiness_during_an_upgrade():
    from engine.store.db import known_revisions, schema_is_current

    head, known = known_revisions()
    older = next(r for r in known if r != head)
    assert schema_is_current(head, head, known)
    assert schema_is_current("0099_from_a_newer_release", head, known)  # old workers stay ready
    assert not schema_is_current(older, head, known)  # behind: this code needs what is missing
    assert not schema_is_current(None, head, known)


def test_the_default_number_of_web_workers(tmp_path, monkeypatch):
    from webui.serving import default_workers

    def settings(url: str, **more) -> Settings:
        return Settings(database_url=url, instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                        base_url="http://127.0.0.1:5000", **more)

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    postgres = "postgresql+psycopg://kap12@db/kap12"
    assert default_workers(settings(postgres)) == 4  # one per core: the threads cover the database's waits
    assert default_workers(settings(f"sqlite:///{tmp_path}/k.sqlite3")) == 1
    assert default_workers(settings(postgres, web_workers=3)) == 3
