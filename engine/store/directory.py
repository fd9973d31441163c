"""Counties, schools, departments, people and their roles."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.errors import InvalidInput, NotFound
from engine.store import stamps
from engine.store.db import Database
from engine.store.models import ApiToken, County, Department, RoleGrant, School, User
from processes.messages import Message
from processes.roles import COUNTY_ROLES, ROLES, SCHOOL_ROLES

M = TypeVar("M", County, School, Department)

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _no_one_hash() -> str:
    return _hasher.hash("kap12-not-a-password")


def check_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's. It takes as long whoever is asked about: an unknown
    name (None), a deactivated account and one that logs in only through the county's log-in
    service (no password) are verified against a hash too, so the answer time does not tell
    them from an active account given a wrong password (it told them apart: 5 ms against 270)."""
    stored = user.password_hash if user is not None and user.active else None
    try:
        right = _hasher.verify(stored or _no_one_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(stored) and right  # never the stand-in hash's own password


def _get_or_create(session: Session, model: type[M], **keys: object) -> M:
    row = session.scalars(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys)
        session.add(row)
        session.flush()
    return row


def get_or_create_county(session: Session, name: str) -> County:
    return _get_or_create(session, County, name=name)


def get_or_create_school(session: Session, county: County, name: str) -> School:
    return _get_or_create(session, School, county_id=county.id, name=name)


def counties(session: Session, within: Collection[int] | None = None) -> list[County]:
    """The installation's counties by name; ``within``: only those."""
    return [county for county in session.scalars(select(County).order_by(County.name))
            if within is None or county.id in within]


def county_named(counties: list[County], name: str | None) -> County | None:
    """The county named, or the only one when none is named (a county's list, its import: an
    installation for one county need not name it). None: not among them, or several and no name."""
    if name:
        return next((county for county in counties if county.name == name), None)
    return counties[0] if len(counties) == 1 else None


def counties_of(session: Session, user_ids: Collection[int]) -> dict[int, set[int]]:
    """The counties each person holds a role in (at the county, or at one of its schools)."""
    found: dict[int, set[int]] = {}
    rows = session.execute(select(RoleGrant.user_id, func.coalesce(RoleGrant.county_id, School.county_id))
                           .outerjoin(School, School.id == RoleGrant.school_id)
                           .where(RoleGrant.user_id.in_(list(user_ids))))
    for user_id, county_id in rows:
        found.setdefault(user_id, set()).add(county_id)
    return found


def get_or_create_department(session: Session, school: School, name: str) -> Department:
    return _get_or_create(session, Department, school_id=school.id, name=name)


def create_user(session: Session, username: str, display_name: str, *, password: str | None, email: str | None,
                now: datetime) -> User:
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InvalidInput(Message("Brukernavnet «%(username)s» er i bruk.", username=username),
                           {"username": [Message("Brukernavnet er i bruk.")]})
    user = User(username=username, display_name=display_name, email=email,
                password_hash=hash_password(password) if password else None, active=True, created_at=now)
    session.add(user)
    session.flush()
    return user


def grant(session: Session, user: User, role: str, *, school: School | None = None, county: County | None = None,
          department: Department | None = None) -> RoleGrant:
    if role not in ROLES:
        raise InvalidInput(Message("Ukjent rolle «%(role)s».", role=role))
    if role in SCHOOL_ROLES and school is None:
        raise InvalidInput(Message("Rollen «%(role)s» gjelder en skole; oppgi skolen.", role=role))
    if role in COUNTY_ROLES and county is None:
        raise InvalidInput(Message("Rollen «%(role)s» gjelder et fylke; oppgi fylket.", role=role))
    row = RoleGrant(user_id=user.id, role=role, school_id=school.id if school else None,
                    county_id=county.id if county else None, department_id=department.id if department else None)
    session.add(row)
    session.flush()
    session.refresh(user)
    return row


def set_language_form(session: Session, school: School, language_form: str) -> None:
    """The school's målform for letters to families that have not chosen one."""
    if language_form not in ("nb", "nn"):
        raise InvalidInput(Message("Målformen må være «nb» (bokmål) eller «nn» (nynorsk)."))
    school.malform = language_form


def user_by_username(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise no_such_user(username)
    return user


def no_such_user(username: str) -> NotFound:
    return NotFound(Message("Brukeren «%(username)s» finnes ikke.", username=username))


def school_by_name(session: Session, name: str) -> School:
    school = session.scalars(select(School).where(School.name == name)).first()
    if school is None:
        raise NotFound(Message("Skolen «%(name)s» finnes ikke.", name=name))
    return school


TOKEN_PREFIX = "k12_"


def token_hash(token: str) -> str:
    """The SHA-256 of a secret token (API keys, log-in sessions): what is stored instead of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, user: User, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new personal token; the plain token is returned once and never stored."""
    if not (name or "").strip():
        raise InvalidInput(Message("Gi nøkkelen et navn."), {"name": ["Skriv hva nøkkelen skal brukes til."]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip()[:100], token_hash=token_hash(token), created_at=now)
    session.add(row)
    session.flush()
    return row, token


Grant = tuple[str, int | None, int | None]  # (role, school_id, county_id), as ``access.Viewer`` holds them


@dataclass(frozen=True)
class Holder:
    """The active person a live credential (an API token, a log-in session) belongs to, with
    their grants: all a request needs to know who asks (``access.Viewer``)."""

    user_id: int
    name: str
    grants: tuple[Grant, ...]


class CredentialLookup:
    """Finds the holder of a credential row that meets ``live`` (one row at most: ``live``
    names its unique token hash), read in one statement with the person and their grants — a
    row per grant (every API call and page asks it: as the row, the user and the grants one by
    one it was three round trips and a tenth of a short request). The row's ``stamp`` ("last
    used", "last seen") is then written if stale (``stamps``).

    Made once for each kind of credential, at import: ``live`` names its values as bound
    parameters, which ``holder`` is given, so that the statement is built once — building it
    cost more than running it."""

    def __init__(self, stamp: InstrumentedAttribute, *live: ColumnElement[bool]) -> None:
        credential = stamp.class_
        self.stamp = stamp
        self.query = (select(credential.id, stamp, User.id, User.display_name, RoleGrant.role, RoleGrant.school_id,
                             RoleGrant.county_id)
                      .join(User, User.id == credential.user_id).outerjoin(RoleGrant, RoleGrant.user_id == User.id)
                      .where(*live, User.active.is_(True)).order_by(RoleGrant.id))

    def holder(self, db: Database, now: datetime, **params: object) -> Holder | None:
        with db.reading() as session:
            rows = session.execute(self.query, params).all()
        if not rows:
            return None
        row_id, stamped, user_id, name = rows[0][:4]
        grants = tuple((role, school, county) for *_, role, school, county in rows if role is not None)
        if stamps.is_stale(stamped, now):
            stamps.stamp(db, self.stamp, row_id, now)
        return Holder(user_id, name, grants)


_TOKENS = CredentialLookup(ApiToken.last_used_at, ApiToken.token_hash == bindparam("token_hash"),
                           ApiToken.revoked_at.is_(None))


def token_holder(db: Database, token: str, now: datetime) -> Holder | None:
    """Whose live API token this is (``CredentialLookup``); the token's last use is stamped at
    most once a minute."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return _TOKENS.holder(db, now, token_hash=token_hash(token))


def revoke_api_token(session: Session, user: User, token_id: int, now: datetime) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(Message("Nøkkelen finnes ikke."))
    row.revoked_at = now


def revoke_all_api_tokens(session: Session, user_id: int, now: datetime) -> int:
    """Revoke every live API token the person has; how many there were."""
    result = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def active_user(session: Session, username: str) -> User | None:
    """The user who may log in by this name (None: unknown or deactivated)."""
    return session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()


PASSWORD_MIN = 8
# argon2 reads every byte it is given: a bound keeps one request from costing much.
PASSWORD_MAX = 200
