"""What one step of a case costs: bare SpiffWorkflow against kap12's write path, on SQLite.

(a) bare SpiffWorkflow: deserialize the workflow (its JSON with the spec, as the library's
    serializer writes it), complete the user task, run engine steps, serialize again;
(a') the lean bare step: deserialize only the state, with the spec already deserialized and
    cached (as kap12 keeps it), complete, run, serialize the state — the least any host does;
(b) kap12: the same step through engine/ — load under a write lock, validate the form, complete,
    run, write state, task and timer rows and history events, commit;
(c) (a) and (b) for a case with 100 earlier steps;
(d) one timer sweep firing 10 due timers among 10,000 waiting, against one among 100 waiting.

Run: .venv/bin/python benchmarks/engine.py [--quick]"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import timedelta
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import engine_at, fresh, median_ms, row, timed  # noqa: E402
from _steps import (  # noqa: E402
    LEADER,
    NORDLI,
    carry_out_payload,
    case_at_carry_out,
    lean_step_fn,
    open_task,
)
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402
from sqlalchemy.orm import undefer  # noqa: E402

from engine.runtime.clock import Clock  # noqa: E402
from engine.store.models import Case, PendingTimer  # noqa: E402
from engine.write.demo import report_data  # noqa: E402


def bare_step_fn(kap12, case_id: int, task_id: str):
    """Bare SpiffWorkflow on the case's state: what any host has to do at the least."""
    with kap12.db.reading() as session:
        case = session.get(Case, case_id, options=[undefer(Case.state)])
        state = json.loads(case.state)
        spec_dct = case.definition.spec
    state.pop("serializer_version", None)
    state["spec"], state["subprocess_specs"] = spec_dct["spec"], spec_dct["subprocess_specs"]
    full_json = json.dumps(state)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))  # the library's own
    data = carry_out_payload()

    def once():
        workflow = serializer.from_dict(json.loads(full_json))
        workflow.script_engine = kap12.script_engine
        task = workflow.get_task_from_id(UUID(task_id))
        task.set_data(**data)
        task.run()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        json.dumps(serializer.to_dict(workflow))

    once()
    return once


class StatementCounter:
    """SQL statements and transactions the engine sends while counting."""

    def __init__(self, engine):
        self.statements = self.transactions = 0
        self.counting = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)

    def _statement(self, *_args):
        self.statements += self.counting

    def _begin(self, *_args):
        self.transactions += self.counting


def interleaved(kap12, demo, case_ids: list[int], counter: StatementCounter | None = None):
    """One bare step, one lean bare step, then one kap12 step, case after case: whatever else
    the machine does weighs on all alike, so their ratios are fair."""
    viewer, data = demo.users[LEADER], carry_out_payload()
    bare, lean, ours = [], [], []
    for case_id in case_ids:
        task = open_task(kap12, viewer, case_id)
        bare.append(timed(bare_step_fn(kap12, case_id, task.id)))
        lean.append(timed(lean_step_fn(kap12, case_id, task.id)))
        if counter is not None:
            counter.counting = True
        ours.append(timed(lambda task=task: kap12.complete(viewer, task.id, data)))
        if counter is not None:
            counter.counting = False
    return bare, lean, ours


def history_steps(kap12, case_id: int) -> int:
    return sum(1 for e in kap12.case_history(case_id) if e.kind in ("task_completed", "timer_fired"))


def sweep_with_waiting(waiting: int, due: int, trials: int) -> list[float]:
    """Median time of one sweep that fires ``due`` timers with ``waiting`` more not yet due."""
    folder, kap12, demo = fresh()
    for _ in range(due):
        kap12.report(demo.users["ansatt"], demo.schools[NORDLI], report_data())
    base = kap12.clock.now()
    # The waiting rows belong to a case of their own that is not due in this sweep (a real
    # county has thousands of such cases; their rows are what the sweep must not scan).
    kap12.clock.advance(timedelta(hours=1))
    quiet = kap12.report(demo.users["ansatt"], demo.schools[NORDLI], report_data())
    kap12.clock.set(base)
    far = base + timedelta(days=365)
    with kap12.db.writing() as session:
        case_id = quiet.id
        session.execute(insert(PendingTimer), [
            {"id": f"bench-{i:08d}", "case_id": case_id, "element_id": "Benchmark", "name": "venter",
             "kind": "", "due_at": far + timedelta(minutes=i), "attempts": 0} for i in range(waiting)])
    kap12.close()
    samples = []
    for trial in range(trials):
        copy = folder / f"trial{trial}"
        copy.mkdir()
        shutil.copy(folder / "bench.sqlite3", copy / "bench.sqlite3")
        clock = Clock()
        clock.set(base + timedelta(hours=2, minutes=1))  # the 2-hour reminders are due
        engine = engine_at(copy, clock)
        result = {}
        samples.append(timed(lambda result=result, engine=engine: result.update(r=engine.sweep_timers())))
        assert result["r"].claimed == due, result
        engine.close()
    shutil.rmtree(folder, ignore_errors=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args()
    n, long_cases, trials = (5, 2, 2) if args.quick else (30, 5, 5)

    print("kap12 engine benchmark (SQLite, one process, median of repeated runs)")
    folder, kap12, demo = fresh()
    short = [case_at_carry_out(kap12, demo) for _ in range(n)]
    counter = StatementCounter(kap12.db.engine)
    bare, lean, ours = interleaved(kap12, demo, short, counter)
    bare_a, lean_a, ours_b = median_ms(bare), median_ms(lean), median_ms(ours)
    row("(a) bare SpiffWorkflow step, short case", f"{bare_a:8.2f} ms")
    row("(a') lean bare step (state only, spec cached)", f"{lean_a:8.2f} ms")
    row("(b) kap12 step through engine/ with the database write", f"{ours_b:8.2f} ms")
    row("    ratio (b)/(a)   [target < 3]", f"{ours_b / bare_a:8.2f}")
    row("    ratio (b)/(a')  [target <= 2.5]", f"{ours_b / lean_a:8.2f}")
    row("    SQL statements per task completion", f"{counter.statements / len(short):8.1f}")
    row("    transactions per task completion", f"{counter.transactions / len(short):8.1f}")

    long = [case_at_carry_out(kap12, demo, rounds=50) for _ in range(long_cases)]
    steps = history_steps(kap12, long[0])
    bare, _lean, ours = interleaved(kap12, demo, long)
    bare_c, ours_c = median_ms(bare), median_ms(ours)
    row(f"(c) bare SpiffWorkflow step, case with {steps} earlier steps", f"{bare_c:8.2f} ms")
    row(f"(c) kap12 step, case with {steps} earlier steps", f"{ours_c:8.2f} ms")
    row("    ratio long/short kap12   [target < 2]", f"{ours_c / ours_b:8.2f}")
    row("    ratio (c) kap12 / bare", f"{ours_c / bare_c:8.2f}")
    kap12.close()
    shutil.rmtree(folder, ignore_errors=True)

    small = median_ms(sweep_with_waiting(100, 10, trials))
    big = median_ms(sweep_with_waiting(10_000, 10, trials))
    row("(d) sweep firing 10 due timers, 100 waiting", f"{small:8.2f} ms")
    row("(d) sweep firing 10 due timers, 10,000 waiting", f"{big:8.2f} ms")
    row("    ratio 10,000/100   [target < 1.5]", f"{big / small:8.2f}")


if __name__ == "__main__":
    main()
