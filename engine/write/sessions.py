"""Log-in sessions written: started at log-in, ended by log-out, by a changed password, or by
an administrator's "log out everywhere" (``engine.read.sessions`` reads them on every request).

The browser's cookie carries a random token; the row holds only its SHA-256, the user, and when
it was started and last seen. An ended session's cookie is worth nothing, wherever it was
copied to."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CompoundSelect, CursorResult, Result, Update, delete, update
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.store import directory
from engine.store.db import Database
from engine.store.directory import token_hash
from engine.store.models import User, WebSession
from processes.messages import Message

# Ended and expired rows are kept this long (who was logged in when), then removed.
KEEP_ENDED = timedelta(days=30)

LOGGED_OUT = "logget ut"
ADMINISTRATOR = "logget ut av administrator"
PASSWORD_CHANGED = "passordet ble endret"


def _end(session: Session, query: Update, now: datetime, reason: str, keep: str | None) -> int:
    """End the open sessions ``query`` selects, but the one whose token is ``keep``."""
    query = query.where(WebSession.ended_at.is_(None))
    if keep:
        query = query.where(WebSession.token_hash != token_hash(keep))
    result: Result = session.execute(query.values(ended_at=now, ended_reason=reason))
    return cast(CursorResult, result).rowcount


def start(db: Database, user_id: int, now: datetime, *, address: str = "", agent: str = "") -> str:
    """A new session for ``user_id``; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    with db.writing() as session:
        # Last seen long ago: ended then too (a session is not seen after it ends), or expired.
        # One column, read from its index (``ix_web_sessions_last_seen_at``): asked of either, the
        # database read every row, 0.2 s a log-in with a county's month of sessions.
        session.execute(delete(WebSession).where(WebSession.last_seen_at < now - KEEP_ENDED))
        session.add(WebSession(token_hash=token_hash(token), user_id=user_id, created_at=now, last_seen_at=now,
                               address=address[:64], agent=agent[:200]))
    return token


def end(db: Database, token: str | None, now: datetime, reason: str = LOGGED_OUT) -> None:
    if not token:
        return
    with db.writing() as session:
        _end(session, update(WebSession).where(WebSession.token_hash == token_hash(token)), now, reason, None)


def end_everywhere(db: Database, user_ids: list[int] | None, now: datetime, reason: str = ADMINISTRATOR, *,
                   keep: str | None = None, among: CompoundSelect | None = None) -> int:
    """Log the given people (or, with ``None``, everyone) out of every browser, but for the
    session whose token is ``keep`` (the administrator's own); only people ``among`` these
    (an administrator's, ``access.administered_people``; None: the installation's, from the
    command line). Returns how many ended."""
    query = update(WebSession)
    if user_ids is not None:
        query = query.where(WebSession.user_id.in_(user_ids))
    if among is not None:
        query = query.where(WebSession.user_id.in_(among))
    with db.writing() as session:
        return _end(session, query, now, reason, keep)


def end_within(session: Session, user_ids: list[int], now: datetime, reason: str) -> int:
    """``end_everywhere`` for these people in the caller's transaction: with the change that makes
    it needed (a password given them), so that no crash between the two leaves them logged in."""
    return _end(session, update(WebSession).where(WebSession.user_id.in_(user_ids)), now, reason, None)


def change_password(db: Database, user_id: int, current: str, new: str, now: datetime, *,
                    keep_session: str | None = None) -> int:
    """Change a person's own password, and end their other log-in sessions in the same
    transaction (a password that may have leaked must not leave a thief logged in). Returns
    how many sessions were ended."""
    errors: dict[str, list[str]] = {}
    if not directory.PASSWORD_MIN <= len(new) <= directory.PASSWORD_MAX:
        errors["new"] = [f"Passordet må ha {directory.PASSWORD_MIN}–{directory.PASSWORD_MAX} tegn."]
    if new == current:
        errors.setdefault("new", []).append("Det nye passordet må være et annet enn det gamle.")
    with db.writing() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(Message("Brukeren finnes ikke."))
        if len(current) > directory.PASSWORD_MAX or not directory.check_password(user, current):
            errors["current"] = ["Det nåværende passordet stemmer ikke."]
        if errors:
            raise InvalidInput(Message("Passordet ble ikke endret."), errors)
        user.password_hash = directory.hash_password(new)
        user.password_temporary_until = None  # one's own now (a first password is chosen away here)
        return _end(session, update(WebSession).where(WebSession.user_id == user.id), now, PASSWORD_CHANGED,
                    keep_session)
