"""The web tests' helpers, imported by name (fixtures stay in the conftest files, which tests
do not import): a kap12 on a throwaway database at a fixed moment, the demo people, and logging
in through the real log-in form."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

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


def web_env(tmp, url: str | None = None):
    """kap12 with the demo directory and its web app (``.kap12 .clock .app .demo .nordli``)."""
    kap12, clock = make_kap12(tmp, url)
    directory = demo.ensure_directory(kap12)
    app = create_app(kap12)
    return type("Env", (), {"kap12": kap12, "clock": clock, "app": app, "demo": directory,
                            "nordli": directory.schools["Nordli videregående skole"]})


def forget_login_attempts(kap12) -> None:
    with kap12.db.writing() as session:
        session.execute(delete(LoginCounter))


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
