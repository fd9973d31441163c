"""The schema is made by the migrations alone (``engine/store/db.py`` upgrades to head); the
models are what the code reads and writes. They must say the same, on both databases: an index
or column added to a model without its migration (or the other way round) is found here, not
on a county's server."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from engine.store.models import Base


def test_the_migrations_make_the_schema_the_models_describe(kap12):
    with kap12.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_an_older_release_leaves_a_newer_releases_schema_alone(kap12):
    """A machine still on the old release restarted after a newer one upgraded: its ``kap12
    serve`` upgrades first, and found a revision it did not know (Alembic failed on SQLite)."""
    with kap12.db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_a_newer_release'"))
    kap12.db.upgrade()
    assert kap12.db.schema_revision() == "0099_from_a_newer_release"
