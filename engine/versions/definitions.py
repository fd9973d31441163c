"""Deploying diagrams as immutable, content-addressed versions (DESIGN.md rule 2).

A version belongs to one executable process and freezes the exact source of every process it
calls (call activities), so a running case never changes under its feet when a called process
is redeployed: deploying a new ``oppfolging`` makes new versions of the procedures that call it,
and cases already running keep the versions they started on."""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, defer

from engine.errors import Conflict, DeployRefused, NotFound
from engine.runtime import spiff
from engine.store import events
from engine.store.history import SYSTEM_CHAIN
from engine.store.models import Case, DefinitionVersion, HistoryEvent
from engine.versions.diagram_check import FileReading, read_file, safe_parse
from processes.forms import Form
from processes.messages import Clause, Joined, Message, bokmal

log = logging.getLogger(__name__)

# What the deployed processes must still do: (parser, metas, closures, sources, forms) → problems.
LawCheck = Callable[[CamundaParser, dict, dict[str, list[str]], dict, "dict[str, Form] | None"], list[str]]
CASE_PROCESS = "kap12_sak"  # the process a report starts: the routing to procedure A, B or C


@dataclass(frozen=True)
class DeployResult:
    process_id: str
    version: int
    content_hash: str
    created: bool  # False: this exact content was deployed before


# (sources by process, metadata by process, each process with what it calls, the parser holding
# them all, the processes the files define)
Analysis = tuple[dict[str, dict], dict[str, dict], dict[str, list[str]], CamundaParser, list[str]]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest_versions(session: Session) -> dict[str, DefinitionVersion]:
    newest = (select(DefinitionVersion.process_id, func.max(DefinitionVersion.version).label("v"))
              .group_by(DefinitionVersion.process_id).subquery())
    rows = session.scalars(select(DefinitionVersion).join(
        newest, (DefinitionVersion.process_id == newest.c.process_id) & (DefinitionVersion.version == newest.c.v)))
    return {row.process_id: row for row in rows}


def _latest(to_start: bool) -> Select[DefinitionVersion]:
    query = select(DefinitionVersion).where(DefinitionVersion.process_id == bindparam("process_id"))
    if to_start:
        query = query.options(defer(DefinitionVersion.sources), defer(DefinitionVersion.spec),
                              defer(DefinitionVersion.meta))
    return query.order_by(DefinitionVersion.version.desc()).limit(1)


# Built once, as every report asks it (building it cost more than running it).
_LATEST = {to_start: _latest(to_start) for to_start in (False, True)}


def latest_version(session: Session, process_id: str, *, to_start: bool = False) -> DefinitionVersion:
    """The process's newest version. ``to_start``: to start a case on, its diagrams, spec and
    reading loaded only if asked for in the session — a new case takes them from
    ``SpecCache.runnable`` (reading the diagrams' text for every report cost a tenth of it)."""
    row = session.scalars(_LATEST[to_start], {"process_id": process_id}).first()
    if row is None:
        raise NotFound(Message("Prosessen «%(process)s» er ikke tatt i bruk (ingen versjon er publisert).",
                               process=process_id))
    return row


def stored_sources(current: dict[str, DefinitionVersion]) -> dict[str, dict]:
    """{process_id: source} of what is published, for deploys to call: each process's own newest
    version, or, when its stored text no longer reads (stored by an older kap12), the newest
    readable copy frozen into a version that calls it, so one broken row blocks nothing."""
    candidates: dict[str, list[dict]] = {}
    own = sorted(current.values(), key=lambda r: r.id, reverse=True)
    for row in own:
        if row.process_id in row.sources:
            candidates.setdefault(row.process_id, []).insert(0, row.sources[row.process_id])
    for row in own:
        for pid, src in row.sources.items():
            if pid != row.process_id:
                candidates.setdefault(pid, []).append(src)
    stored: dict[str, dict] = {}
    for pid, found in candidates.items():
        readable = [src for src in found if _parses(src)]
        stored[pid] = (readable or found)[0]
    return stored


def _parses(src: dict) -> bool:
    try:
        safe_parse(src["xml"].encode("utf-8"))
    except Exception:  # noqa: BLE001 - any failure means this copy cannot be used
        return False
    return True


