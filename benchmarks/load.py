"""A load test: Locust (headless, as a library) against ``kap12 serve`` (gunicorn) on PostgreSQL
with 1, 2 and 4 web workers and two sweepers beside them. A realistic mix through the API:
teachers report, leaders list their tasks, open a case and complete a task. Prints requests per
second, reports and task completions per second, and latency percentiles for each worker count.

The simulated staff work at several schools of one county (``--schools``), in turn, each as its
school's teacher and rektor: a county's load comes from many schools. With them all at one school
(``--schools 1``), two dozen people acting as one rektor reach for the same twenty tasks, and
about a quarter of the completions tried were refused because another had just done the task
(measured: 217 completions and 207 task openings refused in 30 s, against 64 and 44 at 8
schools): that measures the refusals more than the writes.

The runs start from a county in use (``--backlog``, see ``_backlog``): open cases at each school,
the tables settled as autovacuum keeps them; not from an empty database whose statistics say so
while the runs fill it.

This machine's speed varies from day to day, so the figures come with a yardstick measured in
the same run: the lean bare SpiffWorkflow step (``engine.py``'s (a'), before and after the runs),
and for each run the CPU the whole machine spent per report and completion, in milliseconds and
in lean steps (Linux's /proc/stat: every process on the machine, Locust's own included).

Timer lateness under load is read from the sweepers' own metrics (``kap12 timers --metrics-port``,
``kap12_timer_lateness_seconds``).
Before each run the benchmark makes reports as if two hours earlier (its clock set back, through
the ordinary write path): their receipt reminders then fall due during the run, spread over it,
and the sweepers fire them while the load goes on. The bundled reminder counts two *working*
hours, so outside working hours none would fall due; the benchmark's county therefore deploys,
as a process owner could, procedure A with that one reminder counted in clock hours
(``klokketimer(2)``, calendar ``klokke``): the same timer, sweeper and step, due at any hour.

Needs the bench extra (``pip install -e '.[bench]'``; ``make bench`` installs it).

Run: .venv/bin/python benchmarks/load.py [--workers 1,2,4] [--threads 2] [--users 8] [--seconds 20]
[--schools 8] [--backlog 500] [--mix staff|writes]"""
from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path

import gevent

# Locust patches the standard library with gevent when imported: before anything else.
from locust import FastHttpUser, between  # noqa: I001
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from _common import (  # noqa: E402
    api_tokens,
    county_schools,
    engine_at,
    postgres_database,
    row,
    school_staff,
    settle_tables,
    staff_username,
)
from _steps import lean_step_ms  # noqa: E402

from engine.runtime.clock import Clock  # noqa: E402
from engine.versions.example_data import example_data  # noqa: E402
from engine.write.demo import ensure_directory, report_data  # noqa: E402
from processes import forms  # noqa: E402


@dataclass(frozen=True)
class Place:
    """A school under load: its id, its teacher's username, and the API tokens of its teacher and
    its rektor."""

    school_id: int
    teacher: str
    tokens: dict[str, str]


PLACES: list[Place] = []
TURNS = count()  # each simulated user works at the next school in turn


class _Client(FastHttpUser):
    """What a member of staff can do through the API; the mixes below weigh it. (Locust's
    geventhttpclient user: its requests-based one spent a core of this two-core machine on
    itself at 70 requests/s, taken from the servers it measures.) No method here is a
    ``@task``: Locust adds a base class's tasks to every subclass's own, and the writes mix
    must be only writes."""

    abstract = True
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.place = PLACES[next(TURNS) % len(PLACES)]

    def _as(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.place.tokens[who]}"}

    def report(self):
        body = {**report_data(), "school_id": self.place.school_id}
        self.client.post("/api/v1/cases", json=body, headers=self._as("ansatt"), name="report")

    def list_tasks(self):
        self.client.get("/api/v1/tasks?limit=20", headers=self._as("rektor"), name="list tasks")

    def open_case(self):
        page = self.client.get("/api/v1/cases?limit=20", headers=self._as("rektor"), name="list cases").json()
        if page.get("items"):
            case = random.choice(page["items"])
            self.client.get(f"/api/v1/cases/{case['id']}", headers=self._as("rektor"), name="open case")

    def complete(self):
        tasks = self.client.get("/api/v1/tasks?limit=20", headers=self._as("rektor"), name="list tasks").json()
        items = tasks.get("items") or []
        if not items:
            return
        chosen = random.choice(items)
        with self.client.get(f"/api/v1/tasks/{chosen['id']}", headers=self._as("rektor"), name="show task",
                             catch_response=True) as detail:
            if _lost_race(detail, 410):  # done by another user since the list was read
                return
        data = example_data(forms.get_form(chosen["form_key"]))
        with self.client.post(f"/api/v1/tasks/{chosen['id']}/complete", json=data, headers=self._as("rektor"),
                              name="complete", catch_response=True) as response:
            _lost_race(response, 404, 409)


