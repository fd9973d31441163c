"""A county's directory as the staff list file (``kap12 katalog eksporter``): the active people
with a role in the county, one line per person and school, in the form ``kap12 katalog importer``
reads. Exported, edited and imported again, a list changes only what was edited."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from engine.errors import NotFound
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
        counties = list(session.scalars(select(County).order_by(County.name)))
        county = next((c for c in counties if c.name == county_name), None) if county_name else \
            (counties[0] if len(counties) == 1 else None)
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
                                     .where(ExternalIdentity.issuer == (issuer or "").rstrip("/"))
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
