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
from types import SimpleNamespace
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import undefer

from engine.audit import integrity
from engine.audit.bpmn_reading import sequence_flows
from engine.audit.compare import comparable, compare_stored, describe
from engine.audit.replay_report import Divergence, EventView, Frame, ReplayReport
from engine.errors import NotFound
from engine.runtime.calendars import calendar_as_of, closures, using_calendar
from engine.runtime.clock import active_clock
from engine.runtime.progress import LIVE, active_elements, completed_elements, visible_parent
from engine.store import history
from engine.store.events import (
    ALONGSIDE,
    CASE_ENDED,
    CYCLE_STARTED,
    DERIVED,
    EVALUATION_NOW,
    INPUTS,
    MIGRATED,
    OWNER_NOTICE_ASKED,
    PASSIVE,
    RECLASSIFIED,
    REPORTED,
    TASK_COMPLETED,
    TASK_OPENED,
    TIMER_FIRED,
)
from engine.store.models import Case, DefinitionVersion, HistoryEvent, OpenTask, PendingTimer
from engine.write.cases import reclassification_message
from engine.write.endings import ending_message
from engine.write.evaluation import evaluate_now_message
from engine.write.migration import move_workflow
from engine.write.owner_notice import owner_notice_message
from engine.write.projection import Snapshot, snapshot
from engine.write.unit_of_work import Actor, CaseStep, run_until_waiting
from processes.messages import Message


class _Stop(Exception):
    pass


# -- the public entry point ---------------------------------------------------------------------
def verify_case(kap12, case_id: int, *, frames: bool = False) -> ReplayReport:
    """Re-execute ``case_id`` from its history and compare with what is stored. No access check
    and no read is recorded here: callers (the CLI, the audit pages) do that."""
    with kap12.db.reading() as session:
        case = session.get(Case, case_id, options=[undefer(Case.state)])
        if case is None:
            raise NotFound(Message("Saken finnes ikke."))
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
            compare_stored(report, run.workflow, stored_wf, stored_state, version.meta, stored_tasks, stored_timers)
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
        self.flows = sequence_flows(version)
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
                                  comparable(ev.kind, ev.data), None, events[i:])
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
                              comparable(ev.kind, ev.data), None, events[i + 1:], [ev])
        produced = [(kind, json.loads(history.canonical(data))) for kind, data in step.events[acted:]]
        j = start
        for kind, data in produced:
            rec = events[j] if j < len(events) else None
            if rec is None or rec.kind != kind or comparable(kind, rec.data) != comparable(kind, data):
                recorded = (rec.kind, comparable(rec.kind, rec.data)) if rec is not None else None
                self._diverge(rec.seq if rec is not None else events[-1].seq,
                              describe(kind, data, rec), recorded, (kind, comparable(kind, data)), events[j:],
                              events[i:j])
            if kind == TASK_OPENED:
                self.ids[rec.data["task_id"]] = data["task_id"]
            j += 1
        # Recorded consequences the re-execution did not produce (a new step may start with a timer).
        if j < len(events) and events[j].kind in DERIVED and events[j].kind != TIMER_FIRED:
            rec = events[j]
            self._diverge(rec.seq, f"hendelsen «{rec.kind}» er lagret, men gjenkjøringen ga den ikke",
                          (rec.kind, comparable(rec.kind, rec.data)), None, events[j:], events[i:j])
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
                              comparable(ev.kind, ev.data), None, rest[1:], [ev])
            # The write path tells a completed task from a cancelled one by this record.
            step.record(TASK_COMPLETED, task_id=str(task.id), element=ev.data.get("element"))
        elif ev.kind == MIGRATED:
            with self.kap12.db.reading() as session:
                target = session.get(DefinitionVersion, ev.definition_id)
            try:
                move_workflow(self.kap12, wf, target)
            except Exception as err:  # noqa: BLE001 - a migration that no longer applies is a finding
                self._diverge(ev.seq, f"flyttingen til ny versjon lot seg ikke gjenta ({err})", ev.data, None, rest)
            self.version, step.meta = target, target.meta
            self.flows = sequence_flows(target)
        elif ev.kind == EVALUATION_NOW:
            try:
                wf.send_event(evaluate_now_message(ev.data.get("reason") or ""))
            except Exception as err:  # noqa: BLE001 - the engine refusing is itself the finding
                self._diverge(ev.seq, f"«evaluere nå» ble ikke tatt imot i gjenkjøringen ({err})", ev.data, None, rest)
        elif ev.kind == OWNER_NOTICE_ASKED:
            try:
                wf.send_event(owner_notice_message(ev.data.get("reason") or ""))
            except Exception as err:  # noqa: BLE001 - the engine refusing is itself the finding
                self._diverge(ev.seq, f"varselet til skoleeier ble ikke tatt imot i gjenkjøringen ({err})", ev.data,
                              None, rest)
        elif ev.kind == RECLASSIFIED:
            try:
                wf.send_event(reclassification_message(ev.data.get("krenker_type"), ev.data.get("reason"),
                                                     ev.data.get("accused_username")))
            except Exception as err:  # noqa: BLE001 - the engine refusing is itself the finding
                self._diverge(ev.seq, f"omklassifiseringen ble ikke tatt imot i gjenkjøringen ({err})",
                              ev.data, None, rest)
        elif ev.kind == CASE_ENDED:
            try:
                wf.send_event(ending_message(ev.data.get("data") or {}))
            except Exception as err:  # noqa: BLE001 - the engine refusing is itself the finding
                self._diverge(ev.seq, f"avslutningen ble ikke tatt imot i gjenkjøringen ({err})", ev.data, None, rest)
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
        for process, ids in completed_elements(wf).items():
            self.done.setdefault(process, set()).update(ids)
        for task in wf.get_tasks(state=TaskState.COMPLETED | LIVE):
            bpmn_id = task.task_spec.bpmn_id
            if not bpmn_id:
                continue
            process = task.workflow.spec.name
            # A task that exists beyond FUTURE was reached from its parent: that flow was taken.
            flow = self.flows.get(process, {}).get((visible_parent(task), bpmn_id))
            if flow:
                self.taken.setdefault(process, set()).add(flow)

    def _frame(self) -> None:
        wf = self.workflow
        active = active_elements(wf)
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




def _case_data(wf) -> dict:
    """The case data as it stands: the data of the tasks that are open or waiting, newest last;
    when nothing is open (closed), the data the last finished task of the case left."""
    live = [t for t in wf.get_tasks(state=LIVE) if t.task_spec.bpmn_id]
    if not live:
        done = [t for t in wf.get_tasks(state=TaskState.COMPLETED)]
        live = [max(done, key=lambda t: t.last_state_change)] if done else []
    merged: dict = {}
    for task in sorted(live, key=lambda t: t.last_state_change):
        merged.update(task.data)
    return json.loads(history.canonical(merged))
