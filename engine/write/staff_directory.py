"""Who works in a county, and as what: the directory brought in line with the county's staff list
(``kap12 katalog importer``), and a person taken out of service (``kap12 katalog deaktiver``).

A role decides which cases a person reads and which tasks they do, so every change is recorded
on the system chain (who was added, given or lost a role, deactivated), in the transaction that
makes it: who could read a case on a given day can be told afterwards.

Two things follow from a change, because the law's deadlines keep running (``orphaned_tasks``):
tasks taken by someone who may no longer do them go back to their role, and a school left with
open tasks nobody may take (the only rektor has left) is named in the result, so that the
operator gives the role to someone the same day.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine import access
from engine.errors import Kap12Error, NotFound, Refused
from engine.store import directory, history, identities, person_change, staff_file
from engine.store.events import DIRECTORY_CHANGED
from engine.store.models import County, RoleGrant, School, SystemEventCounty, User
from engine.store.person_change import PersonChange
from engine.store.staff_file import StaffLine
from engine.write import orphaned_tasks, sessions
from engine.write.unit_of_work import Actor
from processes.messages import Message
from processes.roles import COUNTY_ROLES

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

log = logging.getLogger(__name__)

ACTOR = "kap12 (personkatalogen)"
# A complete list that would take every role in the county from more than this share of the
# people holding one is refused unless the operator says it is meant: a half-written export
# from the county's systems would otherwise shut the schools out of their cases.
LARGEST_SHARE_REMOVED = 0.5

Place = tuple[str, int | None, int | None]  # (role, school_id, county_id), as a grant holds it


@dataclass
class DirectoryResult:
    county: str
    changes: list[PersonChange]
    unchanged: int
    applied: bool
    schools_created: list[str] = field(default_factory=list)
    let_go: list[orphaned_tasks.LetGo] = field(default_factory=list)
    not_let_go: list[orphaned_tasks.LetGo] = field(default_factory=list)  # its case was busy: next time
    unstaffed: list[orphaned_tasks.Unstaffed] = field(default_factory=list)


class _DryRun(Exception):
    """Ends a trial import's transaction: everything it did is rolled back."""


def import_staff(kap12: Kap12, lines: list[StaffLine], *, source: str, digest: str, county: str | None = None,
                 complete: bool = False, dry_run: bool = False, create_schools: bool = False,
                 allow_large: bool = False, issuer: str | None = None,
                 by: access.Viewer | None = None) -> DirectoryResult:
    """Bring the county's directory in line with ``lines`` (``staff_file.read``), all or nothing:
    new people are added (without a password: they log in through the log-in service), names
    and addresses updated, roles given, and a deactivated person listed again made active.
    ``complete``: the list is everyone, so roles in the county that it does not name are taken
    away, and a person left with no role anywhere is deactivated. ``dry_run``: say what would
    change and change nothing. ``by``: an administrator on the web, who imports for a county
    where they are administrator only, and cannot change who someone with a role in another
    county is (name, address, log-in, active); the command line is the installation's operator."""
    if any(line.identity for line in lines) and not issuer:
        raise Refused([Message("Filen har identiteter, men ingen innloggingstjeneste er satt opp (KAP12_OIDC_ISSUER); "
                               "oppgi utstederen, eller la kolonnen identitet stå tom.")])
    now = kap12.clock.now()
    result: DirectoryResult | None = None
    try:
        with kap12.db.writing() as session:
            history.lock_system_chain(session)  # one import at a time: two would add the same people
            result, taken = _import(session, lines, county, complete, create_schools, allow_large, issuer, now, by)
            if result.changes or result.schools_created:
                record_change(session, by, now, [result.county], {
                    "county": result.county, "source": source, "sha256": digest, "complete": complete,
                    "schools_created": result.schools_created, "people": [c.as_data() for c in result.changes]})
            session.flush()
            result.unstaffed = orphaned_tasks.unstaffed(session, result.county)
            if dry_run:  # what would be let go, as this transaction leaves the directory
                result.let_go = [orphaned_tasks.LetGo(case.number, task.title, user.username)
                                 for task, case, user in orphaned_tasks.tasks_to_let_go(session, taken, result.county)]
                raise _DryRun
    except _DryRun:
        assert result is not None
        return result
    result.applied = True
    _after(kap12, result, taken, result.county)
    return result


