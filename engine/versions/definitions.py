"""Deploying diagrams as immutable, content-addressed versions (DESIGN.md rule 2).

A version belongs to one executable process and freezes the exact source of every process it
calls (call activities), so a running case never changes under its feet when a called process
is redeployed: deploying a new ``oppfolging`` makes new versions of the procedures that call it,
and cases already running keep the versions they started on."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import func, select

from engine.errors import DeployRefused, NotFound
from engine.runtime import spiff
from engine.store.models import DefinitionVersion
from engine.versions.diagram_check import FileReading, read_file

CASE_PROCESS = "kap12_sak"  # the process a report starts: the routing to procedure A, B or C


@dataclass(frozen=True)
class DeployResult:
    process_id: str
    version: int
    content_hash: str
    created: bool  # False: this exact content was deployed before


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest_versions(session) -> dict[str, DefinitionVersion]:
    newest = (select(DefinitionVersion.process_id, func.max(DefinitionVersion.version).label("v"))
              .group_by(DefinitionVersion.process_id).subquery())
    rows = session.scalars(select(DefinitionVersion).join(
        newest, (DefinitionVersion.process_id == newest.c.process_id) & (DefinitionVersion.version == newest.c.v)))
    return {row.process_id: row for row in rows}


def latest_version(session, process_id: str) -> DefinitionVersion:
    row = session.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == process_id)
                          .order_by(DefinitionVersion.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"Prosessen «{process_id}» er ikke tatt i bruk (ingen versjon er publisert).")
    return row


def analyse(files: list[tuple[str, bytes]], stored: dict[str, dict] | None = None, forms=None):
    """Read and validate ``files`` together with ``stored`` sources ({process_id: source}) of
    processes they may call. ``forms`` ({key: Form}) are the forms a user task may name; the
    bundled files when not given. Returns (readings, parser, closures) or raises DeployRefused."""
    readings = [read_file(name, data, forms) for name, data in files]
    problems = [p for r in readings for p in r.problems]
    if problems:
        raise DeployRefused(problems)
    new_ids = [pid for r in readings for pid in r.processes]
    seen = set()
    for pid in new_ids:
        if pid in seen:
            problems.append(f"Prosessen «{pid}» er definert i mer enn én av filene.")
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
    for pid, src in (stored or {}).items():
        if pid in sources:
            continue
        older = read_file(src["file"], src["xml"].encode("utf-8"), forms)
        _add_to_parser(parser, older, problems)
        for opid, meta in older.processes.items():
            sources.setdefault(opid, {"file": older.filename, "sha256": _sha(older.text), "xml": older.text})
            metas.setdefault(opid, meta)
    for pid, meta in metas.items():
        for called in meta.get("calls", []):
            if called not in sources:
                problems.append(f"Prosessen «{pid}» kaller prosessen «{called}», som verken er i filene "
                                "eller publisert fra før.")
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
            problems.append(f"Prosessen «{pid}» kan ikke leses av prosessmotoren: {err}.")
            continue
        closures[pid] = [pid, *sorted(subs)]
        missing = [s for s in subs if s not in sources]
        if missing:
            problems.append(f"Prosessen «{pid}» kaller {', '.join(missing)}, som ikke er publisert.")
        del spec
    if problems:
        raise DeployRefused(problems)
    return sources, metas, closures, parser, new_ids


def _add_to_parser(parser, reading: FileReading, problems: list[str]) -> None:
    try:
        parser.add_bpmn_xml(reading.tree, filename=reading.filename)
    except (ValidationException, SpiffWorkflowException) as err:
        problems.append(_spiff_problem(err, reading.filename))


def _spiff_problem(err: Exception, where: str) -> str:
    element = getattr(err, "id", "") or ""
    name = getattr(err, "name", "") or ""
    at = f" ved elementet «{name or element}»" if (name or element) else ""
    return f"Prosessmotoren avviser «{where}»{at}: {err}."


def deploy(session, files: list[tuple[str, bytes]], *, actor_id: int | None, comment: str, now,
           forms=None) -> list[DeployResult]:
    """Validate and store new versions; the same content deployed again changes nothing."""
    current = latest_versions(session)
    stored: dict[str, dict] = {}
    for row in current.values():
        stored.update(row.sources)
    sources, metas, closures, parser, new_ids = analyse(files, stored, forms)

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
        number = (current[pid].version + 1) if pid in current else 1
        row = DefinitionVersion(
            process_id=pid, version=number, name=metas[pid]["name"], content_hash=content_hash,
            sources={p: sources[p] for p in closure}, spec=spiff.spec_to_dict(spec, subs),
            meta={p: metas[p] for p in closure}, deployed_by_id=actor_id, deployed_at=now,
            comment=comment)
        session.add(row)
        session.flush()
        results.append(DeployResult(pid, number, content_hash, True))
    return results


def bundled_files(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.bpmn"))]


class SpecCache:
    """Restored spec objects per definition version: versions are immutable, so a spec is
    rebuilt from JSON once per process, not on every step of every case."""

    def __init__(self):
        self._specs: dict[int, tuple] = {}

    def get(self, version: DefinitionVersion):
        found = self._specs.get(version.id)
        if found is None:
            found = spiff.spec_from_dict(version.spec)
            self._specs[version.id] = found
        return found
