"""Shared set-up for the benchmarks: a throwaway engine on a SQLite file with the demo people."""
from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.config import PROJECT_ROOT, Settings
from engine.runtime.clock import Clock
from engine.service import Kap12
from engine.write.demo import ensure_directory

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))


def engine_at(folder: Path, clock: Clock | None = None, url: str | None = None) -> Kap12:
    clock = clock or Clock()
    if clock._fixed is None:
        clock.set(MONDAY_9)
    kap12 = Kap12(Settings(database_url=url or f"sqlite:///{folder}/bench.sqlite3", instance_dir=folder,
                           bpmn_dir=PROJECT_ROOT / "bpmn", base_url="http://127.0.0.1:5000"), clock=clock)
    kap12.init()
    return kap12


def fresh(url: str | None = None):
    folder = Path(tempfile.mkdtemp(prefix="kap12-bench-"))
    kap12 = engine_at(folder, url=url)
    return folder, kap12, ensure_directory(kap12)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def row(label: str, value: str) -> None:
    print(f"  {label:<62} {value}")


@contextmanager
def _throwaway_server():
    """A PostgreSQL server of its own, as the tests start one, stopped afterwards."""
    from support.postgres import start_postgres  # tests/support, on the path of the scripts using this

    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_database(name: str):
    """``KAP12_DATABASE_URL`` when set; otherwise a throwaway PostgreSQL, as the tests start one."""
    if Settings.from_env().database_url.startswith("postgresql"):
        yield Settings.from_env().database_url
        return
    with _throwaway_server() as server:
        yield server.create_database(name)


@contextmanager
def postgres_databases(*names: str):
    """A database of its own for each name, on one PostgreSQL server: a throwaway one, or the
    server of ``KAP12_DATABASE_URL`` when set (there as ``<its database>_<name>``, made afresh,
    which needs the right to create databases)."""
    given = Settings.from_env().database_url
    if not given.startswith("postgresql"):
        with _throwaway_server() as server:
            yield [server.create_database(name) for name in names]
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(given)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    urls = []
    with admin.connect() as connection:
        for name in names:
            database = f"{url.database}_{name}"
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
            urls.append(url.set(database=database).render_as_string(hide_password=False))
    admin.dispose()
    yield urls


def api_tokens(kap12, usernames, name: str) -> dict[str, str]:
    """A fresh personal API token for each of these people."""
    from sqlalchemy import select

    from engine.store import directory
    from engine.store.models import User

    with kap12.db.writing() as session:
        return {who: directory.create_api_token(session, session.scalars(select(User).where(
            User.username == who)).one(), name, kap12.clock.now())[1] for who in usernames}


def county_schools(kap12, count: int) -> list[int]:
    """The demo schools plus more in the same county, up to ``count`` (the demo's first)."""
    from sqlalchemy import select

    from engine.store.models import School

    people = ensure_directory(kap12)
    with kap12.db.writing() as session:
        have = list(session.scalars(select(School).order_by(School.id)))
        for n in range(len(have), count):
            school = School(county_id=people.county_id, name=f"Skole {n + 1:03d}")
            session.add(school)
            have.append(school)
        session.flush()
        return [s.id for s in have]


# Who works at every school: the leaders, a teacher who reports (as teachers do — with one
# reporter for the whole county, that person's "cases I reported" would be every case), and a
# teacher accused in the B copies. (The demo's username, and the role it has.)
STAFF = (("rektor", "rektor"), ("avdelingsleder", "avdelingsleder"), ("ansatt", "ansatt"), ("ansatt2", "ansatt"))


def staff_username(demo_name: str, school_id: int) -> str:
    """The username ``school_staff`` gives the demo person ``demo_name``'s counterpart at a school."""
    return f"{demo_name}-{school_id}"


def school_staff(kap12, schools: list[int]) -> dict[int, dict[int, tuple[int, str]]]:
    """The demo school's staff (``STAFF``) at every other school, each with an e-mail address as
    the demo's people have (so what a report sends them is composed as at the demo school):
    {school id: {demo person's id: (this school's person's id, name)}}, so a copy's people are
    its own school's."""
    from sqlalchemy import select

    from engine.store import directory
    from engine.store.models import School, User

    people = ensure_directory(kap12)
    staff: dict[int, dict[int, tuple[int, str]]] = {}
    with kap12.db.writing() as session:
        for school in session.scalars(select(School).where(School.id.in_(schools[1:]))):
            mapping = {}
            for demo_name, role in STAFF:
                username = staff_username(demo_name, school.id)
                user = session.scalars(select(User).where(User.username == username)).first()
                if user is None:
                    user = directory.create_user(session, username, f"{demo_name.capitalize()} {school.name}",
                                                 password=None, email=f"{username}@demo.kap12.no",
                                                 now=kap12.clock.now())
                    directory.grant(session, user, role, school=school)
                    directory.grant(session, user, "ansatt", school=school)
                mapping[people.users[demo_name].id] = (user.id, user.display_name)
            staff[school.id] = mapping
    return staff


def logged_in(app, username: str):
    """A Flask test client logged in through the log-in form, as a person is (sessions live on
    the server, so a client cannot just be handed one)."""
    import re

    from engine.write.demo import PASSWORD

    client = app.test_client()
    csrf = re.search(r'name="_csrf" value="([^"]+)"', client.get("/logg-inn").text)[1]
    done = client.post("/logg-inn", data={"_csrf": csrf, "username": username, "password": PASSWORD})
    assert done.status_code == 302, (username, "log-in refused")
    return client


def settle_tables(kap12) -> None:
    """The tables as autovacuum and the sweepers keep them on a county's server: statistics for
    the planner (rows written a moment ago, in bulk or by the write path, are not yet in them, and
    plans made without them are not the county's), the visibility map that lets an index answer
    alone (without it, every index-only scan of the rows just written also reads the table), the
    tallies folded (a sweeper folds them as they grow; each case and counted event added a row),
    and what was written put out to disk (a checkpoint): a county's server is not in the middle of
    writing out gigabytes it was just given, and the requests measured meanwhile would wait on it."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from engine.write import tally_folding

    for tally in tally_folding.TALLIES:
        tally_folding.fold(kap12.db, tally)
    with kap12.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        try:
            connection.execute(text("CHECKPOINT"))
        except DBAPIError as err:  # a server of one's own may not allow it (superuser or pg_checkpoint)
            print(f"  (no CHECKPOINT: {err.orig}; the first minutes measure the server writing out what it was just given)")
