"""Shared fixtures: a fixed clock, an engine on SQLite or on a real throwaway PostgreSQL, and
the demo directory of people and roles."""
from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.postgres import postgres_available, start_postgres

from engine.config import PROJECT_ROOT, Settings
from engine.demo import ensure_directory
from engine.runtime.clock import Clock
from engine.service import Kap12

OSLO = ZoneInfo("Europe/Oslo")
# A Monday morning in term time: every procedure starts here unless a test says otherwise.
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=OSLO)


@pytest.fixture(scope="session")
def pg_server():
    if not postgres_available():
        pytest.skip("PostgreSQL server programs are not installed (make test installs them as root)")
    server = start_postgres()
    yield server
    server.stop()


def _url(request, tmp_path, backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/kap12.sqlite3"
    return request.getfixturevalue("pg_server").create_database(f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    return _url(request, tmp_path, request.param)


@pytest.fixture
def clock() -> Clock:
    c = Clock()
    c.set(MONDAY_9)
    return c


def make_kap12(url: str, tmp_path, clock: Clock) -> Kap12:
    return Kap12(Settings(database_url=url, instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                          base_url="http://127.0.0.1:5000"), clock=clock)


@pytest.fixture(scope="session")
def new_kap12():
    """Make an engine on a URL, for fixtures wider than one test (which cannot use ``kap12``):
    ``new_kap12(url, folder)`` on Monday 09:00, initialised."""
    def make(url: str, folder) -> Kap12:
        at = Clock()
        at.set(MONDAY_9)
        engine = make_kap12(url, folder, at)
        engine.init()
        return engine
    return make


@pytest.fixture
def kap12(db_url, tmp_path, clock):
    engine = make_kap12(db_url, tmp_path, clock)
    engine.init()
    yield engine
    engine.close()


@pytest.fixture
def sqlite_kap12(tmp_path, clock):
    engine = make_kap12(f"sqlite:///{tmp_path}/kap12.sqlite3", tmp_path, clock)
    engine.init()
    yield engine
    engine.close()


@pytest.fixture
def demo(kap12):
    return ensure_directory(kap12)


@pytest.fixture(scope="session")
def browser():
    """One Debian Chromium for the whole session (starting it is the slow part). Playwright's
    sync API allows one instance per thread, so every browser test shares this one."""
    from playwright.sync_api import sync_playwright
    from support.chromium import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
