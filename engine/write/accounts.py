"""Changes to a person's account that are not a case: personal API keys, and the log-in
service identities (Feide / OpenID Connect) an operator binds to a user."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from engine import access
from engine.errors import NotFound
from engine.store import directory, identities
from engine.store.models import User
from processes.messages import Message

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12


def create_api_key(kap12: Kap12, viewer: access.Viewer, name: str) -> str:
    """A new personal API key; the plain key is returned once and never stored."""
    with kap12.db.writing() as session:
        _row, token = directory.create_api_token(session, _user(session, viewer), name, kap12.clock.now())
    return token


def revoke_api_key(kap12: Kap12, viewer: access.Viewer, key_id: int) -> None:
    with kap12.db.writing() as session:
        directory.revoke_api_token(session, _user(session, viewer), key_id, kap12.clock.now())


def link_identity(kap12: Kap12, username: str, issuer: str, subject: str) -> None:
    """``subject`` at the log-in service ``issuer`` logs in as ``username`` from now on."""
    with kap12.db.writing() as session:
        identities.link(session, directory.user_by_username(session, username), issuer, subject)


def unlink_identity(kap12: Kap12, username: str, issuer: str, subject: str) -> None:
    with kap12.db.writing() as session:
        identities.unlink(session, directory.user_by_username(session, username), issuer, subject)


def _user(session: Session, viewer: access.Viewer) -> User:
    user = session.get(User, viewer.id)
    if user is None:
        raise NotFound(Message("Brukeren finnes ikke."))
    return user