def analyse(files: list[tuple[str, bytes]], stored: dict[str, dict] | None = None,
            forms: dict[str, Form] | None = None, law: LawCheck | None = None) -> Analysis:
    """Read and validate ``files`` together with ``stored`` sources ({process_id: source}) of
    processes they may call. ``forms`` ({key: Form}) are the forms a user task may name; the
    bundled files when not given. ``law``: what the processes must still do, asked last (the
    write room's walk of cases through them, ``engine.write.law_walk``). Returns (readings,
    parser, closures) or raises DeployRefused."""
    readings = [read_file(name, data, forms) for name, data in files]
    problems = [p for r in readings for p in r.problems]
    if problems:
        raise DeployRefused(problems)
    new_ids = [pid for r in readings for pid in r.processes]
    seen = set()
    for pid in new_ids:
        if pid in seen:
            problems.append(Message("Prosessen «%(process)s» er definert i mer enn én av filene.", process=pid))
        seen.add(pid)
    if problems:
        raise DeployRefused(problems)

    parser = spiff.new_parser()
    sources: dict[str, dict] = {}
    metas: dict[str, dict] = {}
    for reading in readings:
        _add_to_parser(parser, reading, problems)
        for pid, meta in reading.processes.items():
            sources[pid] = {"file": reading.filename, "sha256": _sha(reading.text), "xml": reading.text}
            metas[pid] = meta
    unreadable: dict[str, str] = {}  # stored process id -> why it cannot be read again
    for pid, src in (stored or {}).items():
        if pid in sources:
            continue
        older = _reread(src, forms)
        found: list[str] = []
        if older.tree is not None:
            _add_to_parser(parser, older, found)
        if older.tree is None or found:
            # A stored version that no longer reads is reported where it is needed, and
            # blocks nothing else: other processes must still deploy.
            unreadable[pid] = Joined(older.problems + found, " ") if older.problems + found else Message("ukjent feil")
            log.warning("stored version of %s cannot be read again: %s", pid, bokmal(unreadable[pid]))
            continue
        for opid, meta in older.processes.items():
            sources.setdefault(opid, {"file": older.filename, "sha256": _sha(older.text), "xml": older.text})
            metas.setdefault(opid, meta)
    for pid, meta in metas.items():
        for called in meta.get("calls", []):
            if called in unreadable and called not in sources:
                problems.append(Message(
                    "Prosessen «%(process)s» kaller prosessen «%(called)s», men den publiserte versjonen av "
                    "«%(called)s» kan ikke leses (%(why)s). Publiser «%(called)s» på nytt, eller be en "
                    "administrator trekke tilbake den ødelagte versjonen.", process=pid, called=called,
                    why=Clause(unreadable[called])))
            elif called not in sources:
                problems.append(Message("Prosessen «%(process)s» kaller prosessen «%(called)s», som verken er i "
                                        "filene eller publisert fra før.", process=pid, called=called))
    if problems:
        raise DeployRefused(problems)

    closures: dict[str, list[str]] = {}
    for pid in sources:
        try:
            spec = parser.get_spec(pid)
            subs = parser.get_subprocess_specs(pid)
        except (ValidationException, SpiffWorkflowException) as err:
            problems.append(_spiff_problem(err, pid))
            continue
        except Exception as err:  # noqa: BLE001 - the parser's own failures become a plain sentence
            problems.append(Message("Prosessen «%(process)s» kan ikke leses av prosessmotoren: %(error)s.",
                                    process=pid, error=str(err)))
            continue
        closures[pid] = [pid, *sorted(subs)]
        missing = [s for s in subs if s not in sources]
        if missing:
            problems.append(Message("Prosessen «%(process)s» kaller %(missing)s, som ikke er publisert.",
                                    process=pid, missing=", ".join(missing)))
        del spec
    if not problems and law is not None:
        problems = law(parser, metas, closures, sources, forms)
    if problems:
        raise DeployRefused(problems)
    return sources, metas, closures, parser, new_ids


def _reread(src: dict, forms: dict[str, Form] | None) -> FileReading:
    try:
        return read_file(src["file"], src["xml"].encode("utf-8"), forms)
    except Exception as err:  # noqa: BLE001 - a stored row of any shape is reported, never a crash
        return FileReading(str(src.get("file", "?")), "", problems=[f"{type(err).__name__}: {err}"])


def _add_to_parser(parser: CamundaParser, reading: FileReading, problems: list[str]) -> None:
    try:
        parser.add_bpmn_xml(reading.tree, filename=reading.filename)
    except (ValidationException, SpiffWorkflowException) as err:
        problems.append(_spiff_problem(err, reading.filename))


def _spiff_problem(err: Exception, where: str) -> str:
    element = getattr(err, "id", "") or ""
    name = getattr(err, "name", "") or ""
    if name or element:
        return Message("Prosessmotoren avviser «%(where)s» ved elementet «%(element)s»: %(error)s.",
                       where=where, element=name or element, error=str(err))
    return Message("Prosessmotoren avviser «%(where)s»: %(error)s.", where=where, error=str(err))


