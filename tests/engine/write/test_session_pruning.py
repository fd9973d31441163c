"""A log-in removes the sessions last seen a month ago (ended or expired: a session is not seen
after it ends), from the index of when each was last seen, and keeps the rest."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from support.plans import answered, plan_of

from engine.store.models import WebSession
from engine.write import sessions


def test_a_log_in_removes_the_sessions_last_seen_a_month_ago(kap12, demo, clock):
    user = demo.users["ansatt"].id
    old = sessions.start(kap12.db, user, clock.now())
    ended_long_after = sessions.start(kap12.db, user, clock.now())  # not seen since, ended much later
    clock.advance(sessions.KEEP_ENDED - timedelta(days=1))
    sessions.end(kap12.db, ended_long_after, clock.now())
    ended_recently = sessions.start(kap12.db, user, clock.now())
    sessions.end(kap12.db, ended_recently, clock.now())
    kept = sessions.start(kap12.db, user, clock.now())
    clock.advance(timedelta(days=2))
    _, sent = answered(kap12.db.engine, lambda: sessions.start(kap12.db, user, clock.now()))
    with kap12.db.reading() as session:
        left = session.scalars(select(WebSession.token_hash)).all()
    from engine.store.directory import token_hash

    assert token_hash(old) not in left and token_hash(ended_long_after) not in left  # as before: last seen a month ago
    assert {token_hash(ended_recently), token_hash(kept)} <= set(left)
    if not kap12.db.is_sqlite:
        [(statement, parameters)] = [s for s in sent if s[0].startswith("DELETE FROM web_sessions")]
        assert "ix_web_sessions_last_seen_at" in plan_of(kap12.db.engine, statement, parameters,
                                                         "enable_seqscan = off")
