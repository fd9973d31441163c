"""A second county beside the demo's, with one person in a county role there."""
from __future__ import annotations

from engine.store import directory
from engine.store.models import County


def person_of_another_county(kap12, role: str, username: str = "annet_fylke", password: str | None = None):
    """The viewer of ``username``, who holds ``role`` in a county of their own (made once);
    ``password``: one to log in with."""
    with kap12.db.writing() as session:
        county = session.query(County).filter_by(name="Et annet fylke").one_or_none()
        if county is None:
            county = County(name="Et annet fylke")
            session.add(county)
            session.flush()
        user = directory.create_user(session, username, "Annen Fylkesperson", password=password, email=None,
                                     now=kap12.clock.now())
        directory.grant(session, user, role, county=county)
    return kap12.viewer(username)