def deploy(session: Session, files: list[tuple[str, bytes]], *, actor_id: int | None, comment: str, now: datetime,
           forms: dict[str, Form] | None = None, law: LawCheck | None = None) -> list[DeployResult]:
    """Validate and store new versions; the same content deployed again changes nothing."""
    current = latest_versions(session)
    sources, metas, closures, parser, new_ids = analyse(files, stored_sources(current), forms, law)

    results: list[DeployResult] = []
    touched = set(new_ids)
    for pid, closure in sorted(closures.items()):
        if not (touched & set(closure)):
            continue
        content_hash = _sha(json.dumps([[p, sources[p]["sha256"]] for p in closure]))
        existing = session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.process_id == pid, DefinitionVersion.content_hash == content_hash)).first()
        if existing is not None:
            results.append(DeployResult(pid, existing.version, content_hash, False))
            continue
        spec = parser.get_spec(pid)
        subs = parser.get_subprocess_specs(pid)
        number = max(current[pid].version if pid in current else 0, _highest_withdrawn(session, pid)) + 1
        row = DefinitionVersion(
            process_id=pid, version=number, name=metas[pid]["name"], content_hash=content_hash,
            sources={p: sources[p] for p in closure}, spec=spiff.spec_to_dict(spec, subs),
            meta={p: metas[p] for p in closure}, deployed_by_id=actor_id, deployed_at=now,
            comment=comment)
        session.add(row)
        session.flush()
        results.append(DeployResult(pid, number, content_hash, True))
    return results


def _highest_withdrawn(session: Session, process_id: str) -> int:
    """A withdrawn version's number is never given again: the history names it."""
    rows = session.scalars(select(HistoryEvent.data).where(HistoryEvent.chain == SYSTEM_CHAIN,
                                                           HistoryEvent.kind == events.VERSION_WITHDRAWN))
    return max((d.get("version", 0) for d in rows if d.get("process_id") == process_id), default=0)


def withdraw(session: Session, process_id: str, number: int) -> DefinitionVersion:
    """Remove a version that no case uses (one that was a mistake, or whose stored text no longer
    reads). The caller records the act in the system history; the version's number is not reused."""
    row = session.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == process_id,
                                                          DefinitionVersion.version == number)).first()
    if row is None:
        raise NotFound(Message("Prosessen «%(process)s» har ingen versjon %(number)s.", process=process_id,
                               number=number))
    cases = session.scalar(select(func.count()).select_from(Case).where(Case.definition_id == row.id))
    events = session.scalar(select(func.count()).select_from(HistoryEvent).where(HistoryEvent.definition_id == row.id))
    if cases:
        used_by = Message("1 sak") if cases == 1 else Message("%(n)s saker", n=cases)
        raise Conflict(Message("Versjon %(number)s av «%(process)s» brukes av %(cases)s og kan ikke trekkes tilbake.",
                               number=number, process=process_id, cases=used_by))
    if events:
        raise Conflict(Message("Versjon %(number)s av «%(process)s» står i historikken til saker som har brukt "
                               "den, og kan ikke trekkes tilbake.", number=number, process=process_id))
    session.delete(row)
    session.flush()
    return row


def bundled_files(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.bpmn"))]


@dataclass(frozen=True)
class Runnable:
    """What a step needs of its case's version: the restored specs, and kap12's reading of the
    diagram (``meta``; shared by every step of the process, so never changed)."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    meta: dict


class SpecCache:
    """Restored spec objects per definition version: versions are immutable, so a spec is
    rebuilt from JSON once per process, not on every step of every case. Keyed by the version's
    id, which is never given to another version (a withdrawn version's id is not reused)."""

    def __init__(self) -> None:
        self._runnable: dict[int, Runnable] = {}

    def get(self, version: DefinitionVersion) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        found = self._runnable.get(version.id)
        if found is None:
            found = self._restore(version.id, version.spec, version.meta)
        return found.spec, found.subprocess_specs

    def runnable(self, session: Session, version_id: int) -> Runnable:
        """The version by id, its columns read only the first time: a step then loads no row of
        its version (the join for it cost a step about 0.2 ms)."""
        found = self._runnable.get(version_id)
        if found is None:
            spec, meta = session.execute(select(DefinitionVersion.spec, DefinitionVersion.meta)
                                         .where(DefinitionVersion.id == version_id)).one()
            found = self._restore(version_id, spec, meta)
        return found

    def _restore(self, version_id: int, spec_dct: dict, meta: dict) -> Runnable:
        spec, subs = spiff.spec_from_dict(spec_dct)
        found = self._runnable[version_id] = Runnable(spec, subs, meta)
        return found


def process_name(version: DefinitionVersion, process_id: str) -> str:
    """The process's name as its diagram gives it (its id when it has none)."""
    xml = (version.sources or {}).get(process_id, {}).get("xml", "")
    match = re.search(rf'<bpmn:process\s+id="{re.escape(process_id)}"\s+name="([^"]*)"', xml)
    return match[1] if match else process_id


def diagram_sources(version: DefinitionVersion) -> list[dict]:
    """The diagrams of a version as the pages draw them: the procedures first, the routing last."""
    out = [{"id": process_id, "name": process_name(version, process_id), "xml": source.get("xml", "")}
           for process_id, source in (version.sources or {}).items()]
    order = {"kap12_sak": 9, "oppfolging": 5}
    out.sort(key=lambda p: (order.get(p["id"], 0), p["id"]))
    return out
