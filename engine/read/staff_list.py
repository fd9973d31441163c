"""A county's people as the administrator and the operator see them: the staff list file
(``kap12 katalog eksporter``, the page's download) — the active people with a role in the county,
one line per person and school, in the form ``kap12 katalog importer`` reads, so that a list
exported, edited and imported again changes only what was edited — and the people page, paged."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select

from engine import access
from engine.errors import NotFound
from engine.read import paging
from engine.store import directory, identities
from engine.store.models import County, ExternalIdentity, RoleGrant, School, User
from engine.store.staff_file import StaffLine
from processes.messages import Message
from processes.roles import ROLES

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12


def staff_lines(kap12: Kap12, county_name: str | None = None, issuer: str | None = None) -> list[StaffLine]:
    """Everyone active with a role in the county (the only one when not named), by user name;
    ``issuer``: their identifier at that log-in service, when bound."""
    with kap12.db.reading() as session:
        counties = directory.counties(session)
        county = directory.county_named(counties, county_name)
        if county is None:
            raise NotFound(Message("Oppgi et fylke som finnes (fylkene er: %(names)s).",
                                   names=", ".join(c.name for c in counties) or "ingen ennå"))
        schools = dict(session.execute(select(School.id, School.name).where(School.county_id == county.id)).all())
        rows = session.execute(
            select(User.username, User.display_name, User.email, RoleGrant.role, RoleGrant.school_id)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(User.active.is_(True), or_(RoleGrant.county_id == county.id,
                                              RoleGrant.school_id.in_(list(schools))))
            .order_by(User.username, RoleGrant.id)).all()
        bound = dict(session.execute(select(User.username, ExternalIdentity.subject)
                                     .join(ExternalIdentity, ExternalIdentity.user_id == User.id)
                                     .where(ExternalIdentity.issuer == identities.stored_issuer(issuer))
                                     .order_by(ExternalIdentity.id)).all()) if issuer else {}
    places: dict[tuple[str, str | None], list[str]] = {}
    people: dict[str, tuple[str, str | None]] = {}
    for username, name, email, role, school_id in rows:
        people[username] = (name, email)
        school = schools[school_id] if school_id is not None else None
        place = places.setdefault((username, school), [])
        if role not in place:
            place.append(role)
    order = list(ROLES)
    return [StaffLine(0, username, people[username][0], people[username][1], school,
                      tuple(sorted(roles, key=order.index)), bound.get(username))
            for (username, school), roles in places.items()]


@dataclass(frozen=True)
class Person:
    """A person on the administrator's people page: their roles in the administrator's counties,
    whether they hold roles elsewhere too, and whether the administrator may deactivate them
    (``access.may_deactivate``: not themselves, nor someone with roles elsewhere)."""

    id: int
    username: str
    name: str
    email: str | None
    active: bool
    roles: tuple[tuple[str, str | None], ...]  # (role, its school; None: a county role), for the page to name
    elsewhere: bool
    may_deactivate: bool
    may_give_password: bool  # a first password (``access.may_give_first_password``)


PEOPLE_ORDER = (paging.Key(User.username), paging.Key(User.id))


def people_page(kap12: Kap12, viewer: access.Viewer, cursor: str | None = None,
                limit: int | None = None) -> paging.Page[Person]:
    """A page of the people with a role in a county the viewer administers (active or not), by
    user name; their roles read for the page's people only."""
    within = set(access.counties_where(viewer, "administrator"))
    query = select(User).where(User.id.in_(access.administered_people(viewer)))
    with kap12.db.reading() as session:
        page = paging.fetch(session, query, PEOPLE_ORDER, cursor, limit, lambda row: (row[0].username, row[0].id))
        users = [row[0] for row in page.items]
        grants = session.execute(
            select(RoleGrant.user_id, RoleGrant.role, School.name, func.coalesce(RoleGrant.county_id, School.county_id))
            .outerjoin(School, School.id == RoleGrant.school_id)
            .where(RoleGrant.user_id.in_([u.id for u in users])).order_by(RoleGrant.id)).all()
    roles: dict[int, list[tuple[str, str | None]]] = {}
    counties: dict[int, set[int]] = {}
    for user_id, role, school, county_id in grants:
        counties.setdefault(user_id, set()).add(county_id)
        if county_id in within:
            roles.setdefault(user_id, []).append((role, school))

    def person(user: User, held: set[int]) -> Person:
        return Person(user.id, user.username, user.display_name, user.email, user.active,
                      tuple(roles.get(user.id, ())), bool(held - within), access.may_deactivate(viewer, user.id, held),
                      access.may_give_first_password(viewer, user.id, held))

    return paging.Page([person(u, counties.get(u.id, set())) for u in users], page.next_cursor)


def administered_counties(kap12: Kap12, viewer: access.Viewer) -> list[str]:
    """The names of the counties where the viewer is administrator."""
    with kap12.db.reading() as session:
        return list(session.scalars(select(County.name).where(
            County.id.in_(access.counties_where(viewer, "administrator"))).order_by(County.name)))
