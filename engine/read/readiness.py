"""Is this process ready for requests: does the database answer, with the schema this code needs?"""
from __future__ import annotations

import logging

from engine.store.db import Database, known_revisions, schema_is_current

log = logging.getLogger("kap12.health")

READY, DATABASE_DOWN, SCHEMA_BEHIND = "ready", "database unavailable", "schema not current"
_MIGRATIONS: list[tuple[str, set[str]]] = []  # this code's migrations, read once per process


def readiness(db: Database) -> str:
    if not _MIGRATIONS:
        _MIGRATIONS.append(known_revisions())
    try:
        revision = db.schema_revision()
    except Exception as err:  # noqa: BLE001 - any failure to answer means: not ready
        log.warning("not ready: the database does not answer: %s", type(err).__name__)
        return DATABASE_DOWN
    return READY if schema_is_current(revision, *_MIGRATIONS[0]) else SCHEMA_BEHIND
