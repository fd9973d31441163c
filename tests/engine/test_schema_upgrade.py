"""An upgrade beside the running release, on PostgreSQL (``engine/store/schema_upgrade.py``): it
waits for another machine's upgrade instead of failing on alembic_version's key; while its
migrations run, reads and writes wait for them and none fails, and readiness answers; and
tables it cannot get soon are let go and asked again, not a failed upgrade."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, exc, select, text
from support.backends import only_postgresql

from engine.errors import Conflict
from engine.store import schema_upgrade
from engine.store.db import MIGRATIONS, known_revisions
from engine.store.models import OpenTask

pytestmark = only_postgresql

HEAD = known_revisions()[0]


def _one_release_behind(kap12) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with kap12.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    assert kap12.db.schema_revision() != HEAD


def _started(call: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            call()
        except BaseException as err:  # noqa: BLE001 - the test asserts there was none
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_upgrade_waits_for_another_machines_upgrade(kap12):
    _one_release_behind(kap12)
    errors: list[BaseException] = []
    with kap12.db.engine.connect() as other:  # another machine's upgrade, not yet committed
        other.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": schema_upgrade.UPGRADE_LOCK})
        upgrading = _started(kap12.db.upgrade, errors)
        upgrading.join(1.5)
        waited = upgrading.is_alive()
        assert kap12.db.schema_revision() != HEAD
        other.rollback()
    upgrading.join(60)
    assert waited and not upgrading.is_alive() and errors == []
    assert kap12.db.schema_revision() == HEAD


def test_an_upgrade_to_do_by_two_at_once_is_done_once(kap12, make_kap12, tmp_path, clock):
    """Two web machines started with the new release: each ``kap12 serve`` upgrades first."""
    _one_release_behind(kap12)
    second = make_kap12(kap12.settings.database_url, tmp_path / "second", clock)
    errors: list[BaseException] = []
    try:
        both = [_started(kap12.db.upgrade, errors), _started(second.db.upgrade, errors)]
        for thread in both:
            thread.join(60)
    finally:
        second.close()
    assert errors == [] and kap12.db.schema_revision() == HEAD


def test_while_the_migrations_run_requests_wait_for_them_and_none_fails(flow, kap12, demo, monkeypatch):
    """A read and a write (rektor takes a task) that come while the migrations run wait for
    them; neither is ended by PostgreSQL as a deadlock, and readiness answers meanwhile."""
    case = flow.report()
    rektor = demo.users["rektor"]
    with kap12.db.reading() as session:
        task_id = session.scalars(select(OpenTask.id).where(OpenTask.case_id == case.id)).one()
    _one_release_behind(kap12)
    holding, go_on = threading.Event(), threading.Event()
    run = schema_upgrade._run

    def held(conn, config) -> None:  # the upgrade, with the tables taken, before its migrations
        holding.set()
        go_on.wait(60)
        run(conn, config)

    monkeypatch.setattr(schema_upgrade, "_run", held)
    errors: list[BaseException] = []
    counted: list[int] = []
    upgrading = _started(kap12.db.upgrade, errors)
    waiting: list[threading.Thread] = []
    try:
        assert holding.wait(60)
        assert kap12.readiness() == "schema not current"  # answered, as it was
        waiting.append(_started(lambda: counted.append(len(kap12.case_page(rektor).items)), errors))
        waiting.append(_started(lambda: kap12.claim(rektor, task_id), errors))
        for thread in waiting:
            thread.join(1.5)
        assert all(thread.is_alive() for thread in waiting)  # both wait for the migrations
    finally:
        go_on.set()
        for thread in [upgrading, *waiting]:
            thread.join(60)
    assert errors == [] and kap12.db.schema_revision() == HEAD
    assert counted == [1]
    with kap12.db.reading() as session:
        assert session.get(OpenTask, task_id).assignee_id == rektor.id


def test_a_lock_held_past_the_wait_is_let_go_and_asked_again(kap12, monkeypatch, caplog):
    """A writer in the middle of a long transaction holds a table the upgrade must take: the
    upgrade gives up after ``LOCK_WAIT`` (the reads queued behind it go on) and tries again."""
    _one_release_behind(kap12)
    monkeypatch.setattr(schema_upgrade, "LOCK_WAIT", "300ms")
    monkeypatch.setattr(schema_upgrade, "FIRST_PAUSE", 0.2)
    writer = create_engine(kap12.settings.database_url)
    errors: list[BaseException] = []
    caplog.set_level(logging.WARNING, logger="kap12.store")
    try:
        with writer.connect() as conn:
            conn.execute(text("LOCK TABLE cases IN ROW EXCLUSIVE MODE"))  # as an update of a case holds it
            upgrading = _started(kap12.db.upgrade, errors)
            upgrading.join(2.0)
            assert upgrading.is_alive() and kap12.db.schema_revision() != HEAD
            conn.rollback()
        upgrading.join(60)
    finally:
        writer.dispose()
    assert errors == [] and kap12.db.schema_revision() == HEAD
    tries = [r for r in caplog.records if "trying again" in r.getMessage()]
    assert tries and "57014" in tries[0].getMessage()  # the lock statement's time ran out


def test_a_lock_never_got_ends_the_upgrade_with_nothing_changed(kap12, monkeypatch):
    _one_release_behind(kap12)
    before = kap12.db.schema_revision()
    monkeypatch.setattr(schema_upgrade, "LOCK_WAIT", "100ms")
    monkeypatch.setattr(schema_upgrade, "FIRST_PAUSE", 0.05)
    monkeypatch.setattr(schema_upgrade, "TRIES", 2)
    writer = create_engine(kap12.settings.database_url)
    try:
        with writer.connect() as conn:
            conn.execute(text("LOCK TABLE cases IN ROW EXCLUSIVE MODE"))
            with pytest.raises(Conflict, match="Databasen ble ikke oppgradert"):
                kap12.db.upgrade()
            conn.rollback()
    finally:
        writer.dispose()
    assert kap12.db.schema_revision() == before


def test_a_migration_that_fails_is_not_tried_again(kap12, monkeypatch):
    """Only the taking of the tables is tried again. A migration stopped by the database's own
    statement_timeout was run twenty times, each time holding every table, and then blamed on
    "a long transaction" (reviewed)."""
    _one_release_behind(kap12)
    before = kap12.db.schema_revision()
    with kap12.db.engine.connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar()
        conn.execute(text(f'ALTER DATABASE "{name}" SET statement_timeout = \'1s\''))
        conn.commit()
    kap12.db.engine.dispose()  # new connections take the database's setting
    runs: list[int] = []

    def slow(conn, config) -> None:
        runs.append(1)
        conn.execute(text("SELECT pg_sleep(1.5)"))

    monkeypatch.setattr(schema_upgrade, "_run", slow)
    monkeypatch.setattr(schema_upgrade, "FIRST_PAUSE", 0.05)
    try:
        with pytest.raises(exc.OperationalError, match="statement timeout"):
            kap12.db.upgrade()
    finally:
        with kap12.db.engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET statement_timeout'))
            conn.commit()
        kap12.db.engine.dispose()
    assert runs == [1] and kap12.db.schema_revision() == before
