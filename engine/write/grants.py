"""Giving a named employee access to one case, and withdrawing it.

Rektor (A, B) or the school owner (C) lets someone outside the procedure's circle read a case —
the contact teacher who carries out a measure, a colleague who takes over — for a reason and
until a date. Every grant and withdrawal is an event in the case's history, made through the
one write path; a reclassification ends the grants of the procedure the case leaves."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access
from engine.errors import Conflict, Denied, InvalidInput, NotFound
from engine.store.events import ACCESS_GRANTED, ACCESS_WITHDRAWN
from engine.store.models import AccessGrant, Case, CaseParty, User
from engine.write.parties import accused_known
from engine.write.unit_of_work import Actor, CaseStep, Host
from processes.deadlines import OSLO
from processes.messages import Message
from processes.roles import COUNTY_ROLES, SCHOOL_ROLES

# Long enough for a school year's measures; a longer need is a new grant with a new reason.
LONGEST = timedelta(days=366)
ENDED_BY_RECLASSIFICATION = "Saken ble klassifisert om til en annen prosedyre."


@dataclass(frozen=True)
class GrantView:
    id: int
    user: str
    username: str
    reason: str
    granted_at: datetime
    ends_at: datetime
    last_day: date
    withdrawn_at: datetime | None
    withdraw_reason: str | None
    active: bool


def _end_of(day: date) -> datetime:
    """A grant "until 14 March" holds through that day in Oslo."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=OSLO)


def _parse_day(value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError as err:
        raise InvalidInput(Message("Sluttdatoen mangler eller er ugyldig."),
                           {"til": ["Skriv datoen som åååå-mm-dd, eller velg den i kalenderen."]}) from err


def _grantee(session: Session, case: Case, username: str) -> User:
    """A named, active employee at the case's school, who is not accused and holds no county role."""
    user = session.scalars(select(User).where(User.username == (username or "").strip())).first()
    if user is None or not user.active:
        raise InvalidInput(Message("Velg en ansatt fra listen."), {"bruker": ["Velg personen fra listen over ansatte."]})
    accused = session.scalar(select(CaseParty.id).where(CaseParty.case_id == case.id, CaseParty.user_id == user.id,
                                                        CaseParty.relation == "accused"))
    if accused is not None:
        # Said plainly to the one who grants: they lead the case and know who is accused.
        raise InvalidInput(Message("%(name)s er anklaget i saken og kan aldri få tilgang til den.",
                                   name=user.display_name),
                           {"bruker": [Message("Den anklagede kan ikke få tilgang.")]})
    held = {(g.role, g.school_id) for g in user.grants}
    if any(role in COUNTY_ROLES for role, _ in held) or not any(
            role in SCHOOL_ROLES and school == case.school_id for role, school in held):
        raise InvalidInput(Message("%(name)s er ikke ansatt ved skolen saken gjelder.", name=user.display_name),
                           {"bruker": [Message("Tilgang kan bare gis til ansatte ved skolen.")]})
    return user


def _check_may_grant(step: CaseStep, viewer: access.Viewer) -> None:
    access.check_may_change(step.session, viewer, step.case)
    if not access.may_grant(viewer, step.case):
        raise Denied(Message("Bare rektor (prosedyre A og B) eller skoleeier (prosedyre C) kan gi eller trekke "
                             "tilbake tilgang til saken."))


def grant(kap12: Host, viewer: access.Viewer, case_id: int, username: str, reason: str, until: object) -> Case:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(Message("Begrunnelse mangler."), {"begrunnelse": ["Skriv hvorfor personen trenger tilgang."]})
    last_day = _parse_day(until)

    def act(step: CaseStep) -> None:
        _check_may_grant(step, viewer)
        session, case = step.session, step.case
        if case.status != "open":
            raise Conflict(Message("Saken er avsluttet. Ingenting ble endret."))
        if case.procedure in access.SHARPENED and not accused_known(session, case.id):
            raise Conflict(Message("Registrer først hvem som er anklaget. Til da kan ingen andre få tilgang til saken."))
        today = step.now.astimezone(OSLO).date()
        if last_day < today:
            raise InvalidInput(Message("Sluttdatoen er passert."), {"til": ["Velg i dag eller en senere dato."]})
        if last_day > today + LONGEST:
            raise InvalidInput(Message("Tilgang kan gis for høyst ett år om gangen."),
                               {"til": ["Velg en dato innen ett år fra i dag."]})
        user = _grantee(session, case, username)
        if user.id == viewer.id:
            raise InvalidInput(Message("Du kan ikke gi deg selv tilgang."), {"bruker": ["Velg en annen person."]})
        ends = _end_of(last_day)
        if any(g.user_id == user.id for g in _active(session, case, step.now)):
            raise Conflict(Message("%(name)s har allerede tilgang. Trekk den tilbake først for å endre den.",
                                   name=user.display_name))
        row = AccessGrant(case_id=case.id, user_id=user.id, procedure=case.procedure, reason=reason,
                          granted_by_id=viewer.id, granted_at=step.now, ends_at=ends)
        session.add(row)
        session.flush()
        step.record(ACCESS_GRANTED, grant_id=row.id, user_id=user.id, name=user.display_name,
                    procedure=case.procedure, reason=reason, until=last_day.isoformat())
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)


def withdraw(kap12: Host, viewer: access.Viewer, case_id: int, grant_id: int, reason: str = "") -> Case:
    def act(step: CaseStep) -> None:
        _check_may_grant(step, viewer)
        row = step.session.get(AccessGrant, grant_id)
        if row is None or row.case_id != step.case.id:
            raise NotFound(Message("Tilgangen finnes ikke."))
        if row.withdrawn_at is not None or row.ends_at <= step.now:
            raise Conflict(Message("Tilgangen er allerede avsluttet. Ingenting ble endret."))
        _end(step, row, viewer.id, (reason or "").strip())
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)


def _end(step: CaseStep, row: AccessGrant, by_id: int | None, reason: str) -> None:
    row.withdrawn_at, row.withdrawn_by_id, row.withdraw_reason = step.now, by_id, reason
    step.record(ACCESS_WITHDRAWN, grant_id=row.id, user_id=row.user_id, name=row.user.display_name,
                reason=reason)


def _active(session: Session, case: Case, now: datetime) -> list[AccessGrant]:
    return list(session.scalars(select(AccessGrant).where(
        AccessGrant.case_id == case.id, AccessGrant.withdrawn_at.is_(None), AccessGrant.ends_at > now)))


def end_all(step: CaseStep, reason: str = ENDED_BY_RECLASSIFICATION) -> None:
    """Withdraw every grant that holds now (a reclassification draws a new circle)."""
    for row in _active(step.session, step.case, step.now):
        _end(step, row, step.actor.id, reason)


def grants_of(kap12: Host, case_id: int) -> list[GrantView]:
    """Every grant of the case, newest first, for those who lead it and for auditors."""
    now = kap12.clock.now()
    with kap12.db.reading() as session:
        rows = session.scalars(select(AccessGrant).where(AccessGrant.case_id == case_id)
                               .order_by(AccessGrant.granted_at.desc(), AccessGrant.id.desc()))
        return [GrantView(r.id, r.user.display_name, r.user.username, r.reason, r.granted_at, r.ends_at,
                          (r.ends_at.astimezone(OSLO) - timedelta(days=1)).date(), r.withdrawn_at, r.withdraw_reason, r.withdrawn_at is None and r.ends_at > now)
                for r in rows]
