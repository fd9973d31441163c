"""``Kap12``: the engine as the web UI, the CLI and the tests use it. It wires the database,
the clock, the spec cache and the write path together; the acts themselves live in
``cases``, ``definitions`` and ``timers``."""
from __future__ import annotations

from collections.abc import Callable

from engine import access
from engine.access import Viewer
from engine.audit import integrity
from engine.config import Settings
from engine.errors import Denied
from engine.outputs.mailer import deliver_pending
from engine.read import case_counts, case_detail, incidents, paging, queries
from engine.read import measures as read_measures
from engine.read.case_list import STATUSES, CaseSummary, case_summaries, case_summary_page, status_counts
from engine.read.deadline_report import DeadlineRow, deadlines
from engine.read.readiness import readiness
from engine.runtime import spiff
from engine.runtime.clock import SYSTEM_CLOCK, Clock, use_clock
from engine.store import directory, history
from engine.store.db import Database
from engine.store.events import REVIEWED
from engine.store.models import Case, HistoryEvent, Notification, OpenTask, PendingTimer
from engine.versions import definitions, form_catalog
from engine.versions.form_catalog import FormCatalog
from engine.write import (
    cases,
    checkpoints,
    endings,
    evaluation,
    grants,
    lederforum,
    measures,
    notes,
    notify,
    overdue,
    owner_notice,
    parties,
    prevention,
    publish,
    timers,
)
from engine.write.unit_of_work import Actor, CaseWriter
from engine.write.wakeup import Wakeup
from processes import forms
from processes.forms import FORMS_FOLDER
from processes.messages import Message


