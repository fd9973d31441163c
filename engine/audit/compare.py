"""Comparing a re-execution with what was recorded: events without their random task ids, and
the stored workflow against the re-executed one (open tasks, timers, data, the whole state in a
normalised form)."""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.audit.replay_report import Divergence, ReplayReport
from engine.runtime import spiff
from engine.store import history
from engine.store.models import HistoryEvent
from engine.write.projection import snapshot

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

_IDS = ("task_id",)


def comparable(kind: str, data: dict) -> dict:
    """An event's data without the random task ids (they differ between runs by design)."""
    return {k: v for k, v in (data or {}).items() if k not in _IDS}


def describe(kind: str, data: dict, rec: HistoryEvent | None) -> str:
    what = data.get("title") or data.get("timer") or data.get("element") or ""
    if rec is None:
        return f"gjenkjøringen ga «{kind}» ({what}), men historikken slutter"
    if rec.kind != kind:
        return f"lagret er «{rec.kind}», men gjenkjøringen ga «{kind}» ({what})"
    diff = sorted(k for k in set(data) | set(rec.data) if k not in _IDS and data.get(k) != rec.data.get(k))
    return f"«{kind}» ({what}) er ulik i feltene {', '.join(diff)}"


def compare_stored(report: ReplayReport, replayed: BpmnWorkflow, stored: BpmnWorkflow, stored_state: str, meta: dict,
                   stored_tasks: list[str], stored_timers: list[tuple[str, datetime]]) -> None:
    mine, theirs = snapshot(replayed, meta), snapshot(stored, meta)
    checks = [
        ("åpne oppgaver", sorted(t.element_id for t in theirs.tasks), sorted(t.element_id for t in mine.tasks)),
        ("ventende tidspunkt", sorted((t.element_id, t.due_at.isoformat()) for t in theirs.timers),
         sorted((t.element_id, t.due_at.isoformat()) for t in mine.timers)),
        ("om saken er fullført", theirs.completed, mine.completed),
        ("data i åpne oppgaver", _open_data(stored), _open_data(replayed)),
        ("åpne oppgaver i oppgavelisten (projeksjonen)", stored_tasks, sorted(t.element_id for t in mine.tasks)),
        ("tidspunkt i tidsur-tabellen (projeksjonen)", [(e, d.isoformat()) for e, d in stored_timers],
         sorted((t.element_id, t.due_at.isoformat()) for t in mine.timers)),
    ]
    for label, recorded, found in checks:
        if recorded != found:
            report.divergences.append(Divergence(None, f"den lagrede saken avviker i {label}", recorded, found))
    if report.divergences:
        return
    # The stored text itself, not a reload of it: a reload rebuilds finished tasks' data from
    # their deltas and would hide a change made to one copy only.
    a, b = normalise_state(stored_state), normalise_state(spiff.dump_state(replayed))
    if a != b:
        path, x, y = _first_difference(a, b)
        report.divergences.append(Divergence(None, f"den lagrede arbeidsflyttilstanden avviker ved {path}", x, y))


def _open_data(wf: BpmnWorkflow) -> list:
    return sorted(([t.task_spec.bpmn_id, json.loads(history.canonical(t.data))]
                   for t in wf.get_tasks(state=TaskState.READY, manual=True)), key=lambda x: history.canonical(x))


def normalise_state(state: str) -> dict:
    """The stored workflow state with every task id replaced by the task's place in its tree
    ("<calling task's place>/0/1/…"), the wall-clock ``last_state_change`` dropped and the
    deleted-keys sets of task deltas sorted: two runs of the same inputs give equal results."""
    dct = json.loads(state)
    names: dict[str, str] = {}

    def name_tree(tasks: dict, root: str, prefix: str) -> None:
        stack = [(root, prefix)]
        while stack:
            tid, path = stack.pop()
            names[tid] = path
            for n, child in enumerate(tasks.get(tid, {}).get("children", [])):
                stack.append((child, f"{path}/{n}"))

    name_tree(dct["tasks"], dct["root"], "w")
    pending = dict(dct.get("subprocesses", {}))
    while pending:
        ready = [sid for sid in pending if sid in names]
        if not ready:  # a subprocess whose calling task is gone: name it by its spec and root
            sid = sorted(pending, key=lambda s: (pending[s].get("spec", ""), s))[0]
            names[sid] = f"orphan:{len(names)}"
            ready = [sid]
        for sid in ready:
            sub = pending.pop(sid)
            name_tree(sub["tasks"], sub["root"], names[sid] + ">")

    def clean(obj: Any) -> Any:
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k == "last_state_change":
                    continue
                if k == "deletions" and isinstance(v, list):  # a set in SpiffWorkflow's delta
                    v = sorted(v, key=str)
                out[names.get(k, k)] = clean(v)
            return out
        if isinstance(obj, list):
            return [clean(v) for v in obj]
        if isinstance(obj, str) and _UUID.match(obj):
            return names.get(obj, "?" + "uuid")
        return obj

    return clean(dct)


def _first_difference(a: Any, b: Any, path: str = "tilstand") -> tuple[str, Any, Any]:
    if type(a) is not type(b):
        return path, a, b
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}.{k}", a.get(k), b.get(k)
            if a[k] != b[k]:
                return _first_difference(a[k], b[k], f"{path}.{k}")
    if isinstance(a, list):
        if len(a) != len(b):
            return path, a, b
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{n}]")
    return path, a, b