def deactivate(kap12: Kap12, username: str, reason: str, by: access.Viewer | None = None) -> DirectoryResult:
    """Take a person out of service at once: they cannot log in or use an API key, their
    browsers are logged out, and tasks they took go back to their roles. Their roles stay, so
    that listing them again in the staff list gives them back; their history stays theirs.
    ``by``: an administrator on the web, for someone whose every role is in their counties."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused([Message("Skriv hvorfor personen deaktiveres (for eksempel «sluttet 31.12.»).")])
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        user = directory.user_by_username(session, username)
        if by is not None:
            refuse_unless_theirs(session, by, user, access.may_deactivate, Message("Du kan ikke deaktivere deg selv."),
                                 Message("%(username)s har roller i et annet fylke også. Ta bort rollene i ditt fylke "
                                         "med personlisten; bare driften kan deaktivere personen.",
                                         username=user.username))
        if not user.active:
            raise Refused([Message("%(username)s er allerede deaktivert.", username=username)])
        user.active = False
        change = PersonChange(user.username, user.display_name, deactivated=True)
        counties = county_names(session, user)
        record_change(session, by, now, counties, {"counties": counties, "reason": reason, "people": [change.as_data()]})
        session.flush()
        taken = [user.id]
        result = DirectoryResult(", ".join(counties), [change], 0, True)
        result.unstaffed = [u for county in counties for u in orphaned_tasks.unstaffed(session, county)]
    _after(kap12, result, taken)
    return result


def record_change(session: Session, by: access.Viewer | None, now: datetime, counties: list[str], data: dict) -> None:
    """The change as an event of the system chain (its data names the counties), and the
    counties it is about beside it, for their auditors' list (``SystemEventCounty``)."""
    actor = Actor(by.id, by.name) if by is not None else Actor.system(ACTOR)
    written = history.append(session, history.SYSTEM_CHAIN, kind=DIRECTORY_CHANGED, at=now, actor_id=actor.id,
                             actor=actor.name, data=data)
    session.add_all(SystemEventCounty(county_id=county_id, seq=written.seq)
                    for county_id in session.scalars(select(County.id).where(County.name.in_(counties))))


def county_names(session: Session, user: User) -> list[str]:
    """The names of the counties the person holds a role in, by name."""
    return list(session.scalars(select(County.name).where(
        County.id.in_(directory.counties_of(session, [user.id]).get(user.id, set()))).order_by(County.name)))


def refuse_unless_theirs(session: Session, by: access.Viewer, user: User,
                         allowed: Callable[[access.Viewer, int, set[int]], bool], oneself: Message,
                         elsewhere: Message) -> None:
    """Refuse, in words, what the access policy's ``allowed`` (``access.may_deactivate`` and the
    like) does not let the administrator do to the person: someone of none of their counties is
    not found (not theirs to know of); ``oneself`` and ``elsewhere`` (roles in another county
    too) say why not."""
    counties = directory.counties_of(session, [user.id]).get(user.id, set())
    if allowed(by, user.id, counties):
        return
    if not counties & set(access.counties_where(by, "administrator")):
        raise directory.no_such_user(user.username)
    raise Refused([oneself if user.id == by.id else elsewhere])


def _after(kap12: Kap12, result: DirectoryResult, taken: list[int], county: str | None = None) -> None:
    """Once the directory is committed: log the deactivated out, and let go of their tasks."""
    gone = [c.username for c in result.changes if c.deactivated]
    if gone:
        with kap12.db.reading() as session:
            ids = list(session.scalars(select(User.id).where(User.username.in_(gone))))
        sessions.end_everywhere(kap12.db, ids, kap12.clock.now())
    with kap12.db.reading() as session:
        tasks = [(orphaned_tasks.LetGo(case.number, task.title, user.username), task.id, case.id, user.id)
                 for task, case, user in orphaned_tasks.tasks_to_let_go(session, taken, county)]
    for words, task_id, case_id, user_id in tasks:
        try:
            if orphaned_tasks.let_go(kap12, task_id, case_id, user_id, ACTOR):
                result.let_go.append(words)
        except Kap12Error as err:  # the directory is committed: say so, and the next import tries again
            log.warning("task %s of case %s not let go: %s", task_id, case_id, err.bokmal)
            result.not_let_go.append(words)