class Kap12:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None):
        self.settings = settings or Settings.from_env()
        self.clock = clock or SYSTEM_CLOCK
        use_clock(self.clock)
        self.history_keys = history.HistoryKeys.from_settings(self.settings.history_key,
                                                              self.settings.history_old_keys)
        self.db = Database(self.settings.database_url, {history.SESSION_KEYS: self.history_keys})
        self.specs = definitions.SpecCache()
        self.script_engine = spiff.script_engine(self.clock)
        self.wakeup = Wakeup()  # steps that write a timer wake this process's sweepers
        self.writer = CaseWriter(self.db, self.clock, self.specs, self.script_engine, self.wakeup)
        self.forms = FormCatalog(self.db)

    # -- set-up ---------------------------------------------------------------------------
    def init(self) -> list[definitions.DeployResult]:
        """Create or upgrade the schema and deploy the bundled diagrams (idempotent)."""
        self.db.upgrade()
        self.import_bundled_forms()
        return self.deploy(definitions.bundled_files(self.settings.bpmn_dir), actor=None,
                           comment="Diagrammene som følger med kap12")

    def import_bundled_forms(self) -> list[form_catalog.PublishResult]:
        """Store the bundled form declarations whose content is new (idempotent)."""
        return publish.import_bundled_forms(self, FORMS_FOLDER)

    def publish_form(self, viewer: Viewer, declaration: dict, comment: str) -> form_catalog.PublishResult:
        return publish.publish_form(self, viewer, declaration, comment)

    def deploy(self, files: list[tuple[str, bytes]], actor: Viewer | None,
               comment: str) -> list[definitions.DeployResult]:
        return publish.deploy(self, files, actor, comment)

    def withdraw_version(self, actor: access.Viewer, process_id: str, number: int, reason: str) -> None:
        """Withdraw a deployed version that no case uses, as a logged act in the system history."""
        publish.withdraw_version(self, actor, process_id, number, reason)

    # -- who is asking ----------------------------------------------------------------------
    def viewer(self, username: str) -> Viewer:
        with self.db.reading() as session:
            user = directory.active_user(session, username)
            if user is None:
                raise directory.no_such_user(username)
            return Viewer.of(user)

    # -- acts (each one transaction through the write path) --------------------------------
    def report(self, viewer: Viewer, school_id: int, report: dict, *, read_as: str | None = None) -> Case:
        """Register a report; ``read_as``: the reporter reads the new case's status at once, and
        the read is recorded in the same step."""
        return cases.start_case(self, viewer, school_id, report, read_as)

    def claim(self, viewer: Viewer, task_id: str) -> Case:
        return cases.claim(self, viewer, task_id)

    def release(self, viewer: Viewer, task_id: str) -> Case:
        return cases.release(self, viewer, task_id)

    def complete(self, viewer: Viewer, task_id: str, data: dict) -> Case:
        return cases.complete(self, viewer, task_id, data)

    def form_warnings(self, form: forms.Form, data: dict) -> list[str]:
        """Sentences about accepted values that look wrong (a date far ahead), to show after a
        step; they never refuse it."""
        return forms.warnings(form, data, cases.today(self))

    def reclassify(self, viewer: Viewer, case_id: int, offender: str, reason: str, accused: str | None = None) -> Case:
        return cases.reclassify(self, viewer, case_id, offender, reason, accused)

    def end_case(self, viewer: Viewer, case_id: int, data: dict) -> Case:
        """End the case otherwise than "the pupil is safe" (left the school, joined, outside ch. 12)."""
        return endings.end_otherwise(self, viewer, case_id, data)

    def identify_accused(self, viewer: Viewer, case_id: int, username: str, reason: str = "") -> Case:
        return parties.identify_accused(self, viewer, case_id, username, reason)

    def grant_access(self, viewer: Viewer, case_id: int, username: str, reason: str, until: object) -> Case:
        return grants.grant(self, viewer, case_id, username, reason, until)

    def withdraw_access(self, viewer: Viewer, case_id: int, grant_id: int, reason: str = "") -> Case:
        return grants.withdraw(self, viewer, case_id, grant_id, reason)

    def record_measure(self, viewer: Viewer, measure_id: int, status: str, note: str) -> Case:
        """The colleague responsible (or one who leads the case) records whether a measure was carried out."""
        return measures.record(self, viewer, measure_id, status, note, read_measures.status_labels(self))

    def evaluate_now(self, viewer: Viewer, case_id: int, reason: str) -> Case:
        """Open the evaluation before the plan's date, because things changed (recorded with why)."""
        return evaluation.evaluate_now(self, viewer, case_id, reason)

    def ask_owner_notice(self, viewer: Viewer, case_id: int, reason: str) -> Case:
        """In A, once the receipt has passed: ask rektor to notify the school owner, because the
        case has turned out serious (recorded with why)."""
        return owner_notice.ask_owner_notice(self, viewer, case_id, reason)

    def add_note(self, viewer: Viewer, case_id: int, text: str, corrects: int | None = None) -> Case:
        """A note in the case between its steps, or a correction of an earlier step (a new
        record: nothing is changed or deleted)."""
        return notes.add_note(self, viewer, case_id, text, corrects)

    def case_grants(self, case_id: int) -> list[grants.GrantView]:
        """Every access grant of the case; pages show them to those who lead it and to auditors."""
        return grants.grants_of(self, case_id)

    def record_review(self, viewer: Viewer, case_ids: list[int], comment: str = "") -> int:
        """The weekly leadership forum went through these cases: one 'reviewed' event on each,
        through the write path. Cases the viewer may not see are skipped, not revealed."""
        if access.is_read_only(viewer):
            raise Denied(Message("Revisorer kan ikke registrere gjennomgang."))
        done = 0
        for case_id in case_ids:
            with self.db.reading() as session:
                if access.access_level(session, viewer, case_id) != access.FULL:
                    continue
            self.writer.step(case_id, Actor(viewer.id, viewer.name),
                             lambda step: step.record(REVIEWED, forum="lederforum", comment=(comment or "").strip()))
            done += 1
        return done

    def send_lederforum_notices(self) -> int:
        """This week's lederforum notice to every leader with open cases, once a week (the
        sweeper calls it each round); the number written now."""
        return lederforum.send_if_due(self)

    def send_overdue_notices(self) -> int:
        """Today's notice of the tasks still open past their deadline, to each person they fall
        or were escalated to, once a working day (the sweeper calls it each round); the number
        written now."""
        return overdue.send_if_due(self)

    def start_prevention_cycle(self, viewer: Viewer | None, school_id: int, school_year: int) -> Case:
        """``viewer`` None: the system (the command line, the demo), which may start any school's cycle."""
        return prevention.start_cycle(self, viewer, school_id, school_year)

    def prevention_cycles(self, viewer: Viewer) -> list[Case]:
        return prevention.cycles_for(self, viewer)

    def sweep_timers(self) -> timers.SweepResult:
        return timers.sweep(self)

    def sweep_round(self) -> timers.Round:
        """One whole round of a sweeper (``kap12 timers --once``): the timers, the mail, and the
        notices and checkpoint that fall due at their time."""
        return timers.one_round(self)

    def incidents(self, viewer: Viewer, cursor: str | None = None,
                  limit: int | None = None) -> paging.Page[incidents.Incident]:
        """One page of the incidents of the cases the viewer operates, those due first first."""
        if not access.may_handle_incidents(viewer):
            raise Denied(Message("Bare administratorer og prosesseiere ser feil i tidsfrister."))
        with self.db.reading() as session:
            return incidents.incident_page(session, access.operated(viewer), cursor, limit)

    def resolve_incident(self, viewer: Viewer, timer_id: str, note: str) -> None:
        if not access.may_handle_incidents(viewer):
            raise Denied(Message("Bare administratorer og prosesseiere kan løse feil i tidsfrister."))
        timers.resolve_incident(self, viewer, timer_id, note, access.operated(viewer))

    # -- reads (each asks the access policy) -------------------------------------------------
    def tasks_for(self, viewer: Viewer) -> list[OpenTask]:
        with self.db.reading() as session:
            return case_detail.tasks_to_do(session, viewer)

    def cases_for(self, viewer: Viewer, status: str | None = None, *, procedure: str | None = None,
                  school: str | None = None, search: str | None = None) -> list[CaseSummary]:
        """The cases the viewer may see, newest first, filtered in the query itself."""
        with self.db.reading() as session:
            return case_summaries(session, within=access.visible_cases(viewer), status=status,
                                  procedure=procedure, school=school, search=search)

    def case_page(self, viewer: Viewer, status: str | None = None, *, procedure: str | None = None,
                  school: str | None = None, search: str | None = None, cursor: str | None = None,
                  limit: int | None = None) -> paging.Page[CaseSummary]:
        """One page of the cases the viewer may see, newest first, filtered and paged in SQL. The
        viewer's own cases are found first (``access.with_reach``), as their ids, and the cases
        they reported are paged apart (``access.visible_parts``): asked within the list, a
        teacher's 2,500 reported cases were each looked up and sorted for a page of a hundred."""
        with self.db.reading() as session:
            viewer = access.with_reach(session, viewer)
            status = status or None  # "": every status, as ``cases_for`` takes it
            if status is not None and status not in STATUSES:
                return paging.Page([], None)  # no case has it (the pages and the API offer only these)
            return case_summary_page(session, access.visible_parts(viewer, status), procedure=procedure,
                                     school=school, search=search, cursor=cursor, limit=limit)

    def with_reach(self, viewer: Viewer) -> Viewer:
        """The viewer with the cases they reach found once, for a read-only page that asks
        several lists and counts of them (``access.with_reach``)."""
        with self.db.reading() as session:
            return access.with_reach(session, viewer)

    def case_status_counts(self, viewer: Viewer, *, procedure: str | None = None, school: str | None = None,
                           search: str | None = None, cap: int | None = None) -> dict[str, int]:
        """How many of the cases the viewer may see (filtered) are open and closed: exactly, from
        the status tallies; searched by number, counted (each up to ``cap + 1`` when a cap is given)."""
        if not search:
            with self.db.snapshot() as session:  # tallies less and plus cases: one snapshot
                return case_counts.status_counts(session, viewer, procedure=procedure, school=school)
        with self.db.reading() as session:
            return status_counts(session, within=access.visible_cases(viewer), procedure=procedure,
                                 school=school, search=search, cap=cap)

    def case(self, viewer: Viewer, case_id: int, *, view: str = "case",
             refuse: Callable[[Case, str], None] | None = None) -> tuple[Case, str]:
        """The case with the viewer's access level; the read itself is recorded. ``refuse``
        (case, level) raises for a viewer who may not have this view (a reporter asking for a
        document or the export): before the read is recorded, so the read log never says
        someone had what they were refused."""
        return cases.read_case(self, viewer, case_id, view, refuse)

    def case_diagrams(self, viewer: Viewer, case_id: int) -> list[queries.DiagramProcess]:
        """The case's diagrams with the steps done and open: a read of the case like its page
        (it tells how far the case has come), recorded as such."""
        found = queries.case_diagrams(self, viewer, case_id)
        cases.record_read(self, viewer, case_id, "diagram")
        return found

    def case_tasks(self, case_id: int) -> list[OpenTask]:
        with self.db.reading() as session:
            return case_detail.open_tasks(session, case_id)

    def case_handled(self, case: Case) -> bool:
        """What the reporter is told of the work on their case: the school is handling it (a
        task is open, or the measures run until the plan's evaluation date), or it is over.
        Told only from the open tasks, a case waiting for its evaluation read «Venter på at
        noen tar den» while its measures were carried out."""
        if case.status == "closed":
            return True
        with self.db.reading() as session:
            return case_detail.in_hand(session, case.id)

    def case_timers(self, case_id: int) -> list[PendingTimer]:
        with self.db.reading() as session:
            return case_detail.pending_timers(session, case_id)

    def case_history(self, case_id: int, reads: bool = True) -> list[HistoryEvent]:
        with self.db.reading() as session, history.readable():
            return case_detail.case_history(session, case_id, reads)

    def case_history_page(self, case: Case, reads: bool = True, cursor: str | None = None,
                          limit: int | None = None) -> tuple[paging.Page[HistoryEvent], int]:
        """One page of the case's events, oldest first, up to its chain's head as ``case`` holds
        it (``case_detail.history_page``), and how often it was opened: for a caller that has
        checked the viewer's access and recorded the read (``case``)."""
        with self.db.reading() as session, history.readable():
            return (case_detail.history_page(session, case.id, reads, cursor, limit, case.chain_seq),
                    case_detail.read_count(session, case.id))

    def case_reads(self, case_id: int, limit: int) -> tuple[int, list[HistoryEvent]]:
        """How often the case was opened, and the latest openings (newest first)."""
        with self.db.reading() as session, history.readable():
            return case_detail.case_reads(session, case_id, limit)

    def notices_for(self, viewer: Viewer, unread_only: bool = False, limit: int = 50) -> list[Notification]:
        with self.db.reading() as session:
            return case_detail.notices(session, viewer, unread_only, limit)

    def notice_page(self, viewer: Viewer, cursor: str | None = None,
                    limit: int | None = None) -> paging.Page[Notification]:
        """One page of the viewer's notices, newest first."""
        with self.db.reading() as session:
            return case_detail.notice_page(session, viewer, cursor, limit)

    def unread_count(self, viewer: Viewer) -> int:
        with self.db.reading() as session:
            return case_detail.unread_count(session, viewer)

    def mark_notices_read(self, viewer: Viewer, ids: list[int] | None = None) -> None:
        notify.mark_read(self, viewer, ids)

    def deliver_mail(self) -> int:
        return deliver_pending(self)

    def case_deadlines(self, case_id: int, events: list[HistoryEvent] | None = None) -> list[DeadlineRow]:
        """The case's deadlines, met and missed, from its history (``events``, when the caller
        has read it already without the reads)."""
        return deadlines(events if events is not None else self.case_history(case_id, reads=False), self.clock.now())

    def verify(self, case_ids: list[int] | None = None) -> list[integrity.ChainReport]:
        return self.verify_history(case_ids).chains

    def verify_history(self, case_ids: list[int] | None = None,
                       kept_digest: str | None = None) -> integrity.IntegrityReport:
        """Every chain (or the given cases'), their heads and the latest checkpoint (and the one
        whose digest was kept outside the database); never raises on bad data."""
        with self.db.reading() as session:
            return integrity.check(session, self.history_keys, case_ids or None, kept_digest)

    def verify_system_chain(self, viewer: access.Viewer, kept_digest: str | None = None
                            ) -> integrity.SystemCheck | None:
        """The system chain checked, and the checkpoint with a digest kept outside the database
        looked for (Systemhistorikk: its readers; None for anyone else). It reads the whole
        chain: 3.5 s for 20,000 checkpoints at 100,000 cases (``integrity.check_system``)."""
        if not access.may_read_system_history(viewer):
            return None
        with self.db.reading() as session:
            return integrity.check_system(session, self.history_keys, kept_digest)

    def write_checkpoint(self) -> checkpoints.CheckpointWritten | None:
        return checkpoints.write(self)

    def readiness(self) -> str:
        """READY, or why not (the database does not answer, or its schema is behind this code)."""
        return readiness(self.db)

    def close(self) -> None:
        self.db.dispose()
