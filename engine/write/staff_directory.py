"""Who works in a county, and as what: the directory brought in line with the county's staff list
(``kap12 katalog importer``), and a person taken out of service (``kap12 katalog deaktiver``).

A role decides which cases a person reads and which tasks they do, so every change is recorded
on the system chain (who was added, given or lost a role, deactivated), in the transaction that
makes it: an auditor can tell who could read a case on a given day.

Two things follow from a change, because the law's deadlines keep running:
- a task someone took (claimed) is hidden from the others with the role until it is let go. A
  person who leaves, or loses the role, would take it with them, and the case would stop with
  nobody seeing it. Such tasks are let go through the write path, one step per case, recorded in
  the case's history, and the role's holders see them again.
- a school left with open tasks for a role nobody holds any more (the only rektor has left) is
  named in the result, so that the operator gives the role to someone the same day.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from engine import access
from engine.errors import NotFound, Refused
from engine.store import directory, history, identities
from engine.store.events import DIRECTORY_CHANGED, TASK_RELEASED
from engine.store.models import Case, County, OpenTask, OpenTaskRole, RoleGrant, School, User
from engine.store.staff_file import StaffLine
from engine.write import sessions
from engine.write.unit_of_work import Actor, CaseStep
from processes.messages import Message
from processes.roles import COUNTY_ROLES, ROLES

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

ACTOR = "kap12 (personkatalogen)"
# A complete list that would take every role in the county from more than this share of the
# people holding one is refused unless the operator says it is meant: a half-written export
# from the county's systems would otherwise shut the schools out of their cases.
LARGEST_SHARE_REMOVED = 0.5

# Why a task was let go, as its history event says (``webui/present.py`` words it).
RELEASED_BY_DIRECTORY = "directory"

Place = tuple[str, int | None, int | None]  # (role, school_id, county_id), as a grant holds it


@dataclass
class PersonChange:
    """What changes for one person, in words an operator and an auditor read."""

    username: str
    name: str
    created: bool = False
    updated: list[str] = field(default_factory=list)  # «navn», «epost»
    reactivated: bool = False
    deactivated: bool = False
    added: list[str] = field(default_factory=list)  # «rektor ved Nordli skole»
    removed: list[str] = field(default_factory=list)
    linked: str | None = None

    def as_data(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if value}

    def describe(self) -> str:
        parts = (["ny"] if self.created else []) + (["aktiv igjen"] if self.reactivated else []) + \
                [f"ny {what}" for what in self.updated] + [f"får {what}" for what in self.added] + \
                [f"mister {what}" for what in self.removed] + \
                ([f"logger inn som «{self.linked}»"] if self.linked else []) + \
                (["deaktivert"] if self.deactivated else [])
        return f"{self.username} ({self.name}): {', '.join(parts)}"


@dataclass(frozen=True)
class LetGo:
    """A task taken by someone who may no longer do it, given back to its role."""

    case_number: str
    title: str
    username: str


@dataclass(frozen=True)
class Unstaffed:
    """Open tasks at a school for a role that nobody active holds there any more."""

    school: str
    roles: tuple[str, ...]  # the tasks' roles, in words
    tasks: int


@dataclass
class DirectoryResult:
    county: str
    changes: list[PersonChange]
    unchanged: int
    applied: bool
    schools_created: list[str] = field(default_factory=list)
    let_go: list[LetGo] = field(default_factory=list)
    unstaffed: list[Unstaffed] = field(default_factory=list)


class _DryRun(Exception):
    """Ends a trial import's transaction: everything it did is rolled back."""


