"""The system chain as an auditor (or an administrator) reads it: what was done to the installation rather than to a
case — a process or form version published or withdrawn, a county's staff list read, a person
taken out of service — newest first, paged. Processes and forms are the same for every county,
so every auditor sees those; a county's people are its own, so a directory change is shown to
the auditors and administrators of the counties it is about (``SystemEventCounty``) and to no
one else.

The hourly checkpoints are the chain's machinery, not acts: they are left out of the list, and
the latest is named above it, with the digest a county keeps outside the database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, tuple_

from engine import access
from engine.read import paging
from engine.store import history
from engine.store.events import CHECKPOINT, DEPLOYED, DIRECTORY_CHANGED, FORM_PUBLISHED, VERSION_WITHDRAWN
from engine.store.models import DefinitionVersion, HistoryEvent, SystemEventCounty
from engine.store.person_change import PersonChange

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

# Acts on what every county runs: shown to every auditor.
EVERY_COUNTY = (DEPLOYED, FORM_PUBLISHED, VERSION_WITHDRAWN)
KINDS = (*EVERY_COUNTY, DIRECTORY_CHANGED)
ORDER = (paging.Key(HistoryEvent.seq, descending=True),)
DIRECTORY_ACTS = ("staff_list", "deactivated", "first_password", "changed")


@dataclass(frozen=True)
class SystemEvent:
    seq: int
    at: datetime
    actor: str
    kind: str
    # What was done, for the heading: the event's kind, or for a directory change one of
    # ``DIRECTORY_ACTS`` (the same kind of event records a list read and a single person's change).
    act: str
    subject: str  # the process's or form's name, or the county's
    data: dict  # as the chain keeps it: version, comment or reason, the file read
    people: tuple[PersonChange, ...]  # a directory change: each person's


@dataclass(frozen=True)
class LatestCheckpoint:
    seq: int
    at: datetime
    digest: str


def system_page(kap12: Kap12, viewer: access.Viewer, kinds: tuple[str, ...] = KINDS, cursor: str | None = None,
                limit: int | None = None) -> paging.Page[SystemEvent]:
    """A page of the system chain's acts the viewer may read, newest first (``kinds``: of those
    kinds only). Neither auditor nor administrator: nothing."""
    if not access.may_read_system_history(viewer):
        return paging.Page([], None)
    counties = access.system_history_counties(viewer)
    theirs = select(SystemEventCounty.seq).where(SystemEventCounty.county_id.in_(counties))
    query = select(HistoryEvent).where(
        HistoryEvent.chain == history.SYSTEM_CHAIN, HistoryEvent.kind.in_([k for k in kinds if k in KINDS]),
        or_(HistoryEvent.kind.in_(EVERY_COUNTY), HistoryEvent.seq.in_(theirs)))
    with kap12.db.reading() as session:
        page = paging.fetch(session, query, ORDER, cursor, limit, lambda row: (row[0].seq,))
        rows = [row[0] for row in page.items]
        versions = [(r.data.get("process_id"), r.data.get("version")) for r in rows
                    if r.kind in (DEPLOYED, VERSION_WITHDRAWN) and isinstance(r.data, dict)]
        names = {(p, v): name for p, v, name in session.execute(
            select(DefinitionVersion.process_id, DefinitionVersion.version, DefinitionVersion.name)
            .where(tuple_(DefinitionVersion.process_id, DefinitionVersion.version).in_(versions)))} if versions else {}
    return paging.Page([_event(kap12, row, names) for row in rows], page.next_cursor)


def _event(kap12: Kap12, row: HistoryEvent, names: dict) -> SystemEvent:
    data = row.data if isinstance(row.data, dict) else {}
    if row.kind == DIRECTORY_CHANGED:
        subject = data.get("county") or ", ".join(data.get("counties") or ())
        people = tuple(PersonChange.from_data(p) for p in data.get("people") or () if isinstance(p, dict))
        act = "staff_list" if data.get("source") else "deactivated" if any(p.deactivated for p in people) else \
            "first_password" if any(p.first_password for p in people) else "changed"
        return SystemEvent(row.seq, row.at, row.actor, row.kind, act, subject, data, people)
    if row.kind == FORM_PUBLISHED:
        try:
            subject = kap12.forms.get_version(data.get("key", ""), data.get("version")).title
        except KeyError:
            subject = str(data.get("key", ""))
        return SystemEvent(row.seq, row.at, row.actor, row.kind, row.kind, subject, data, ())
    process = (data.get("process_id"), data.get("version"))
    return SystemEvent(row.seq, row.at, row.actor, row.kind, row.kind, names.get(process) or str(process[0] or "?"),
                       data, ())


def latest_checkpoint(kap12: Kap12) -> LatestCheckpoint | None:
    """The newest checkpoint: its digest is what the county keeps outside the database and
    compares (``kap12 verify --checkpoint``)."""
    with kap12.db.reading() as session:
        row = session.execute(select(HistoryEvent.seq, HistoryEvent.at, HistoryEvent.data)
                              .where(HistoryEvent.chain == history.SYSTEM_CHAIN, HistoryEvent.kind == CHECKPOINT)
                              .order_by(HistoryEvent.seq.desc()).limit(1)).first()
    if row is None or not isinstance(row.data, dict):
        return None
    return LatestCheckpoint(row.seq, row.at, str(row.data.get("digest", "")))
