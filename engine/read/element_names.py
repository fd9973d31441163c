"""Task, timer and process names from the diagrams in nynorsk or English.

A diagram names its elements in bokmål; a process owner may give an element (and the process)
its name in another language with the property ``kap12.navn.nn`` or ``kap12.navn.en``, read at
deploy into the version's meta. What a case stores — open tasks, history, where the case
stands — keeps the bokmål name it had when it happened, so the pages translate those names at
display time through the deployed versions' tables; a name no version translates stays bokmål.
When versions disagree about one bokmål name, the newest version's word is used.
"""
from __future__ import annotations

from sqlalchemy import select

from engine.store.db import Database
from engine.store.models import DefinitionVersion

# {content hash: {bokmål name: {language: name}}}: a version is immutable, so its table is too.
_by_version: dict[str, dict[str, dict[str, str]]] = {}


def names_in(meta: dict) -> dict[str, dict[str, str]]:
    """{bokmål name: {language: name}} for the processes and elements of one version's meta
    ({process id: process meta})."""
    table: dict[str, dict[str, str]] = {}
    for process in meta.values():
        if not isinstance(process, dict):
            continue
        entries = [process, *(process.get("elements") or {}).values()]
        for entry in entries:
            name, names = (entry.get("name") or "").strip(), entry.get("names") or {}
            if name and names:
                table.setdefault(name, {}).update(names)
    return table


def name_table(db: Database, language: str) -> dict[str, str]:
    """{bokmål name: name in ``language``} over every deployed version, newest last."""
    with db.reading() as session:
        versions = session.execute(select(DefinitionVersion.id, DefinitionVersion.content_hash)
                                   .order_by(DefinitionVersion.id)).all()
        unread = [vid for vid, digest in versions if digest not in _by_version]
        if unread:
            for digest, meta in session.execute(select(DefinitionVersion.content_hash, DefinitionVersion.meta)
                                                .where(DefinitionVersion.id.in_(unread))):
                _by_version[digest] = names_in(meta or {})
    table: dict[str, str] = {}
    for _, digest in versions:
        for name, names in _by_version.get(digest, {}).items():
            if language in names:
                table[name] = names[language]
    return table