def import_staff(kap12: Kap12, lines: list[StaffLine], *, source: str, digest: str, county: str | None = None,
                 complete: bool = False, dry_run: bool = False, create_schools: bool = False,
                 allow_large: bool = False, issuer: str | None = None) -> DirectoryResult:
    """Bring the county's directory in line with ``lines`` (``staff_file.read``), all or nothing:
    new people are added (without a password: they log in through the log-in service), names
    and addresses updated, roles given, and a deactivated person listed again made active.
    ``complete``: the list is everyone, so roles in the county that it does not name are taken
    away, and a person left with no role anywhere is deactivated. ``dry_run``: say what would
    change and change nothing."""
    if any(line.identity for line in lines) and not issuer:
        raise Refused([Message("Filen har identiteter, men ingen innloggingstjeneste er satt opp (KAP12_OIDC_ISSUER); "
                               "oppgi utstederen, eller la kolonnen identitet stå tom.")])
    now = kap12.clock.now()
    result: DirectoryResult | None = None
    try:
        with kap12.db.writing() as session:
            result, taken = _import(session, lines, county, complete, create_schools, allow_large, issuer, now)
            if result.changes or result.schools_created:
                history.append(session, history.SYSTEM_CHAIN, kind=DIRECTORY_CHANGED, at=now, actor=ACTOR, data={
                    "county": result.county, "source": source, "sha256": digest, "complete": complete,
                    "schools_created": result.schools_created, "people": [c.as_data() for c in result.changes]})
            session.flush()
            result.unstaffed = _unstaffed(session, result.county)
            if dry_run:  # what would be let go, as this transaction leaves the directory
                result.let_go = [LetGo(case.number, task.title, user.username)
                                 for task, case, user in _tasks_to_let_go(session, taken)]
                raise _DryRun
    except _DryRun:
        assert result is not None
        return result
    result.applied = True
    _after(kap12, result, taken)
    return result


