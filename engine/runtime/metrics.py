"""The engine's Prometheus metrics: steps, conflicts and timers.

Counts and durations only, never anything about a case's content. Under gunicorn the web
workers and the sweepers are separate processes; prometheus-client then keeps each process's
values in files under ``PROMETHEUS_MULTIPROC_DIR`` (``kap12 serve`` sets it up before anything
imports this module), and ``/metrics`` adds them up."""
from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

# Step and request times: a few milliseconds to a few seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# How late a timer fired: on the second when the sweeper runs, hours after downtime.
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 3600.0, 86400.0)

STEP_SECONDS = Histogram("kap12_step_seconds", "Time of one step through the write path (load, act, run, write).",
                         buckets=LATENCY_BUCKETS)
STEPS = Counter("kap12_steps", "Steps through the write path, by outcome (ok, conflict, refused, error).",
                ["outcome"])
TIMERS_FIRED = Counter("kap12_timers_fired", "Timer events fired, by kind (frist, paminnelse, eskalering).",
                       ["kind"])
TIMER_LATENESS = Histogram("kap12_timer_lateness_seconds", "How long after its due time a timer fired.",
                           buckets=LATENESS_BUCKETS)

# The newest of the machine's sweepers ("max" over their processes, the stopped ones too): a
# monitor alerts when it is minutes old — no sweeper is finishing rounds, and no deadline fires.
SWEEP_FINISHED = Gauge("kap12_sweeper_last_round_timestamp_seconds",
                       "When a sweeper last finished a round without an error (Unix time).", multiprocess_mode="max")


def sweep_finished() -> None:
    SWEEP_FINISHED.set_to_current_time()


def step_done(seconds: float, events: list[tuple[str, dict]]) -> None:
    """A step committed: its time, and the timers it fired with how late each one was."""
    STEP_SECONDS.observe(seconds)
    STEPS.labels("ok").inc()
    for kind, data in events:
        if kind == "timer_fired":
            for timer_kind in data.get("kinds") or ["tid"]:
                TIMERS_FIRED.labels(timer_kind).inc()
            late = datetime.fromisoformat(data["fired_at"]) - datetime.fromisoformat(data["due_at"])
            TIMER_LATENESS.observe(max(0.0, late.total_seconds()))


def step_failed(outcome: str) -> None:
    """A step wrote nothing: "conflict" (another writer was first), "refused" (bad input, not
    allowed, gone) or "error" (a bug or the database)."""
    STEPS.labels(outcome).inc()
