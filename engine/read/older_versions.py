"""The open cases a newer version of a process could take over, for the process owner's «Flytt
saker» page and the process list's count: of the viewer's own counties, never one they are
accused in, a page at a time (each case shown is planned, and after a deploy a county has
thousands on the older version)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine import access
from engine.read import paging
from engine.store.models import Case, DefinitionVersion
from engine.versions.definitions import CASE_PROCESS

if TYPE_CHECKING:
    from engine.service import Kap12


def _on_older_versions(session: Session, viewer: access.Viewer, process_id: str) -> Select[Case] | None:
    """Open cases of the viewer's counties a newer version could take over; never one outside
    the viewer's circle (``access.operated``)."""
    newest = session.scalar(select(func.max(DefinitionVersion.version))
                            .where(DefinitionVersion.process_id == process_id))
    if newest is None:
        return None
    return (select(Case).join(DefinitionVersion, DefinitionVersion.id == Case.definition_id)
            .where(DefinitionVersion.process_id == process_id, DefinitionVersion.version < newest,
                   Case.status == "open", access.operated(viewer)))


MIGRATION_ORDER = (paging.Key(Case.id),)


def open_cases_on_older_versions(kap12: Kap12, viewer: access.Viewer, process_id: str = CASE_PROCESS,
                                 cursor: str | None = None, limit: int | None = None) -> paging.Page[Case]:
    """One page of those cases, the oldest first (each is planned when shown: after a deploy a
    county has thousands on the older version)."""
    with kap12.db.reading() as session:
        query = _on_older_versions(session, viewer, process_id)
        if query is None:
            return paging.Page([], None)
        page = paging.fetch(session, query, MIGRATION_ORDER, cursor, limit, lambda row: (row[0].id,))
        return paging.Page([row[0] for row in page.items], page.next_cursor)


def count_open_cases_on_older_versions(kap12: Kap12, viewer: access.Viewer, process_id: str = CASE_PROCESS) -> int:
    """How many of those there are, counted in SQL (the process list shows only the number)."""
    with kap12.db.reading() as session:
        query = _on_older_versions(session, viewer, process_id)
        if query is None:
            return 0
        return session.scalar(select(func.count()).select_from(query.with_only_columns(Case.id).subquery())) or 0
