"""An API key's "last used" stamp: written at most once a minute, in its own short transaction,
so reading with a key takes no write lock on the other calls."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from engine.store import directory
from engine.store.models import ApiToken, User


@contextmanager
def _counting_write_transactions(kap12):
    seen = [0]

    def _begin(conn):
        if conn.get_execution_options().get("kap12_write"):
            seen[0] += 1

    event.listen(kap12.db.engine, "begin", _begin)
    try:
        yield seen
    finally:
        event.remove(kap12.db.engine, "begin", _begin)


def test_reading_with_a_key_writes_once_a_minute_at_most(any_env):
    kap12 = any_env.kap12
    with kap12.db.writing() as session:
        user = session.get(User, any_env.demo.users["rektor"].id)
        row, token = directory.create_api_token(session, user, "stempel", kap12.clock.now())
    client = any_env.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with _counting_write_transactions(kap12) as writes:
        _use(kap12, client, headers, row, writes)


def _use(kap12, client, headers, row, writes) -> None:
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert writes[0] == 1  # the first use is stamped
    for _ in range(5):
        assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert writes[0] == 1  # …and the next calls within the minute write nothing
    with kap12.db.reading() as session:
        first = session.get(ApiToken, row.id).last_used_at
    assert first == kap12.clock.now()

    kap12.clock.set(kap12.clock.now() + timedelta(seconds=61))
    try:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert writes[0] == 2
        with kap12.db.reading() as session:
            assert session.get(ApiToken, row.id).last_used_at == kap12.clock.now()
    finally:
        kap12.clock.set(kap12.clock.now() - timedelta(seconds=61))


def test_a_stamp_is_conditional(any_env):
    """Two workers that both saw a stale stamp: the second update changes nothing."""
    from engine.store import stamps

    kap12 = any_env.kap12
    with kap12.db.writing() as session:
        user = session.get(User, any_env.demo.users["ansatt"].id)
        row, _token = directory.create_api_token(session, user, "kappløp", kap12.clock.now())
    now = kap12.clock.now()
    stamps.stamp(kap12.db, ApiToken.last_used_at, row.id, now)
    stamps.stamp(kap12.db, ApiToken.last_used_at, row.id, now + timedelta(seconds=30))
    with kap12.db.reading() as session:
        assert session.get(ApiToken, row.id).last_used_at == now