def _import(session: Session, lines: list[StaffLine], county_name: str | None, complete: bool, create_schools: bool,
            allow_large: bool, issuer: str | None, now: datetime,
            by: access.Viewer | None) -> tuple[DirectoryResult, list[int]]:
    county = _county(session, county_name, access.counties_where(by, "administrator") if by is not None else None)
    schools = {school.name: school for school in session.scalars(select(School).where(School.county_id == county.id))}
    created = _schools(session, county, schools, lines, create_schools)
    wanted: dict[str, list[StaffLine]] = {}
    for line in lines:
        wanted.setdefault(line.username, []).append(line)
    users = {user.username: user for user in session.scalars(select(User).where(User.username.in_(list(wanted))))}
    in_county = _grants_in_county(session, county, schools)
    changes: list[PersonChange] = []
    taken: list[int] = []  # people who lost a role or were deactivated: their tasks are looked at
    # Someone with a role in a county the importer does not administer: who they are is not the
    # importer's to change (only their roles here).
    foreign = set() if by is None else {
        user_id for user_id, counties in directory.counties_of(session, [u.id for u in users.values()]).items()
        if not access.may_change_person(by, counties)}
    bound = identities.bound_at(session, issuer, [u.id for u in users.values()]) if issuer else {}
    problems: list[str] = []
    links: list[tuple[User, StaffLine, PersonChange]] = []
    for username, own in wanted.items():
        user = users.get(username)
        if user is not None and user.id in foreign:
            problems += _foreign_changes(user, own[0], _links_anew(user, own[0], issuer, bound))
        change = _person(session, county, schools, user, own, in_county, complete, issuer, bound, now, links)
        if change is not None:
            changes.append(change)
            if change.removed:
                taken.append(users[username].id)
    if problems:
        raise Refused([*problems, staff_file.NOTHING_CHANGED])
    session.flush()
    replaced = identities.unlink_others(session, issuer or "", {user.id: line.identity or "" for user, line, _ in links})
    for user, _line, change in links:
        change.unlinked = replaced.get(user.id, [])
    refused = identities.link_all(session, issuer or "", [(user, line.identity or "") for user, line, _ in links])
    if refused:  # someone else's already
        raise Refused([Message("Linje %(line)s: %(why)s", line=links[n][1].line, why=why)
                       for n, why in sorted(refused.items())] + [staff_file.NOTHING_CHANGED])
    if complete:
        holders = set(in_county)
        leaving = [user for user in session.scalars(select(User).where(User.id.in_(holders)))
                   if user.username not in wanted]
        if leaving and len(leaving) > LARGEST_SHARE_REMOVED * len(holders) and not allow_large:
            raise Refused([Message("Filen ville ta alle roller i %(county)s fra %(leaving)s av %(holders)s personer. "
                                   "Er eksporten ufullstendig? Ingenting er endret. Er det meningen, gjør driften det "
                                   "(kap12 katalog importer --tillat-store-endringer).", county=county.name,
                                   leaving=len(leaving), holders=len(holders))])
        for user in leaving:
            changes.append(_leave(session, county, schools, user, in_county))
            taken.append(user.id)
    changed = {change.username for change in changes}
    return DirectoryResult(county.name, changes, len(wanted) - len(changed & set(wanted)), False, created), taken


def _county(session: Session, name: str | None, within: list[int] | None) -> County:
    counties = directory.counties(session, within)
    found = directory.county_named(counties, name)
    if found is not None:
        return found
    if name is None:
        raise Refused([Message("Velg fylket (--fylke); fylkene er: %(names)s.",
                               names=", ".join(c.name for c in counties) or "ingen ennå")])
    if counties or within is not None:
        raise NotFound(Message("Fylket «%(name)s» finnes ikke (fylkene er: %(names)s).", name=name,
                               names=", ".join(c.name for c in counties)))
    return directory.get_or_create_county(session, name)  # the installation's first county


def _links_anew(user: User, line: StaffLine, issuer: str | None, bound: dict[int, set[str]]) -> bool:
    """Whether the line binds the person to an identifier they do not have at the log-in service
    (``bound``: their identifiers there, read once for the file; a new person has none)."""
    return issuer is not None and line.identity is not None and \
        (user.id is None or line.identity not in bound.get(user.id, set()))


def _foreign_changes(user: User, line: StaffLine, links: bool) -> list[str]:
    """What a line would change of who a person with a role in another county is: refused."""
    changes = [what for what, differs in (("navnet", user.display_name != line.name),
                                          ("e-postadressen", line.email is not None and user.email != line.email),
                                          ("innloggingen", links),
                                          ("at personen er aktiv igjen", not user.active)) if differs]
    if not changes:
        return []
    return [Message("Linje %(line)s: %(username)s har roller i et annet fylke også; bare driften kan endre "
                    "%(what)s.", line=line.line, username=user.username, what=", ".join(changes))]


