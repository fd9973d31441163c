"""Shared fixtures: a fixed clock, an engine on SQLite or on a real throwaway PostgreSQL, and
the demo directory of people and roles."""
from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.diagrams import renamed_first_task
from support.postgres import postgres_available, start_postgres

from engine.config import PROJECT_ROOT, Settings
from engine.runtime.clock import Clock
from engine.service import Kap12
from engine.store.models import DefinitionVersion
from engine.versions import definitions
from engine.write.demo import ensure_directory

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


def _engine(url: str, tmp_path, clock: Clock) -> Kap12:
    return Kap12(Settings(database_url=url, instance_dir=tmp_path, bpmn_dir=PROJECT_ROOT / "bpmn",
                          base_url="http://127.0.0.1:5000"), clock=clock)


@pytest.fixture(scope="session")
def new_kap12():
    """Make an engine on a URL, for fixtures wider than one test (which cannot use ``kap12``):
    ``new_kap12(url, folder)`` on Monday 09:00, initialised."""
    def make(url: str, folder) -> Kap12:
        at = Clock()
        at.set(MONDAY_9)
        engine = _engine(url, folder, at)
        engine.init()
        return engine
    return make


@pytest.fixture(scope="session")
def make_kap12():
    """``make_kap12(url, folder, clock)``: an engine the test opens itself, not initialised; e.g.
    a second process on the same database, or a restart."""
    return _engine


@pytest.fixture
def kap12(db_url, tmp_path, clock):
    engine = _engine(db_url, tmp_path, clock)
    engine.init()
    yield engine
    engine.close()


@pytest.fixture
def sqlite_kap12(tmp_path, clock):
    engine = _engine(f"sqlite:///{tmp_path}/kap12.sqlite3", tmp_path, clock)
    engine.init()
    yield engine
    engine.close()


def _break_stored(kap12, process_id: str) -> DefinitionVersion:
    """Store a version whose text no longer parses, as an older kap12 could have (the entity
    upload); written directly, since kap12 itself now refuses to store it."""
    with kap12.db.writing() as session:
        good = definitions.latest_version(session, process_id)
        row = DefinitionVersion(
            process_id=process_id, version=good.version + 1, name=good.name, content_hash="ødelagt" * 9,
            sources={process_id: {"file": f"{process_id}.bpmn", "sha256": "x",
                                  "xml": renamed_first_task(good.sources[process_id]["xml"], "&x; ")}},
            spec=good.spec, meta=good.meta, deployed_by_id=None, deployed_at=kap12.clock.now(), comment="ødelagt")
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


@pytest.fixture(scope="session")
def break_stored_version():
    """``break_stored_version(kap12, process_id)``: a newer stored version of the process whose
    text no longer parses (see ``_break_stored``)."""
    return _break_stored


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
