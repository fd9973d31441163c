"""External identities: a person known to an identity provider (issuer + identifying claim)
bound to a kap12 user. Roles and schools still come from kap12's own directory; the provider
only tells who someone is."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.store.models import ExternalIdentity, User
from processes.messages import Message


@dataclass(frozen=True)
class IdentityRow:
    username: str
    issuer: str
    subject: str


def _clean(issuer: str, subject: str) -> tuple[str, str]:
    issuer, subject = (issuer or "").strip().rstrip("/"), (subject or "").strip()
    if not issuer:
        raise InvalidInput(Message("Oppgi innloggingstjenesten (utstederen), f.eks. https://auth.dataporten.no."))
    if not subject or len(subject) > 500:
        raise InvalidInput(Message("Oppgi personens identitet hos innloggingstjenesten, f.eks. ola@skole.no."))
    return issuer, subject


def link(session: Session, user: User, issuer: str, subject: str) -> ExternalIdentity:
    """Bind ``subject`` at ``issuer`` to ``user``. Binding the same pair again is a no-op; a pair
    bound to someone else is refused (one person is one user)."""
    issuer, subject = _clean(issuer, subject)
    row = session.scalars(select(ExternalIdentity).where(ExternalIdentity.issuer == issuer,
                                                         ExternalIdentity.subject == subject)).first()
    if row is not None:
        if row.user_id != user.id:
            other = session.get(User, row.user_id)
            name = other.username if other is not None else "?"
            raise InvalidInput(Message("«%(subject)s» er allerede koblet til brukeren «%(username)s».", subject=subject,
                                       username=name))
        return row
    row = ExternalIdentity(user_id=user.id, issuer=issuer, subject=subject)
    session.add(row)
    session.flush()
    return row


def unlink_others(session: Session, issuer: str, wanted: dict[int, str]) -> dict[int, list[str]]:
    """For each user id in ``wanted``, unbind their identities at ``issuer`` other than the one
    wanted, and return them by user id. A staff list names *the* identifier a person logs in
    with: one changed (a new Feide name) must not leave the old one working, for the old name
    may be given to someone else. All are unbound before any is bound, so that an identifier
    passed from one person to another in the same list is free when it is bound."""
    issuer = (issuer or "").strip().rstrip("/")
    gone: dict[int, list[str]] = {}
    if not wanted:
        return gone
    for row in session.scalars(select(ExternalIdentity).where(ExternalIdentity.issuer == issuer,
                                                              ExternalIdentity.user_id.in_(list(wanted)))
                               .order_by(ExternalIdentity.id)):
        if row.subject != wanted[row.user_id]:
            gone.setdefault(row.user_id, []).append(row.subject)
            session.delete(row)
    session.flush()
    return gone


def is_linked(session: Session, user: User, issuer: str, subject: str) -> bool:
    """Whether ``subject`` at ``issuer`` is bound to ``user`` already."""
    issuer, subject = _clean(issuer, subject)
    return session.scalar(select(ExternalIdentity.id).where(
        ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject,
        ExternalIdentity.user_id == user.id)) is not None


def unlink(session: Session, user: User, issuer: str, subject: str) -> None:
    issuer, subject = _clean(issuer, subject)
    row = session.scalars(select(ExternalIdentity).where(ExternalIdentity.issuer == issuer,
                                                         ExternalIdentity.subject == subject,
                                                         ExternalIdentity.user_id == user.id)).first()
    if row is None:
        raise NotFound(Message("«%(subject)s» er ikke koblet til brukeren «%(username)s».", subject=subject,
                               username=user.username))
    session.delete(row)


def user_for(session: Session, issuer: str, subject: str) -> User | None:
    """The active user bound to this identity, or None (unknown, or deactivated)."""
    issuer, subject = (issuer or "").strip().rstrip("/"), (subject or "").strip()
    if not issuer or not subject:
        return None
    user = session.scalars(select(User).join(ExternalIdentity, ExternalIdentity.user_id == User.id)
                           .where(ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject)).first()
    return user if user is not None and user.active else None


def all_identities(session: Session) -> list[IdentityRow]:
    rows = session.execute(select(User.username, ExternalIdentity.issuer, ExternalIdentity.subject)
                           .join(User, User.id == ExternalIdentity.user_id)
                           .order_by(User.username, ExternalIdentity.subject))
    return [IdentityRow(r.username, r.issuer, r.subject) for r in rows]
