"""Log-in sessions as the pages read them: whose is this cookie's token, and who is logged in.

A session row (``WebSession``) is live while it has not been ended, has been seen within the
idle timeout, and is younger than ``LIFETIME``; the rows are written by ``engine.write.sessions``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, CompoundSelect, bindparam, select

from engine.read import paging
from engine.store import stamps
from engine.store.db import Database
from engine.store.directory import CredentialLookup, Holder, token_hash
from engine.store.models import User, WebSession

# One school day: after it, log in again whatever the idle timeout says.
LIFETIME = timedelta(hours=10)
# Longest token worth looking up (ours are 43 characters).
_TOKEN_MAX = 100


def _live(seen_after: object, created_after: object) -> tuple[ColumnElement[bool], ...]:
    """A session is live: not ended, seen after ``seen_after`` and begun after ``created_after``
    (moments, or bound parameters for them)."""
    return (WebSession.ended_at.is_(None), WebSession.last_seen_at > seen_after,
            WebSession.created_at > created_after)


def _live_since(now: datetime, idle: timedelta) -> dict[str, datetime]:
    # "Last seen" is stamped at most once a minute, so idleness is counted from the last stamp.
    return {"seen_after": now - idle - stamps.EVERY, "created_after": now - LIFETIME}


_SESSIONS = CredentialLookup(WebSession.last_seen_at, WebSession.token_hash == bindparam("token_hash"),
                             *_live(bindparam("seen_after"), bindparam("created_after")))


def holder_of(db: Database, token: str | None, now: datetime, idle: timedelta) -> Holder | None:
    """Whose live session this is (``directory.CredentialLookup``): the active person, or
    ``None``. A read; the session's "last seen" is stamped at most once a minute."""
    if not token or len(token) > _TOKEN_MAX:
        return None
    return _SESSIONS.holder(db, now, token_hash=token_hash(token), **_live_since(now, idle))


@dataclass(frozen=True)
class LiveSession:
    id: int
    user_id: int
    username: str
    display_name: str
    created_at: datetime
    last_seen_at: datetime
    address: str
    agent: str


SESSION_ORDER = (paging.Key(WebSession.last_seen_at, descending=True), paging.Key(WebSession.id, descending=True))


def live(db: Database, now: datetime, idle: timedelta, among: CompoundSelect, cursor: str | None = None,
         limit: int | None = None) -> paging.Page[LiveSession]:
    """A page of the sessions that would let someone ``among`` (ids of people,
    ``access.administered_people``) in now, most recently seen first."""
    query = (select(WebSession, User.username, User.display_name).join(User, User.id == WebSession.user_id)
             .where(*_live(**_live_since(now, idle)), WebSession.user_id.in_(among)))
    with db.reading() as session:
        page = paging.fetch(session, query, SESSION_ORDER, cursor, limit,
                            lambda row: (row[0].last_seen_at, row[0].id))
    return paging.Page([LiveSession(s.id, s.user_id, username, name, s.created_at, s.last_seen_at, s.address, s.agent)
                        for s, username, name in page.items], page.next_cursor)
