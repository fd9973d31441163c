"""A kap12 web app on a throwaway SQLite database, the demo people, a fixed clock, and a
helper to log in through the real log-in form."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from engine.config import PROJECT_ROOT, Settings
from engine.runtime.clock import Clock
from engine.service import Kap12
from engine.store.models import LoginCounter
from engine.write import demo
from webui.app import create_app

START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def make_kap12(tmp, url: str | None = None) -> tuple[Kap12, Clock]:
    clock = Clock()
    clock.set(START)
    kap12 = Kap12(Settings(database_url=url or f"sqlite:///{tmp}/t.sqlite3", instance_dir=tmp,
                           bpmn_dir=PROJECT_ROOT / "bpmn", base_url="http://127.0.0.1:5000"), clock=clock)
    kap12.init()
    return kap12, clock


def _env(tmp, url: str | None = None):
    kap12, clock = make_kap12(tmp, url)
    directory = demo.ensure_directory(kap12)
    app = create_app(kap12)
    return type("Env", (), {"kap12": kap12, "clock": clock, "app": app, "demo": directory,
                            "nordli": directory.schools["Nordli videregående skole"]})


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    made = _env(tmp_path_factory.mktemp("webui"))
    yield made
    made.kap12.close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_env(request, tmp_path_factory):
    """Like ``env``, once on SQLite and once on a real PostgreSQL."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_server").create_database(f"w_{uuid.uuid4().hex[:16]}")
    made = _env(tmp_path_factory.mktemp("webui"), url)
    yield made
    made.kap12.close()


def forget_login_attempts(kap12) -> None:
    with kap12.db.writing() as session:
        session.execute(delete(LoginCounter))


@pytest.fixture(autouse=True)
def _fresh_throttle(request):
    # Every test client comes from 127.0.0.1: one test's failed log-ins must not slow the next.
    for name in ("env", "any_env"):
        if name in request.fixturenames:
            forget_login_attempts(request.getfixturevalue(name).kap12)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match[1]


def login(app, username: str, password: str = demo.PASSWORD):
    client = app.test_client()
    page = client.get("/logg-inn")
    response = client.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": username,
                                              "password": password})
    assert response.status_code == 302, response.text
    return client


def token(client, url: str = "/oppgaver") -> str:
    return csrf_of(client.get(url).text)