def _schools(session: Session, county: County, schools: dict[str, School], lines: list[StaffLine],
             create: bool) -> list[str]:
    unknown = sorted({line.school for line in lines if line.school and line.school not in schools})
    if unknown and not create:
        first = {name: min(line.line for line in lines if line.school == name) for name in unknown}
        raise Refused([Message("Linje %(line)s: skolen «%(school)s» finnes ikke i %(county)s.", line=first[name],
                               school=name, county=county.name) for name in unknown]
                      + [Message("Skolene i %(county)s er: %(names)s. En ny skole legges inn av driften "
                                 "(kap12 katalog importer --nye-skoler).",
                                 county=county.name, names=", ".join(sorted(schools)) or "ingen ennå"),
                         staff_file.NOTHING_CHANGED])
    for name in unknown:
        schools[name] = directory.get_or_create_school(session, county, name)
    return unknown


def _grants_in_county(session: Session, county: County, schools: dict[str, School]) -> dict[int, list[RoleGrant]]:
    """Each person's grants in the county, by their id (read once for the whole list)."""
    school_ids = [school.id for school in schools.values()]
    found: dict[int, list[RoleGrant]] = {}
    for grant in session.scalars(select(RoleGrant).where(or_(RoleGrant.county_id == county.id,
                                                             RoleGrant.school_id.in_(school_ids)))
                                 .order_by(RoleGrant.id)):
        found.setdefault(grant.user_id, []).append(grant)
    return found


def _place(grant: RoleGrant) -> Place:
    return grant.role, grant.school_id, grant.county_id


def _places(county: County, schools: dict[str, School], lines: Iterable[StaffLine]) -> dict[Place, str]:
    """The grants a person's lines ask for, each with its words («rektor ved Nordli skole»)."""
    places: dict[Place, str] = {}
    for line in lines:
        for role in line.roles:
            if role in COUNTY_ROLES:
                places[(role, None, county.id)] = person_change.in_county(role, county.name)
            else:
                assert line.school is not None  # the file's reading requires it
                places[(role, schools[line.school].id, None)] = person_change.at_school(role, line.school)
    return places


def _words(grant: RoleGrant, county: County, schools: dict[str, School]) -> str:
    if grant.county_id is not None:
        return person_change.in_county(grant.role, county.name)
    return person_change.at_school(grant.role, next(name for name, s in schools.items() if s.id == grant.school_id))


def _person(session: Session, county: County, schools: dict[str, School], user: User | None,
            own: list[StaffLine], in_county: dict[int, list[RoleGrant]], complete: bool, issuer: str | None,
            bound: dict[int, set[str]], now: datetime,
            links: list[tuple[User, StaffLine, PersonChange]]) -> PersonChange | None:
    """One person's changes, added to the session (flushed with everyone's: a flush per person
    made a county's first import of 15,000 people several times slower); identities to bind once
    the new people have ids are added to ``links`` (each replacing the person's other identifier
    at the same log-in service)."""
    first = own[0]
    change = PersonChange(first.username, first.name)
    if user is None:  # not among the list's people read at the start: new (flushed with the others)
        user = User(username=first.username, display_name=first.name, email=first.email, password_hash=None,
                    active=True, created_at=now, grants=[])
        session.add(user)
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
    held = {_place(grant): grant for grant in in_county.get(user.id, [])} if user.id is not None else {}
    for place, words in wanted.items():
        if place not in held:
            grant = RoleGrant(role=place[0], school_id=place[1], county_id=place[2])
            if user.id is None:
                grant.user = user
            else:  # not through the collection, which would be read for every person
                grant.user_id = user.id
            session.add(grant)
            change.added.append(words)
    if complete:
        for place, grant in held.items():
            if place not in wanted:
                session.delete(grant)
                change.removed.append(_words(grant, county, schools))
    if _links_anew(user, first, issuer, bound):
        links.append((user, first, change))
        change.linked = first.identity
    return change if (change.created or change.updated or change.reactivated or change.added or change.removed
                      or change.linked) else None


def _leave(session: Session, county: County, schools: dict[str, School], user: User,
           in_county: dict[int, list[RoleGrant]]) -> PersonChange:
    """A person the complete list no longer names: their roles in the county go, and with no role
    left anywhere, they are deactivated."""
    change = PersonChange(user.username, user.display_name)
    for grant in in_county.get(user.id, []):
        session.delete(grant)
        change.removed.append(_words(grant, county, schools))
    session.flush()
    if user.active and not session.scalar(select(exists().where(RoleGrant.user_id == user.id))):
        user.active = False
        change.deactivated = True
    return change


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
