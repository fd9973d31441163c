"""The timer sweeper (DESIGN.md rule 4).

Due timers are rows with a due time. A sweep claims a batch of due rows by setting a lease
(``claimed_until``) in a short transaction — with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
any number of sweepers take disjoint rows; on SQLite the single writer lock does the same —
and then advances each case through the one write path. A sweeper that dies mid-sweep leaves
leases that lapse, so its timers are fired by the next sweep, exactly once: firing happens in
the case's own transaction, which also deletes the row."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, or_, select, update

from engine.access import Viewer
from engine.errors import InvalidInput, Kap12Error, NotFound, database_trouble
from engine.runtime import metrics
from engine.store import history
from engine.store.events import INCIDENT, INCIDENT_RESOLVED
from engine.store.models import TIMER_ATTEMPTS, Case, PendingTimer
from engine.write import cases, checkpoints, lederforum, overdue, tally_folding, task_roles
from engine.write.unit_of_work import Actor
from engine.write.wakeup import Listener, announce
from processes.messages import Message

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

log = logging.getLogger("kap12.timers")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = TIMER_ATTEMPTS  # then an incident, shown until resolved (engine.read.incidents)
# A sweeper sleeps until the next due timer, but never longer than this: the outbox (mail) is
# sent on each round too, and a wake-up lost while the database restarted is caught up.
IDLE_SECONDS = 15.0
# SpiffWorkflow fires a timer once its due time has passed, strictly: wake just after it.
AFTER_DUE = timedelta(milliseconds=20)


@dataclass
class SweepResult:
    claimed: int = 0
    cases_advanced: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)


def _claim(kap12: Kap12, batch: int) -> list[tuple[str, int]]:
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        query = (select(PendingTimer.id, PendingTimer.case_id)
                 .where(PendingTimer.due_at <= now, PendingTimer.attempts < MAX_ATTEMPTS,
                        or_(PendingTimer.claimed_until.is_(None), PendingTimer.claimed_until < now))
                 .order_by(PendingTimer.due_at).limit(batch))
        if not kap12.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        rows = session.execute(query).all()
        if rows:
            session.execute(update(PendingTimer).where(PendingTimer.id.in_([r.id for r in rows]))
                            .values(claimed_until=now + LEASE))
    return [(r.id, r.case_id) for r in rows]


def _failed(kap12: Kap12, timer_ids: list[str], case_id: int, error: str) -> None:
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        for row in session.scalars(select(PendingTimer).where(PendingTimer.id.in_(timer_ids))):
            row.attempts += 1
            row.last_error = error[:2000]
            # Back off: 1, 2, 4, 8 … minutes before the next try.
            row.claimed_until = now + timedelta(minutes=2 ** (row.attempts - 1))
            if row.attempts >= MAX_ATTEMPTS:
                history.append(session, history.case_chain(case_id), kind=INCIDENT, at=now,
                               actor="kap12 (tidsur)", case_id=case_id,
                               data={"timer": row.name, "element": row.element_id, "error": error[:2000],
                                     "attempts": row.attempts})


def _release(kap12: Kap12, timer_ids: list[str]) -> None:
    """Give back leases of timers this sweeper took but will not fire (it is stopping)."""
    with kap12.db.writing() as session:
        session.execute(update(PendingTimer).where(PendingTimer.id.in_(timer_ids), PendingTimer.attempts == 0)
                        .values(claimed_until=None))


def next_due(kap12: Kap12) -> datetime | None:
    """When the next timer may be fired: its due time, or when its lease or back-off ends."""
    now = kap12.clock.now()
    with kap12.db.reading() as session:
        live = PendingTimer.attempts < MAX_ATTEMPTS
        free = session.scalar(select(func.min(PendingTimer.due_at)).where(
            live, or_(PendingTimer.claimed_until.is_(None), PendingTimer.claimed_until < now)))
        leased = session.scalar(select(func.min(PendingTimer.claimed_until)).where(
            live, PendingTimer.claimed_until >= now))
    due = [d for d in (free, leased) if d is not None]
    return min(due) if due else None


def sweep(kap12: Kap12, batch: int = 200, stop: threading.Event | None = None) -> SweepResult:
    """Fire what is due now, oldest first, case by case; one failing case blocks no other.
    With ``stop`` set meanwhile, the case being fired is finished and the rest given back."""
    result = SweepResult()
    task_roles.fill_unplaced(kap12.db)  # role rows the release before wrote, during an upgrade
    while True:
        claimed = _claim(kap12, batch)
        if not claimed:
            return result
        result.claimed += len(claimed)
        by_case: dict[int, list[str]] = {}
        for timer_id, case_id in claimed:
            by_case.setdefault(case_id, []).append(timer_id)
        queue = list(by_case.items())
        while queue:
            case_id, timer_ids = queue.pop(0)
            if stop is not None and stop.is_set():
                _release(kap12, timer_ids + [t for _case, ids in queue for t in ids])
                return result
            try:
                cases.fire_due_timers(kap12, case_id)
                result.cases_advanced += 1
            except Exception as err:  # noqa: BLE001 - a broken timer must not stop the others
                message = err.bokmal if isinstance(err, Kap12Error) else f"{type(err).__name__}: {err}"
                log.warning("timer on case %s failed: %s", case_id, message)
                result.failures.append((case_id, message))
                _failed(kap12, timer_ids, case_id, message)
        if len(claimed) < batch:
            return result


@dataclass
class Round:
    fired: SweepResult
    mailed: int = 0
    notices: int = 0  # written at their appointed time this round (lederforum, tasks past their deadline)


def one_round(kap12: Kap12, tally_rows: dict[tally_folding.Tally, int] | None = None,
              stop: threading.Event | None = None) -> Round:
    """One round of a sweeper: fire what is due, send the mail waiting, write what falls due at
    its time (a checkpoint, the week's lederforum notice, the day's notice of tasks past their
    deadline) and fold the tallies that grew (``tally_rows``: what each one's last fold left,
    updated; None for a round on its own). A sweeper runs rounds until stopped; ``kap12 timers
    --once`` runs one, so a county that sweeps from a scheduler gets the same notices.

    A sweeper leaves what falls due at its time to its next round while another holds the
    system lock, and goes on firing timers. A round on its own waits for the lock: it has
    nothing else to do, and it may not run again that day."""
    fired = sweep(kap12, stop=stop)
    if stop is not None and stop.is_set():
        return Round(fired)
    alone = tally_rows is None
    mailed = kap12.deliver_mail()
    checkpoints.write_if_due(kap12, wait=alone)
    notices = lederforum.send_if_due(kap12, wait=alone)  # the week's notice, before the mail of the next round
    notices += overdue.send_if_due(kap12, wait=alone)  # the day's tasks past their deadline, likewise
    left = dict.fromkeys(tally_folding.TALLIES, 0) if tally_rows is None else tally_rows
    for tally, rows in left.items():
        left[tally] = tally_folding.fold_if_grown(kap12.db, rows, tally)
    return Round(fired, mailed, notices)


class Sweeper(threading.Thread):
    """Sweeps, then sleeps until the next timer is due or a step writes a sooner one (inside
    ``kap12 serve`` for the embedded default, or in ``kap12 timers``). ``stop()`` lets the case
    being fired finish and gives the rest back, so stopping loses nothing."""

    def __init__(self, kap12: Kap12, idle: float = IDLE_SECONDS) -> None:
        super().__init__(name="kap12-sweeper", daemon=True)
        self.kap12, self.idle = kap12, idle
        self.rounds = 0  # sweeps done; a test sees the sweeper woke
        self.tally_rows: dict[tally_folding.Tally, int] = dict.fromkeys(tally_folding.TALLIES, 0)  # each one's last fold left
        self._stop_event = threading.Event()
        self._listener = Listener(kap12.settings.database_url, kap12.wakeup, kap12.db.is_sqlite)

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                self.sweep_once()
                self.sleep()
        finally:
            self._listener.close()

    def sleep(self) -> None:
        """Until the next timer is due or the idle time is up; every wake-up (a step wrote a
        timer, or SQLite's poll) only re-reads the next due time, which writes nothing."""
        idle_until = time.monotonic() + self.idle
        while not self._stop_event.is_set():
            seconds = min(self.seconds_to_sleep(), idle_until - time.monotonic())
            if seconds <= 0:
                return
            self._listener.wait(seconds)

    def sweep_once(self) -> None:
        try:
            result = one_round(self.kap12, self.tally_rows, self._stop_event).fired
            metrics.sweep_finished()
            if result.claimed:
                log.info("fired timers on %d case(s), %d failure(s)", result.cases_advanced, len(result.failures))
        except Exception as err:  # noqa: BLE001 - keep sweeping; the database may be back next time
            trouble = database_trouble(err)
            if trouble:  # one line a round while the database is away, not a traceback
                log.warning("timer sweep failed: %s", trouble)
            else:
                log.exception("timer sweep failed")
        self.rounds += 1

    def seconds_to_sleep(self) -> float:
        if self._stop_event.is_set():
            return 0.0
        try:
            due = next_due(self.kap12)
        except Exception as err:  # noqa: BLE001 - the database is away: try again after the idle time
            trouble = database_trouble(err)
            log.warning("could not read the next due timer: %s", trouble, exc_info=trouble is None)
            return self.idle
        if due is None:
            return self.idle
        seconds = (due + AFTER_DUE - self.kap12.clock.now()).total_seconds()
        return min(self.idle, max(0.0, seconds))

    def stop(self) -> None:
        self._stop_event.set()
        self.kap12.wakeup.notify()
        if not self.kap12.db.is_sqlite:  # a sweeper asleep on LISTEN hears only PostgreSQL
            try:
                with self.kap12.db.writing() as session:
                    announce(session, False)
            except Exception:  # noqa: BLE001 - the database is away: it wakes after the idle time
                log.warning("could not wake the sweeper to stop it", exc_info=True)


def run_forever(kap12: Kap12, stop: threading.Event, idle: float = IDLE_SECONDS) -> None:
    """``kap12 timers``: one sweeper in the foreground until ``stop`` is set (SIGTERM, Ctrl+C)."""
    sweeper = Sweeper(kap12, idle)
    sweeper.start()
    stop.wait()
    sweeper.stop()
    sweeper.join()


def resolve_incident(kap12: Kap12, actor: Viewer | Actor, timer_id: str, note: str,
                     within: ColumnElement[bool]) -> None:
    """Someone fixed the cause (a diagram, a bug): let the sweeper try again, and record it.
    Only an incident of a case ``within`` what ``actor`` may resolve."""
    if not (note or "").strip():
        raise InvalidInput(Message("Skriv hva som er gjort."), {"note": ["Beskriv hva som ble rettet."]})
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        row = session.scalars(select(PendingTimer).join(Case, Case.id == PendingTimer.case_id)
                              .where(PendingTimer.id == timer_id, within)).first()
        if row is None or row.attempts < MAX_ATTEMPTS:
            raise NotFound(Message("Fant ingen slik hendelse (feil) å løse."))
        row.attempts, row.claimed_until, error = 0, None, row.last_error
        history.append(session, history.case_chain(row.case_id), kind=INCIDENT_RESOLVED, at=now,
                       actor_id=actor.id, actor=actor.name, case_id=row.case_id,
                       data={"timer": row.name, "element": row.element_id, "error": error, "note": note.strip()})
