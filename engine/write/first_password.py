"""A first password, for an installation where people log in with a user name and password: an
administrator (on «Personer og roller») or the operator (``kap12 katalog passord``) gives one,
made here at random and shown once. It is temporary: it works for ``VALID_FOR`` and only to
choose one's own password at the first log-in (``sessions.change_password``, with the first
password as the current one), so that the administrator, who has seen it, cannot go on using
it, and a note with it that is lost soon opens nothing.

Giving one is a change to the person's account, recorded on the system chain like the staff
list's changes (who gave it to whom, never the password), and it logs the person out
everywhere and revokes their API keys: it is also how a forgotten password is replaced, and how
an account someone else has taken over is given back (a key the taker made would outlive the
password otherwise)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine import access
from engine.errors import Refused
from engine.store import directory
from engine.store.models import Notification, User
from engine.store.person_change import PersonChange
from engine.write import sessions, staff_directory
from processes.deadlines import format_local
from processes.messages import Message

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

VALID_FOR = timedelta(days=7)
KIND = "first_password"  # the notice to the person
LINK = "/profil"
# Letters and digits that cannot be mistaken for each other when read aloud or copied by hand
# (no 0/o, 1/l/i); three groups of four: 31**12, some 59 bits.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class FirstPassword:
    username: str
    name: str
    password: str
    valid_until: datetime
    keys_revoked: int = 0


def _made() -> str:
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(3))


def give(kap12: Kap12, username: str, by: access.Viewer | None = None, now: datetime | None = None) -> FirstPassword:
    """Give the person a new first password (replacing any password they had), log them out
    everywhere and revoke their API keys. ``by``: an administrator on the web, for someone wholly of their counties;
    ``now``: the clock log-ins are measured by (the web's), when it is not kap12's."""
    if not kap12.settings.local_login:
        raise Refused([Message("Innlogging med brukernavn og passord er slått av her (KAP12_LOCAL_LOGIN=0): "
                               "personen logger inn gjennom innloggingstjenesten.")])
    now = now or kap12.clock.now()
    password = _made()
    with kap12.db.writing() as session:
        user = directory.user_by_username(session, username)
        if by is not None:
            staff_directory.refuse_unless_theirs(
                session, by, user, access.may_give_first_password, Message("Ditt eget passord bytter du under Profil."),
                Message("%(username)s har roller i et annet fylke også; bare driften kan gi personen et passord.",
                        username=user.username))
        if not user.active:
            raise Refused([Message("%(username)s er deaktivert. Les personen inn igjen med personlisten først.",
                                   username=username)])
        user.password_hash = directory.hash_password(password)
        user.password_temporary_until = now + VALID_FOR
        keys = directory.revoke_all_api_tokens(session, user.id, now)
        counties = staff_directory.county_names(session, user)
        change = PersonChange(user.username, user.display_name, first_password=True, keys_revoked=keys)
        staff_directory.record_change(session, by, now, counties, {"counties": counties, "people": [change.as_data()]})
        session.add(_notice(user, by, now, keys))
        sessions.end_within(session, [user.id], now, sessions.PASSWORD_CHANGED)
        return FirstPassword(user.username, user.display_name, password, now + VALID_FOR, keys)


def _notice(user: User, by: access.Viewer | None, now: datetime, keys: int) -> Notification:
    """The person is told, in kap12 and by mail: one they did not ask for is how they learn that
    someone may be about to log in as them. Never the password."""
    who = by.name if by is not None else "Driften"
    revoked = (" API-nøklene dine er trukket tilbake; lag nye under Profil om du trenger dem." if keys > 1 else
               " API-nøkkelen din er trukket tilbake; lag en ny under Profil om du trenger den." if keys else "")
    return Notification(user_id=user.id, case_id=None, kind=KIND, subject="Nytt førstegangspassord i kap12",
                        body=f"{who} har gitt deg et førstegangspassord i kap12 {format_local(now)}. Passordet får "
                             f"du av den som ga det, ikke på e-post.{revoked} Har du ikke bedt om et nytt passord, "
                             "si fra til skolens ledelse med en gang.",
                        link=LINK, created_at=now, mail_attempts=0)


def is_expired(user: User, now: datetime) -> bool:
    """Whether the person's password is a first password no longer valid."""
    return user.password_temporary_until is not None and now >= user.password_temporary_until