def deactivate(kap12: Kap12, username: str, reason: str) -> DirectoryResult:
    """Take a person out of service at once: they cannot log in or use an API key, their
    browsers are logged out, and tasks they took go back to their roles. Their roles stay, so
    that listing them again in the staff list gives them back; their history stays theirs."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused([Message("Skriv hvorfor personen deaktiveres (for eksempel «sluttet 31.12.»).")])
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        user = directory.user_by_username(session, username)
        if not user.active:
            raise Refused([Message("%(username)s er allerede deaktivert.", username=username)])
        user.active = False
        change = PersonChange(user.username, user.display_name, deactivated=True)
        history.append(session, history.SYSTEM_CHAIN, kind=DIRECTORY_CHANGED, at=now, actor=ACTOR,
                       data={"reason": reason, "people": [change.as_data()]})
        session.flush()
        taken = [user.id]
        counties = sorted({_county_name(session, grant) for grant in user.grants})
        result = DirectoryResult(", ".join(counties), [change], 0, True)
        result.unstaffed = [u for county in counties for u in _unstaffed(session, county)]
    _after(kap12, result, taken)
    return result


def _after(kap12: Kap12, result: DirectoryResult, taken: list[int]) -> None:
    """Once the directory is committed: log the deactivated out, and let go of their tasks."""
    gone = [c.username for c in result.changes if c.deactivated]
    if gone:
        with kap12.db.reading() as session:
            ids = list(session.scalars(select(User.id).where(User.username.in_(gone))))
        sessions.end_everywhere(kap12.db, ids, kap12.clock.now())
    with kap12.db.reading() as session:
        tasks = [(task.id, case.id, user.id) for task, case, user in _tasks_to_let_go(session, taken)]
    result.let_go = [let_go for task_id, case_id, user_id in tasks
                     if (let_go := _let_go(kap12, task_id, case_id, user_id)) is not None]


def _let_go(kap12: Kap12, task_id: str, case_id: int, user_id: int) -> LetGo | None:
    """Give the task back to its role in a step of its case, if its taker still may not do it."""
    done: list[LetGo] = []

    def act(step: CaseStep) -> None:
        row = step.session.get(OpenTask, task_id)
        user = step.session.get(User, user_id)
        if row is None or user is None or row.assignee_id != user_id or _keeps(step.session, user, task_id):
            return
        row.assignee_id = None
        step.record(TASK_RELEASED, task_id=task_id, element=row.element_id, title=row.title,
                    released_from=user.display_name, reason=RELEASED_BY_DIRECTORY)
        done.append(LetGo(step.case.number, row.title, user.username))

    kap12.writer.step(case_id, Actor.system(ACTOR), act)
    return done[0] if done else None


def _keeps(session: Session, user: User, task_id: str) -> bool:
    return user.active and access.keeps_task(session, access.Viewer.of(user), task_id)


def _tasks_to_let_go(session: Session, user_ids: list[int]) -> list[tuple[OpenTask, Case, User]]:
    if not user_ids:
        return []
    rows = session.execute(select(OpenTask, Case, User).join(Case, Case.id == OpenTask.case_id)
                           .join(User, User.id == OpenTask.assignee_id)
                           .where(OpenTask.assignee_id.in_(user_ids)).order_by(Case.id, OpenTask.id)).all()
    for _task, _case, user in rows:
        session.refresh(user, ["grants"])  # as this transaction left them
    return [(task, case, user) for task, case, user in rows if not _keeps(session, user, task.id)]


def _unstaffed(session: Session, county_name: str) -> list[Unstaffed]:
    """Each school's open tasks that no active person may take: none holds any of the task's
    roles at its school (or, for a county role, in its county)."""
    role = aliased(OpenTaskRole)
    held = exists().where(role.task_id == OpenTask.id, RoleGrant.role == role.role, User.id == RoleGrant.user_id,
                          User.active.is_(True),
                          or_(RoleGrant.school_id == role.school_id, RoleGrant.county_id == role.county_id))
    rows = session.execute(select(School.name, OpenTask.id, OpenTaskRole.role)
                           .join(Case, Case.id == OpenTask.case_id).join(School, School.id == Case.school_id)
                           .join(County, County.id == School.county_id)
                           .join(OpenTaskRole, OpenTaskRole.task_id == OpenTask.id)
                           .where(County.name == county_name, ~held)).all()
    tasks: dict[str, set[str]] = {}
    roles: dict[str, set[str]] = {}
    for school, task_id, role_code in rows:
        tasks.setdefault(school, set()).add(task_id)
        roles.setdefault(school, set()).add(role_code)
    return [Unstaffed(school, tuple(ROLES.get(r, r) for r in sorted(roles[school])), len(ids))
            for school, ids in sorted(tasks.items())]


def _county_name(session: Session, grant: RoleGrant) -> str:
    county_id = grant.county_id if grant.county_id is not None else \
        session.scalar(select(School.county_id).where(School.id == grant.school_id))
    return session.scalar(select(County.name).where(County.id == county_id)) or ""


# -- the import itself --------------------------------------------------------------------------

def _import(session: Session, lines: list[StaffLine], county_name: str | None, complete: bool, create_schools: bool,
            allow_large: bool, issuer: str | None, now: datetime) -> tuple[DirectoryResult, list[int]]:
    county = _county(session, county_name)
    schools = {school.name: school for school in session.scalars(select(School).where(School.county_id == county.id))}
    created = _schools(session, county, schools, lines, create_schools)
    wanted: dict[str, list[StaffLine]] = {}
    for line in lines:
        wanted.setdefault(line.username, []).append(line)
    users = {user.username: user for user in session.scalars(select(User).where(User.username.in_(list(wanted))))}
    in_county = _grants_in_county(session, county, schools)
    changes: list[PersonChange] = []
    taken: list[int] = []  # people who lost a role or were deactivated: their tasks are looked at
    for username, own in wanted.items():
        change = _person(session, county, schools, users.get(username), own, in_county, complete, issuer, now)
        if change is not None:
            changes.append(change)
            if change.removed:
                taken.append(users[username].id)
    if complete:
        holders = {grant.user_id for grant in in_county}
        leaving = [user for user in session.scalars(select(User).where(User.id.in_(holders)))
                   if user.username not in wanted]
        if leaving and len(leaving) > LARGEST_SHARE_REMOVED * len(holders) and not allow_large:
            raise Refused([Message("Filen ville ta alle roller i %(county)s fra %(leaving)s av %(holders)s personer. "
                                   "Er eksporten ufullstendig? Ingenting er endret. Er det meningen, kjør på nytt "
                                   "med --tillat-store-endringer.", county=county.name, leaving=len(leaving),
                                   holders=len(holders))])
        for user in leaving:
            changes.append(_leave(session, county, schools, user, in_county))
            taken.append(user.id)
    changed = {change.username for change in changes}
    return DirectoryResult(county.name, changes, len(wanted) - len(changed & set(wanted)), False, created), taken


def _county(session: Session, name: str | None) -> County:
    counties = list(session.scalars(select(County).order_by(County.name)))
    if name is None:
        if len(counties) != 1:
            raise Refused([Message("Oppgi fylket med --fylke (fylkene er: %(names)s).",
                                   names=", ".join(c.name for c in counties) or "ingen ennå")])
        return counties[0]
    found = next((c for c in counties if c.name == name), None)
    if found is None:
        if counties:
            raise NotFound(Message("Fylket «%(name)s» finnes ikke (fylkene er: %(names)s).", name=name,
                                   names=", ".join(c.name for c in counties)))
        found = directory.get_or_create_county(session, name)  # the installation's first county
    return found


def _schools(session: Session, county: County, schools: dict[str, School], lines: list[StaffLine],
             create: bool) -> list[str]:
    unknown = sorted({line.school for line in lines if line.school and line.school not in schools})
    if unknown and not create:
        first = {name: min(line.line for line in lines if line.school == name) for name in unknown}
        raise Refused([Message("Linje %(line)s: skolen «%(school)s» finnes ikke i %(county)s.", line=first[name],
                               school=name, county=county.name) for name in unknown]
                      + [Message("Skolene i %(county)s er: %(names)s. Er det en ny skole, kjør med --nye-skoler.",
                                 county=county.name, names=", ".join(sorted(schools)) or "ingen ennå"),
                         Message("Ingenting er endret.")])
    for name in unknown:
        schools[name] = directory.get_or_create_school(session, county, name)
    return unknown


def _grants_in_county(session: Session, county: County, schools: dict[str, School]) -> list[RoleGrant]:
    school_ids = [school.id for school in schools.values()]
    return list(session.scalars(select(RoleGrant).where(or_(RoleGrant.county_id == county.id,
                                                            RoleGrant.school_id.in_(school_ids)))
                                .order_by(RoleGrant.id)))


def _place(grant: RoleGrant) -> Place:
    return grant.role, grant.school_id, grant.county_id


def _places(county: County, schools: dict[str, School], lines: Iterable[StaffLine]) -> dict[Place, str]:
    """The grants a person's lines ask for, each with its words («rektor ved Nordli skole»)."""
    places: dict[Place, str] = {}
    for line in lines:
        for role in line.roles:
            if role in COUNTY_ROLES:
                places[(role, None, county.id)] = f"{role} i {county.name}"
            else:
                assert line.school is not None  # the file's reading requires it
                places[(role, schools[line.school].id, None)] = f"{role} ved {line.school}"
    return places


