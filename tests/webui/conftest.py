"""The web tests' fixtures: a kap12 web app on a throwaway SQLite database (or PostgreSQL), the
demo people and a fixed clock. The helpers they and the tests use are in tests/support/web.py."""
from __future__ import annotations

import uuid

import pytest

from tests.support.web import forget_login_attempts, web_env


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    made = web_env(tmp_path_factory.mktemp("webui"))
    yield made
    made.kap12.close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_env(request, tmp_path_factory):
    """Like ``env``, once on SQLite and once on a real PostgreSQL."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_server").create_database(f"w_{uuid.uuid4().hex[:16]}")
    made = web_env(tmp_path_factory.mktemp("webui"), url)
    yield made
    made.kap12.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_env(request, tmp_path):
    """A web app of its own for each test, on SQLite and on PostgreSQL: what a test meets is only
    what it made (a list traversed while it changes)."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_server").create_database(f"w_{uuid.uuid4().hex[:16]}")
    made = web_env(tmp_path, url)
    yield made
    made.kap12.close()


@pytest.fixture(autouse=True)
def _fresh_throttle(request):
    # Every test client comes from 127.0.0.1: one test's failed log-ins must not slow the next.
    for name in ("env", "any_env"):
        if name in request.fixturenames:
            forget_login_attempts(request.getfixturevalue(name).kap12)
