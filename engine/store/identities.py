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


def stored_issuer(issuer: str | None) -> str:
    """A log-in service's issuer as the bindings keep it: without spaces or a trailing slash, so
    that ``https://auth.dataporten.no/`` in a setting finds what ``…no`` bound."""
    return (issuer or "").strip().rstrip("/")


def _clean(issuer: str, subject: str) -> tuple[str, str]:
    issuer, subject = stored_issuer(issuer), (subject or "").strip()
    if not issuer:
        raise InvalidInput(Message("Oppgi innloggingstjenesten (utstederen), f.eks. https://auth.dataporten.no."))
    if not subject or len(subject) > 500:
        raise InvalidInput(Message("Oppgi personens identitet hos innloggingstjenesten, f.eks. ola@skole.no."))
    return issuer, subject


def link(session: Session, user: User, issuer: str, subject: str) -> None:
    """Bind ``subject`` at ``issuer`` to ``user``. Binding the same pair again is a no-op; a pair
    bound to someone else is refused (one person is one user)."""
    refused = link_all(session, issuer, [(user, subject)])
    if refused:
        raise InvalidInput(refused[0])


def link_all(session: Session, issuer: str, wanted: list[tuple[User, str]]) -> dict[int, Message]:
    """``link`` for many people at once (a staff list binds a county's people): who holds the
    identifiers read in one statement, the new bindings written in one flush (a statement and a
    flush each made a county's first list several times slower). Returns why, by position in
    ``wanted``, for each identifier that is someone else's; nothing is bound then."""
    cleaned = [(user, *_clean(issuer, subject)) for user, subject in wanted]
    if not cleaned:
        return {}
    issuer = cleaned[0][1]
    holders = dict(session.execute(select(ExternalIdentity.subject, User.username)
                                   .join(User, User.id == ExternalIdentity.user_id)
                                   .where(ExternalIdentity.issuer == issuer,
                                          ExternalIdentity.subject.in_([s for _, _, s in cleaned]))).all())
    refused = {n: Message("«%(subject)s» er allerede koblet til brukeren «%(username)s».", subject=subject,
                          username=holders[subject])
               for n, (user, _, subject) in enumerate(cleaned) if holders.get(subject, user.username) != user.username}
    if refused:
        return refused
    session.add_all(ExternalIdentity(user_id=user.id, issuer=issuer, subject=subject)
                    for user, _, subject in cleaned if subject not in holders)
    session.flush()
    return {}


def unlink_others(session: Session, issuer: str, wanted: dict[int, str]) -> dict[int, list[str]]:
    """For each user id in ``wanted``, unbind their identities at ``issuer`` other than the one
    wanted, and return them by user id. A staff list names *the* identifier a person logs in
    with: one changed (a new Feide name) must not leave the old one working, for the old name
    may be given to someone else. All are unbound before any is bound, so that an identifier
    passed from one person to another in the same list is free when it is bound."""
    issuer = stored_issuer(issuer)
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


def bound_at(session: Session, issuer: str, user_ids: list[int]) -> dict[int, set[str]]:
    """The identifiers each of these people has at ``issuer``, read at once (a staff list asks it
    for everyone in the file: asked person by person it was a statement each)."""
    issuer = stored_issuer(issuer)
    found: dict[int, set[str]] = {}
    for user_id, subject in session.execute(select(ExternalIdentity.user_id, ExternalIdentity.subject).where(
            ExternalIdentity.issuer == issuer, ExternalIdentity.user_id.in_(user_ids))):
        found.setdefault(user_id, set()).add(subject)
    return found


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
    issuer, subject = stored_issuer(issuer), (subject or "").strip()
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
