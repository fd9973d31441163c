"""Verification by re-execution (DESIGN.md rule 5).

A case is re-run from the inputs its history recorded, in order, on the definition version it
ran on, with the engine's clock pinned to each recorded step's time: the report starts the
workflow as ``cases.start_case`` does, a completed task is completed again with the recorded
form data, a reclassification sends the same message, and every step — a claim and a timer
sweep too — runs the engine until it waits, exactly as the write path does. What each step
caused (tasks opened and cancelled, timers fired, deadlines missed, the case closed) is
compared with what was recorded, and at the end the re-executed workflow is compared with the
stored one: open user tasks, waiting timers, completion, the data of the open tasks, and the
whole state in a normalised form (task ids are random, so they are replaced by each task's
place in the tree).

Along the way a ``Frame`` is kept after every step: what was done and open in the diagrams,
which sequence flows were taken, and the case data as it stood. The auditors' replay page
renders these; the engine computes them, the page only draws."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.audit import integrity
from engine.runtime import spiff
from engine.runtime.calendars import calendar_as_of, closures, using_calendar
from engine.runtime.clock import active_clock
from engine.store import history
from engine.store.events import (
    ALONGSIDE,
    CYCLE_STARTED,
    DEADLINE_MISSED,
    DERIVED,
    INPUTS,
    MIGRATED,
    PASSIVE,
    RECLASSIFIED,
    REPORTED,
    TASK_COMPLETED,
    TASK_OPENED,
    TIMER_FIRED,
)
from engine.store.models import Case, DefinitionVersion, HistoryEvent, OpenTask, PendingTimer
from engine.versions.diagram_check import safe_parse
from engine.write.cases import reclassification_message
from engine.write.projection import Snapshot, snapshot
from engine.write.unit_of_work import Actor, CaseStep, run_until_waiting

_LIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Divergence:
    """Where re-execution and the record disagree, in words, with both sides."""

    seq: int | None  # the event at which it shows; None: in the stored state after the last event
    what: str
    recorded: Any = None
    replayed: Any = None

    def as_dict(self) -> dict:
        return {"seq": self.seq, "what": self.what, "recorded": self.recorded, "replayed": self.replayed}


@dataclass
class Frame:
    """The case after one step of re-execution."""

    completed: dict[str, list[str]] = field(default_factory=dict)  # process id -> element ids done so far
    active: dict[str, list[str]] = field(default_factory=dict)  # process id -> element ids open now
    flows: dict[str, list[str]] = field(default_factory=dict)  # process id -> sequence flows taken so far
    data: dict = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # keys of ``data`` new or different since the frame before
    removed: list[str] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    timers: list[dict] = field(default_factory=list)
    completed_case: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class EventView:
    seq: int
    at: datetime
    kind: str
    actor: str
    actor_id: int | None
    data: dict
    frame: int  # index into ReplayReport.frames: the case as it stood after this event
    replayed: bool  # False: after a divergence, re-execution stopped before this event


@dataclass
class ReplayReport:
    case_id: int
    number: str
    definition_id: int
    definition: str
    chain: integrity.ChainReport
    divergences: list[Divergence] = field(default_factory=list)
    steps: int = 0
    events: list[EventView] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    error: str = ""  # re-execution could not run at all (e.g. an unknown event kind)

    @property
    def verified(self) -> bool:
        return not self.divergences and not self.error

    @property
    def ok(self) -> bool:
        """Both checks: the hash chain holds and re-execution reproduces the stored case."""
        return self.verified and self.chain.ok

    def summary(self) -> str:
        if self.verified:
            return f"Verifisert: {self.steps} steg gjenskapt, samme tilstand som lagret."
        if self.error:
            return f"Kunne ikke gjenskapes: {self.error}"
        first = self.divergences[0]
        where = f"ved hendelse nr. {first.seq}" if first.seq is not None else "i den lagrede tilstanden"
        return f"Avvik {where}: {first.what}"

    def as_dict(self, *, frames: bool = False) -> dict:
        out = {"case_id": self.case_id, "number": self.number, "definition_id": self.definition_id,
               "definition": self.definition, "verified": self.verified, "steps": self.steps,
               "summary": self.summary(), "error": self.error,
               "divergences": [d.as_dict() for d in self.divergences],
               "chain": {"ok": self.chain.ok, "events": self.chain.events, "final_hash": self.chain.last_hash,
                         "broken_at": self.chain.broken_at, "reason": self.chain.reason}}
        if frames:
            out["frames"] = [f.as_dict() for f in self.frames]
        return out


class _Stop(Exception):
    pass


# -- the public entry point ---------------------------------------------------------------------
def verify_case(kap12, case_id: int, *, frames: bool = False) -> ReplayReport:
    """Re-execute ``case_id`` from its history and compare with what is stored. No access check
    and no read is recorded here: callers (the CLI, the audit pages) do that."""
    with kap12.db.reading() as session:
        case = session.get(Case, case_id)
        if case is None:
            from engine.errors import NotFound

            raise NotFound("Saken finnes ikke.")
        version = session.get(DefinitionVersion, case.definition_id)
        case.definition = version
        school_closures = closures(session, case.school_id)
        chain = integrity.check_case(session, kap12.history_keys, case_id)
        report = ReplayReport(case.id, case.number, version.id, f"{version.process_id} v{version.version}", chain)
        try:
            events = list(session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.case_chain(case_id))
                                          .order_by(HistoryEvent.seq)))
            stored_wf = kap12.writer.load_workflow(case)
        except Exception as err:  # noqa: BLE001 - damaged rows are findings, never a crash
            session.rollback()
            report.error = _unreadable(chain, err)
            return report
        stored_state = case.state
        stored_tasks = sorted(r.element_id for r in session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)))
        stored_timers = sorted((r.element_id, r.due_at) for r in
                               session.scalars(select(PendingTimer).where(PendingTimer.case_id == case_id)))
        if not events:
            report.error = "historikken er tom: det er ingenting å kjøre på nytt"
            return report
        # The case starts on the version its first event recorded; a migration moves it on.
        first = session.get(DefinitionVersion, events[0].definition_id) if events and events[0].definition_id else version
        run = _Replay(kap12, first, report, keep_frames=frames, closures=school_closures)
        try:
            run.run(events)
        except _Stop:
            pass
        if run.workflow is not None and not report.divergences and not report.error:
            _compare_stored(report, run.workflow, stored_wf, stored_state, version.meta, stored_tasks, stored_timers)
        return report


def _unreadable(chain: integrity.ChainReport, err: Exception) -> str:
    """Why re-execution could not start: the history (named by the chain check) or the stored state."""
    damaged = [f for f in chain.findings if f.what.startswith("kan ikke leses")]
    if damaged:
        return f"historikken kan ikke leses (hendelse nr. {damaged[0].seq}: {damaged[0].what})"
    return f"den lagrede tilstanden eller historikken kan ikke leses ({type(err).__name__})"


# -- re-execution --------------------------------------------------------------------------------
class _Replay:
    def __init__(self, kap12, version: DefinitionVersion, report: ReplayReport, keep_frames: bool, closures=()):
        self.kap12, self.version, self.report, self.keep_frames = kap12, version, report, keep_frames
        self.closures = list(closures)
        self.workflow: BpmnWorkflow | None = None
        self.case = SimpleNamespace(id=report.case_id, escalated=False)  # what the step may touch
        self.ids: dict[str, str] = {}  # recorded task id -> re-executed task id
        self.done: dict[str, set[str]] = {}
        self.taken: dict[str, set[str]] = {}
        self.flows = _sequence_flows(version)
        report.frames.append(Frame())

    # one step of the write path, re-run -------------------------------------------------------
    def run(self, events: list[HistoryEvent]) -> None:
        i = 0
        while i < len(events):
            ev = events[i]
            if ev.kind in PASSIVE:
                self._view(ev)
                i += 1
                continue
            if ev.kind not in INPUTS and ev.kind != TIMER_FIRED:
                if ev.kind in DERIVED:
                    self._diverge(ev.seq, f"«{ev.kind}» er lagret, men gjenkjøringen ga ikke denne hendelsen",
                                  _comparable(ev.kind, ev.data), None, events[i:])
                self.report.error = f"hendelsestypen «{ev.kind}» (nr. {ev.seq}) kan ikke gjenkjøres"
                self._rest(events[i:])
                return
            if self.workflow is None and ev.kind not in (REPORTED, CYCLE_STARTED):
                self._diverge(ev.seq, "historikken begynner ikke med meldingen", ev.kind, REPORTED, events[i:])
            i = self._step(events, i)

    def _step(self, events: list[HistoryEvent], i: int) -> int:
        ev = events[i]
        pins = [self.kap12.clock]
        if active_clock() is not self.kap12.clock:
            pins.append(active_clock())
        with _pinned(pins, ev.at), using_calendar(calendar_as_of(self.closures, ev.at)):
            if ev.kind == REPORTED:
                self.workflow = self.kap12.writer.new_workflow(self.version, ev.data.get("report") or {})
                before = Snapshot()
            elif ev.kind == CYCLE_STARTED:
                self.workflow = self.kap12.writer.new_workflow(self.version, ev.data.get("start_data") or {})
                before = Snapshot()
            else:
                before = snapshot(self.workflow, self.version.meta)
            step = CaseStep(None, self.case, self.workflow, Actor(ev.actor_id, ev.actor), ev.at, self.version.meta,
                            before)
            if ev.kind in INPUTS:
                self._act(step, ev, events[i:])
                start = i + 1
                while start < len(events) and events[start].kind in ALONGSIDE and events[start].at == ev.at:
                    start += 1
            else:
                start = i
            acted = len(step.events)  # the input, as the act records it; the rest is derived
            try:
                self._advance(step)
            except Exception as err:  # noqa: BLE001 - an input the engine cannot take is a finding
                self._diverge(ev.seq, f"prosessmotoren avviste hendelsen ved gjenkjøring: {err}",
                              _comparable(ev.kind, ev.data), None, events[i + 1:], [ev])
        produced = [(kind, json.loads(history.canonical(data))) for kind, data in step.events[acted:]]
        j = start
        for kind, data in produced:
            rec = events[j] if j < len(events) else None
            if rec is None or rec.kind != kind or _comparable(kind, rec.data) != _comparable(kind, data):
                recorded = (rec.kind, _comparable(rec.kind, rec.data)) if rec is not None else None
                self._diverge(rec.seq if rec is not None else events[-1].seq,
                              _describe(kind, data, rec), recorded, (kind, _comparable(kind, data)), events[j:],
                              events[i:j])
            if kind == TASK_OPENED:
                self.ids[rec.data["task_id"]] = data["task_id"]
            j += 1
        # Recorded consequences the re-execution did not produce (a new step may start with a timer).
        if j < len(events) and events[j].kind in DERIVED and events[j].kind != TIMER_FIRED:
            rec = events[j]
            self._diverge(rec.seq, f"hendelsen «{rec.kind}» er lagret, men gjenkjøringen ga den ikke",
                          (rec.kind, _comparable(rec.kind, rec.data)), None, events[j:], events[i:j])
        self.report.steps += 1
        if self.keep_frames:
            self._frame()
        self._views(events[i:j])
        return j

    def _act(self, step: CaseStep, ev: HistoryEvent, rest) -> None:
        wf = self.workflow
        if ev.kind == TASK_COMPLETED:
            task = self._ready_task(ev)
            if task is None:
                self._diverge(ev.seq, f"oppgaven «{ev.data.get('title', ev.data.get('element'))}» er ikke åpen "
                              "i gjenkjøringen", ev.data.get("element"), self._ready_elements(), rest)
            task.set_data(**(ev.data.get("data") or {}))
            try:
                task.run()
            except Exception as err:  # noqa: BLE001
                self._diverge(ev.seq, f"prosessmotoren avviste hendelsen ved gjenkjøring: {err}",
                              _comparable(ev.kind, ev.data), None, rest[1:], [ev])
            # The write path tells a completed task from a cancelled one by this record.
            step.record(TASK_COMPLETED, task_id=str(task.id), element=ev.data.get("element"))
        elif ev.kind == MIGRATED:
            from engine.write.migration import move_workflow

            with self.kap12.db.reading() as session:
                target = session.get(DefinitionVersion, ev.definition_id)
            try:
                move_workflow(self.kap12, wf, target)
            except Exception as err:  # noqa: BLE001 - a migration that no longer applies is a finding
                self._diverge(ev.seq, f"flyttingen til ny versjon lot seg ikke gjenta ({err})", ev.data, None, rest)
            self.version, step.meta = target, target.meta
            self.flows = _sequence_flows(target)
        elif ev.kind == RECLASSIFIED:
            try:
                wf.send_event(reclassification_message(ev.data.get("krenker_type"), ev.data.get("reason")))
            except Exception as err:  # noqa: BLE001 - the engine refusing is itself the finding
                self._diverge(ev.seq, f"omklassifiseringen ble ikke tatt imot i gjenkjøringen ({err})",
                              ev.data, None, rest)
        # reported: done when the workflow was made; claimed/released, access and parties: no act
        # on the workflow.

    def _advance(self, step: CaseStep) -> None:
        """What the write path does to the workflow, without writing anything; the elements done
        are gathered before compaction drops finished tasks."""
        run_until_waiting(step, before_compaction=self._collect)

    def _ready_task(self, ev: HistoryEvent):
        wf = self.workflow
        mapped = self.ids.get(ev.data.get("task_id") or "")
        if mapped:
            task = wf.get_task_from_id(UUID(mapped))
            if task is not None and task.state == TaskState.READY:
                return task
        # Not opened by a step we re-ran: by element id, the one opened first.
        element = ev.data.get("element")
        ready = [t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == element]
        ready.sort(key=lambda t: t.last_state_change)
        return ready[0] if ready else None

    def _ready_elements(self) -> list[str]:
        return sorted(t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True))

    # what the page shows ---------------------------------------------------------------------
    def _collect(self, wf) -> None:
        """Elements done and sequence flows taken, gathered at every step (compaction forgets them)."""
        for task in wf.get_tasks(state=TaskState.COMPLETED | _LIVE):
            bpmn_id = task.task_spec.bpmn_id
            if not bpmn_id:
                continue
            process = task.workflow.spec.name
            if task.has_state(TaskState.COMPLETED):
                self.done.setdefault(process, set()).add(bpmn_id)
            # A task that exists beyond FUTURE was reached from its parent: that flow was taken.
            flow = self.flows.get(process, {}).get((_visible_parent(task), bpmn_id))
            if flow:
                self.taken.setdefault(process, set()).add(flow)

    def _frame(self) -> None:
        wf = self.workflow
        active: dict[str, set[str]] = {}
        for task in wf.get_tasks(state=_LIVE):
            if task.task_spec.bpmn_id and not (task.has_state(TaskState.WAITING) and _is_boundary(task)):
                active.setdefault(task.workflow.spec.name, set()).add(task.task_spec.bpmn_id)
        snap = snapshot(wf, self.version.meta)
        data = _case_data(wf)
        prev = self.report.frames[-1].data
        self.report.frames.append(Frame(
            completed={p: sorted(ids) for p, ids in self.done.items()},
            active={p: sorted(ids) for p, ids in active.items()},
            flows={p: sorted(ids) for p, ids in self.taken.items()},
            data=data, changed=sorted(k for k in data if k not in prev or prev[k] != data[k]),
            removed=sorted(k for k in prev if k not in data),
            tasks=[{"element": t.element_id, "process": t.process_id, "title": t.title, "lane": t.lane,
                    "due_at": t.due_at.isoformat() if t.due_at else None} for t in snap.tasks],
            timers=[{"element": t.element_id, "process": t.process_id, "name": t.name, "kinds": list(t.kinds),
                     "due_at": t.due_at.isoformat()} for t in snap.timers],
            completed_case=snap.completed))

    def _view(self, ev: HistoryEvent, replayed: bool = True) -> None:
        self.report.events.append(EventView(ev.seq, ev.at, ev.kind, ev.actor, ev.actor_id, ev.data,
                                            len(self.report.frames) - 1, replayed))

    def _views(self, evs) -> None:
        seen = {e.seq for e in self.report.events}
        for ev in evs:
            if ev.seq not in seen:
                self._view(ev)

    def _rest(self, evs) -> None:
        seen = {e.seq for e in self.report.events}
        for ev in evs:
            if ev.seq not in seen:
                self._view(ev, replayed=False)

    def _diverge(self, seq, what, recorded, replayed, rest, done=()) -> None:
        self.report.divergences.append(Divergence(seq, what, recorded, replayed))
        if self.keep_frames and self.workflow is not None:
            self._frame()
        self._views(done)
        self._rest(rest)
        raise _Stop


class _pinned:
    """Pin every clock the engine reads (its own, and the one SpiffWorkflow's timers read)."""

    def __init__(self, clocks, when):
        self.pins = [c.pinned(when) for c in clocks]

    def __enter__(self):
        for p in self.pins:
            p.__enter__()

    def __exit__(self, *exc):
        for p in reversed(self.pins):
            p.__exit__(*exc)


# -- comparing ----------------------------------------------------------------------------------
_IDS = ("task_id",)


def _comparable(kind: str, data: dict) -> dict:
    """An event's data without the random task ids (they differ between runs by design)."""
    return {k: v for k, v in (data or {}).items() if k not in _IDS}


def _describe(kind: str, data: dict, rec) -> str:
    what = data.get("title") or data.get("timer") or data.get("element") or ""
    if rec is None:
        return f"gjenkjøringen ga «{kind}» ({what}), men historikken slutter"
    if rec.kind != kind:
        return f"lagret er «{rec.kind}», men gjenkjøringen ga «{kind}» ({what})"
    diff = sorted(k for k in set(data) | set(rec.data) if k not in _IDS and data.get(k) != rec.data.get(k))
    return f"«{kind}» ({what}) er ulik i feltene {', '.join(diff)}"


def _compare_stored(report: ReplayReport, replayed, stored, stored_state: str, meta: dict, stored_tasks,
                    stored_timers) -> None:
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


def _open_data(wf) -> list:
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

    def clean(obj):
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


def _first_difference(a, b, path: str = "tilstand"):
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


# -- the diagrams' vocabulary ----------------------------------------------------------------------
_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def _sequence_flows(version: DefinitionVersion) -> dict[str, dict[tuple[str, str], str]]:
    """process id -> {(source element, target element): sequence flow id}."""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for source in (version.sources or {}).values():
        root = safe_parse(source["xml"].encode("utf-8"))
        for process in root.iter(f"{_BPMN}process"):
            flows = out.setdefault(process.get("id"), {})
            for flow in process.iter(f"{_BPMN}sequenceFlow"):
                flows[(flow.get("sourceRef"), flow.get("targetRef"))] = flow.get("id")
    return out


def _visible_parent(task) -> str | None:
    """The nearest ancestor that is an element of the diagram (SpiffWorkflow adds hidden ones)."""
    parent = task.parent
    while parent is not None and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


def _is_boundary(task) -> bool:
    return type(task.task_spec).__name__ == "BoundaryEvent"


def _case_data(wf) -> dict:
    """The case data as it stands: the data of the tasks that are open or waiting, newest last;
    when nothing is open (closed), the data the last finished task of the case left."""
    live = [t for t in wf.get_tasks(state=_LIVE) if t.task_spec.bpmn_id]
    if not live:
        done = [t for t in wf.get_tasks(state=TaskState.COMPLETED)]
        live = [max(done, key=lambda t: t.last_state_change)] if done else []
    merged: dict = {}
    for task in sorted(live, key=lambda t: t.last_state_change):
        merged.update(task.data)
    return json.loads(history.canonical(merged))


# -- all cases of one version: where they passed, where deadlines were missed ----------------------
@dataclass
class HeatElement:
    passed: int = 0  # cases that did this element (a user task completed, a timer fired)
    times: int = 0  # how many times in all (loops count each round)
    missed: int = 0  # deadlines missed at this element (on the task, and on the timer itself)
    open_now: int = 0  # cases with this user task open now


def process_heat(kap12, viewer, definition_id: int) -> tuple[DefinitionVersion, int, dict[str, dict[str, HeatElement]]]:
    """Counts per diagram element over the cases of ``definition_id`` that ``viewer`` may see,
    read from their histories (no workflow is loaded). Returns (version, cases, {process: {element: counts}})."""
    from engine import access
    from engine.errors import NotFound
    from processes.roles import OFFENDER_PROCEDURE

    with kap12.db.reading() as session:
        version = session.get(DefinitionVersion, definition_id)
        if version is None:
            raise NotFound("Prosessversjonen finnes ikke.")
        visible = access.visible_cases(viewer).where(Case.definition_id == definition_id).subquery()
        full = [cid for cid in session.scalars(select(visible.c.id))
                if access.access_level(session, viewer, cid) == access.FULL]
        with history.readable():
            events = list(session.scalars(select(HistoryEvent).where(HistoryEvent.case_id.in_(full))
                                          .where(HistoryEvent.kind.in_((REPORTED, RECLASSIFIED, TASK_OPENED,
                                                                        TASK_COMPLETED, TIMER_FIRED,
                                                                        DEADLINE_MISSED)))
                                          .order_by(HistoryEvent.case_id, HistoryEvent.seq)))
        open_rows = list(session.execute(select(OpenTask.case_id, OpenTask.element_id).where(OpenTask.case_id.in_(full))))
    owners: dict[str, list[str]] = {}
    for process_id, flows in _elements(version).items():
        for element in flows:
            owners.setdefault(element, []).append(process_id)
    heat: dict[str, dict[str, HeatElement]] = {}
    seen: set[tuple[int, str, str]] = set()
    procedure: dict[int, str] = {}
    task_element: dict[str, tuple[str, str]] = {}

    def process_of(case_id: int, element: str) -> str | None:
        candidates = owners.get(element, [])
        if len(candidates) == 1:
            return candidates[0]
        wanted = f"prosedyre_{procedure.get(case_id, 'a').lower()}"
        return wanted if wanted in candidates else (candidates[0] if candidates else None)

    def bump(case_id, process, element, *, passed=False, missed=False):
        if process is None:
            return
        cell = heat.setdefault(process, {}).setdefault(element, HeatElement())
        if passed:
            cell.times += 1
            if (case_id, process, element) not in seen:
                seen.add((case_id, process, element))
                cell.passed += 1
        if missed:
            cell.missed += 1

    for ev in events:
        d = ev.data or {}
        if ev.kind == REPORTED:
            procedure[ev.case_id] = OFFENDER_PROCEDURE.get((d.get("report") or {}).get("krenker_type"), "A")
        elif ev.kind == RECLASSIFIED:
            procedure[ev.case_id] = d.get("to_procedure") or procedure.get(ev.case_id, "A")
        elif ev.kind == TASK_OPENED:
            process = process_of(ev.case_id, d.get("element"))
            task_element[d.get("task_id")] = (process, d.get("element"))
        elif ev.kind == TASK_COMPLETED:
            process, element = task_element.get(d.get("task_id")) or (process_of(ev.case_id, d.get("element")), d.get("element"))
            bump(ev.case_id, process, element, passed=True)
        elif ev.kind == TIMER_FIRED:
            bump(ev.case_id, process_of(ev.case_id, d.get("element")), d.get("element"), passed=True)
        elif ev.kind == DEADLINE_MISSED:
            bump(ev.case_id, process_of(ev.case_id, d.get("element")), d.get("element"), missed=True)
            if d.get("task_id") in task_element:
                process, element = task_element[d["task_id"]]
                bump(ev.case_id, process, element, missed=True)
    for case_id, element in open_rows:
        process = process_of(case_id, element)
        if process is not None:
            heat.setdefault(process, {}).setdefault(element, HeatElement()).open_now += 1
    return version, len(full), heat


def _elements(version: DefinitionVersion) -> dict[str, set[str]]:
    """process id -> ids of its flow elements."""
    out: dict[str, set[str]] = {}
    for source in (version.sources or {}).values():
        root = safe_parse(source["xml"].encode("utf-8"))
        for process in root.iter(f"{_BPMN}process"):
            ids = out.setdefault(process.get("id"), set())
            for el in process.iter():
                if isinstance(el.tag, str) and el.get("id") and el is not process:
                    ids.add(el.get("id"))
    return out