class Staff(_Client):
    """One member of staff: mostly reading, some reporting, some completing."""

    tasks = {_Client.report: 2, _Client.list_tasks: 4, _Client.open_case: 2, _Client.complete: 2}


class Writer(_Client):
    """Only what writes: a report, or a task completed (found through the task list, as a
    client must). ``--mix writes`` measures how many writes the servers take."""

    tasks = [_Client.report, _Client.complete]


LOST: Counter[str] = Counter()


def _lost_race(response, *codes: int) -> bool:
    """Several users work on each school's tasks: between reading the list and acting, another
    may have done the task. The server's plain refusal is the right answer (nothing is changed), so
    it is counted apart from failures."""
    if response.status_code in codes:
        response.success()
        LOST[response.request_meta["name"]] += 1
        return True
    return False


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(base: str, process) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit("kap12 serve did not start")
        time.sleep(0.2)
    raise SystemExit("kap12 serve did not become ready")


TIMERS_PER_RUN = 20


def _busy_cpu_seconds() -> float:
    """The CPU time the whole machine has spent busy so far, over all its cores and processes
    (Linux's /proc/stat: user, nice, system and interrupts; not idle, waiting on the disk, or
    stolen by the host)."""
    user, nice, system, _idle, _iowait, irq, softirq = (int(n) for n in Path("/proc/stat").read_text().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


OTHER_SCHOOL = "Sørbakken videregående skole"


def _places(kap12, schools: int) -> list[Place]:
    """``schools`` schools of one county for the load, the demo's Nordli first, each with its
    own teacher and rektor (``school_staff``). Not Sørbakken: the timers' reports are made there
    (``_timers_due_during``), and no one under load may complete their tasks."""
    other = ensure_directory(kap12).schools[OTHER_SCHOOL]
    ids = [s for s in county_schools(kap12, schools + 1) if s != other][:schools]
    school_staff(kap12, ids)
    places = []
    for n, school_id in enumerate(ids):
        names = {who: who if n == 0 else staff_username(who, school_id) for who in ("ansatt", "rektor")}
        tokens = api_tokens(kap12, names.values(), "load")
        places.append(Place(school_id, names["ansatt"], {who: tokens[name] for who, name in names.items()}))
    return places


def _backlog(url: str, folder: Path, places: list[Place], per_school: int) -> None:
    """The county as it is on a day of its use, not as installed a moment ago: ``per_school``
    open cases at each school under load, reported through the write path by its teacher in the
    minute before the runs (their deadlines and reminders hours and days ahead, as a county's
    are: none falls due during a run), and the tables as autovacuum keeps them
    (``settle_tables``). From an empty database, the planner's statistics said the tables were
    empty all through a run (autovacuum looks once a minute), and the plans PostgreSQL keeps for
    a connection's prepared statements were those for empty tables while the run filled them: the
    task list's lookup of its tasks' roles read the whole table, 2.5 ms a request by the end of a
    40-second run against 0.2 ms by its index (``--backlog 0`` measures that start)."""
    if per_school == 0:
        return
    from sqlalchemy import update

    from engine.store.models import Notification

    clock = Clock()
    clock.set(datetime.now(timezone.utc))
    kap12 = engine_at(folder, clock=clock, url=url)
    try:
        people = ensure_directory(kap12).users  # everyone, the other schools' staff too
        started = time.perf_counter()
        for place in places:
            for _ in range(per_school):
                clock.set(datetime.now(timezone.utc))
                kap12.report(people[place.teacher], place.school_id, report_data())
        with kap12.db.writing() as session:  # mailed as they were made, as a county's sweepers do
            session.execute(update(Notification).where(Notification.waiting_for_mail()).values(mailed_at=clock.now()))
        settle_tables(kap12)
        row(f"the county in use: {per_school} open cases at each of the {len(places)} schools",
            f"made in {time.perf_counter() - started:.0f} s")
    finally:
        kap12.close()


def _lateness(ports: list[int]) -> str:
    text = ""
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text += r.read().decode()
    count = sum(float(line.split()[-1]) for line in text.splitlines()
                if line.startswith("kap12_timer_lateness_seconds_count"))
    if not count:
        return "no timer fell due during the run"
    def within(bound: str) -> float:
        return sum(float(line.split()[-1]) for line in text.splitlines()
                   if line.startswith(f'kap12_timer_lateness_seconds_bucket{{le="{bound}"}}'))

    return (f"{int(count)} fired: {within('0.25') / count:.0%} within 0.25 s, {within('0.5') / count:.0%} "
            f"within 0.5 s, {within('1.0') / count:.0%} within 1 s of due")


RECEIPT_REMINDER = re.compile(r'<bpmn:boundaryEvent id="Timer_paminnelse_mottak".*?</bpmn:boundaryEvent>', re.S)


def _reminder_in_clock_hours(kap12) -> None:
    """Deploy procedure A with the receipt reminder counted in clock hours (see above)."""
    bundled = (ROOT / "bpmn" / "prosedyre_a.bpmn").read_text(encoding="utf-8")

    def in_clock_hours(timer: re.Match) -> str:
        text = timer.group(0).replace('name="kap12.kalender" value="fylke"', 'name="kap12.kalender" value="klokke"')
        return text.replace(">arbeidstimer(2)<", ">klokketimer(2)<")

    variant, found = RECEIPT_REMINDER.subn(in_clock_hours, bundled)
    if found != 1 or "klokketimer(2)" not in variant:
        raise SystemExit("the receipt reminder of bpmn/prosedyre_a.bpmn is not where the benchmark expects it")
    kap12.deploy([("prosedyre_a.bpmn", variant.encode())], None,
                 "Lasttest: påminnelsen om mottak regnes i klokketimer, så den forfaller når som helst på døgnet")


def _timers_due_during(url: str, folder: Path, start: datetime, seconds: float, count: int) -> None:
    """Reports made as if two hours before ``start`` + a share of ``seconds``: their receipt
    reminders fall due during the run."""
    clock = Clock()
    clock.set(start)
    kap12 = engine_at(folder, clock=clock, url=url)
    try:
        people = ensure_directory(kap12)
        for i in range(count):
            due = start + timedelta(seconds=seconds * (i + 1) / (count + 1))
            clock.set(due - timedelta(hours=2))
            # At the other school, whose tasks the load's leader never completes: the reminder
            # must not be cancelled by the task being done before it falls due.
            kap12.report(people.users["ansatt3"], people.schools[OTHER_SCHOOL], report_data())
    finally:
        kap12.close()


def run(url: str, folder: Path, workers: int, users: int, seconds: float, mix: type[_Client], threads: int,
        lean_ms: float) -> None:
    # The servers' environment, with this run's database and folder.
    env = {**os.environ, "KAP12_DATABASE_URL": url, "KAP12_INSTANCE_DIR": str(folder / f"w{workers}")}  # noqa: TID251
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "webui.cli", "serve", "--port", str(port), "--workers",
                               str(workers), "--threads", str(threads), "--no-sweeper"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sweeper_ports = [_free_port() for _ in range(2)]  # each shows its own metrics, as on a machine of its own
    sweepers = [subprocess.Popen([sys.executable, "-m", "webui.cli", "timers", "--metrics-port", str(p)], env=env,
                                 cwd=ROOT, stdout=subprocess.DEVNULL) for p in sweeper_ports]
    try:
        _wait_ready(base, server)
        lead = 12.0  # the seeding takes a few seconds: the first timer falls due after it
        due_from = datetime.now(timezone.utc) + timedelta(seconds=lead)
        _timers_due_during(url, folder, due_from, seconds, TIMERS_PER_RUN)
        mix.host = base
        LOST.clear()
        environment = Environment(user_classes=[mix])
        runner = environment.create_local_runner()
        busy_from = _busy_cpu_seconds()
        runner.start(users, spawn_rate=users)
        gevent.sleep(max(0.0, (due_from - datetime.now(timezone.utc)).total_seconds()) + seconds + 2)
        runner.quit()
        busy = _busy_cpu_seconds() - busy_from
        stats = environment.stats
        total = stats.total
        per = {name: stats.get(name, method) for name, method in
               (("report", "POST"), ("complete", "POST"))}
        row(f"{workers} worker(s): requests/s", f"{total.total_rps:8.1f}")
        row("  reports/s, task completions/s",
            f"{per['report'].total_rps:6.1f}, {per['complete'].total_rps:6.1f}")
        row("  latency p50 / p95 / p99 (all requests)",
            f"{total.get_response_time_percentile(0.5):.0f} / {total.get_response_time_percentile(0.95):.0f} / "
            f"{total.get_response_time_percentile(0.99):.0f} ms")
        # What a report with a completion cost the machine, in its own time and in lean bare
        # steps measured the same day: a figure that says more than the rates across days.
        # (A completion refused because another user had just done the task is no completion.)
        pairs = (per["report"].num_requests + per["complete"].num_requests - LOST["complete"]) / 2
        if pairs:
            cost = busy * 1000 / pairs
            row("  the machine's CPU per report and completion (all its processes)",
                f"{cost:6.1f} ms = {cost / lean_ms:.1f} lean bare steps")
        row("  failures", f"{total.num_failures} of {total.num_requests}")
        for error in sorted(environment.stats.errors.values(), key=lambda e: -e.occurrences):
            row(f"    {error.method} {error.name}", f"{error.occurrences} x {str(error.error)[:70]}")
        row("  lost races (the task was done by another user first; refused, nothing changed)",
            ", ".join(f"{name} {n}" for name, n in sorted(LOST.items())) or "none")
        row(f"  timer lateness (2 sweepers; {TIMERS_PER_RUN} due during the run)", _lateness(sweeper_ports))
    finally:
        for process in [server, *sweepers]:
            process.terminate()
        for process in [server, *sweepers]:
            process.wait(60)


def _whole(least: int):
    """An argument type: a whole number, ``least`` or more."""
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < least:
            raise argparse.ArgumentTypeError(f"a whole number, {least} or more")
        return int(text)

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--users", type=int, default=8, help="simulated staff at once")
    parser.add_argument("--schools", type=_whole(1), default=8,
                        help="schools the users are spread over, in turn (1: all of them at one school, "
                             "reaching for the same tasks)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per worker count")
    parser.add_argument("--threads", type=int, default=2, help="threads per web worker (kap12 serve --threads)")
    parser.add_argument("--backlog", type=_whole(0), default=500,
                        help="open cases at each school before the runs, the tables then analyzed as autovacuum "
                             "would have (0: the runs start from an empty county)")
    parser.add_argument("--mix", choices=("staff", "writes"), default="staff",
                        help="staff: mostly reading (the default); writes: only reports and completions")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kap12-load-"))
    with postgres_database("load") as url:
        kap12 = engine_at(folder, url=url)
        _reminder_in_clock_hours(kap12)
        PLACES.extend(_places(kap12, args.schools))
        kap12.close()
        print(f"kap12 under load (Locust, {args.mix} mix, {args.users} users at {args.schools} school(s), "
              f"{args.seconds:g} s per run, PostgreSQL, 2 sweepers) [targets: >= 50 reports/s and completions/s, "
              "p95 < 300 ms, lateness p99 <= 1 s]")
        _backlog(url, folder, PLACES, args.backlog)
        # This machine's speed varies from day to day: the lean bare SpiffWorkflow step
        # (engine.py's (a')) measured now, before and after the runs, is the yardstick.
        lean_ms = lean_step_ms()
        row("the lean bare SpiffWorkflow step on this machine now (engine.py's (a'))", f"{lean_ms:6.2f} ms")
        for workers in (int(w) for w in args.workers.split(",")):
            run(url, folder, workers, args.users, args.seconds, Writer if args.mix == "writes" else Staff, args.threads,
                lean_ms)
        row("the lean bare step again, after the runs", f"{lean_step_ms():6.2f} ms")


if __name__ == "__main__":
    main()
