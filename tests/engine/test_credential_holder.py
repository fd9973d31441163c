"""Who asks: the holder of an API token or a log-in session, read in one statement with the
person's grants (``directory.CredentialLookup``) — and nobody for a token or session that no
longer holds."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import access
from engine.read import sessions
from engine.store import directory
from engine.store.models import User
from engine.write import sessions as session_rows


def _user(kap12, username: str) -> User:
    with kap12.db.reading() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def _token(kap12, username: str) -> str:
    with kap12.db.writing() as session:
        return directory.create_api_token(session, _user(kap12, username), "test", kap12.clock.now())[1]


def test_a_token_gives_its_holder_with_every_grant_and_nobody_once_revoked(kap12, demo):
    now = kap12.clock.now()
    for username in ("rektor", "skoleeier", "revisor", "ansatt"):
        holder = directory.token_holder(kap12.db, _token(kap12, username), now)
        assert access.Viewer.holding(holder) == demo.users[username]  # id, name and every grant
    with kap12.db.writing() as session:  # a person with no role yet is still who they are
        bare = directory.create_user(session, "ny", "Ny Person", password=None, email=None, now=now)
        token = directory.create_api_token(session, bare, "test", now)[1]
    assert directory.token_holder(kap12.db, token, now) == directory.Holder(bare.id, "Ny Person", ())
    with kap12.db.writing() as session:
        row = directory.api_tokens(session, session.get(User, bare.id))[0]
        directory.revoke_api_token(session, session.get(User, bare.id), row.id, now)
    assert directory.token_holder(kap12.db, token, now) is None
    assert directory.token_holder(kap12.db, "k12_" + "x" * 40, now) is None


def test_a_deactivated_persons_token_and_session_give_nobody(kap12, demo):
    now = kap12.clock.now()
    token = _token(kap12, "avdelingsleder")
    sid = session_rows.start(kap12.db, _user(kap12, "avdelingsleder").id, now, address="127.0.0.1", agent="test")
    idle = timedelta(minutes=30)
    assert access.Viewer.holding(sessions.holder_of(kap12.db, sid, now, idle)) == demo.users["avdelingsleder"]
    assert sessions.holder_of(kap12.db, sid, now + idle + timedelta(minutes=2), idle) is None  # idle too long
    with kap12.db.writing() as session:
        session.get(User, demo.users["avdelingsleder"].id).active = False
    assert directory.token_holder(kap12.db, token, now) is None
    assert sessions.holder_of(kap12.db, sid, now, idle) is None