def _words(grant: RoleGrant, county: County, schools: dict[str, School]) -> str:
    if grant.county_id is not None:
        return f"{grant.role} i {county.name}"
    return f"{grant.role} ved {next(name for name, s in schools.items() if s.id == grant.school_id)}"


def _person(session: Session, county: County, schools: dict[str, School], user: User | None,
            own: list[StaffLine], in_county: list[RoleGrant], complete: bool, issuer: str | None,
            now: datetime) -> PersonChange | None:
    first = own[0]
    change = PersonChange(first.username, first.name)
    if user is None:
        user = directory.create_user(session, first.username, first.name, password=None, email=first.email,
                                     now=now)
        change.created = True
    else:
        if user.display_name != first.name:
            user.display_name = first.name
            change.updated.append("navn")
        if user.email != first.email and first.email is not None:
            user.email = first.email
            change.updated.append("epost")
        if not user.active:
            user.active = True
            change.reactivated = True
    wanted = _places(county, schools, own)
    held = {_place(grant): grant for grant in in_county if grant.user_id == user.id}
    for place, words in wanted.items():
        if place not in held:
            session.add(RoleGrant(user_id=user.id, role=place[0], school_id=place[1], county_id=place[2]))
            change.added.append(words)
    if complete:
        for place, grant in held.items():
            if place not in wanted:
                session.delete(grant)
                change.removed.append(_words(grant, county, schools))
    if first.identity is not None and issuer is not None and not identities.is_linked(session, user, issuer,
                                                                                      first.identity):
        identities.link(session, user, issuer, first.identity)  # refused if it is someone else's
        change.linked = first.identity
    session.flush()
    return change if (change.created or change.updated or change.reactivated or change.added or change.removed
                      or change.linked) else None


def _leave(session: Session, county: County, schools: dict[str, School], user: User,
           in_county: list[RoleGrant]) -> PersonChange:
    """A person the complete list no longer names: their roles in the county go, and with no role
    left anywhere, they are deactivated."""
    change = PersonChange(user.username, user.display_name)
    for grant in [g for g in in_county if g.user_id == user.id]:
        session.delete(grant)
        change.removed.append(_words(grant, county, schools))
    session.flush()
    if user.active and not session.scalar(select(exists().where(RoleGrant.user_id == user.id))):
        user.active = False
        change.deactivated = True
    return change


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
