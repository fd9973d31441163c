"""``Kap12``: the engine as the web UI, the CLI and the tests use it. It wires the database,
the clock, the spec cache and the write path together; the acts themselves live in
``cases``, ``definitions`` and ``timers``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine import access
from engine.access import Viewer
from engine.audit import integrity
from engine.config import Settings
from engine.errors import Denied, InvalidInput, NotFound
from engine.read.deadline_report import DeadlineRow, deadlines
from engine.runtime import spiff
from engine.runtime.clock import SYSTEM_CLOCK, Clock, use_clock
from engine.store import history
from engine.store.db import Database
from engine.store.events import DEPLOYED, REVIEWED, VERSION_WITHDRAWN
from engine.store.models import Case, HistoryEvent, Notification, OpenTask, PendingTimer, User
from engine.versions import definitions, form_catalog
from engine.versions.form_catalog import FormCatalog
from engine.write import cases, checkpoints, grants, parties, timers
from engine.write.unit_of_work import Actor, CaseWriter


@dataclass(frozen=True)
class CaseSummary:
    id: int
    number: str
    school: str
    procedure: str
    status: str
    stage: str
    created_at: datetime
    next_deadline: datetime | None
    open_tasks: int


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
        self.writer = CaseWriter(self.db, self.clock, self.specs, self.script_engine)
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
        from processes.forms import FORMS_FOLDER

        with self.db.writing() as session:
            return form_catalog.import_bundled(session, FORMS_FOLDER, self.clock.now())

    def publish_form(self, viewer: Viewer, declaration: dict, comment: str) -> form_catalog.PublishResult:
        return self.forms.publish(self, viewer, declaration, comment)

    def deploy(self, files: list[tuple[str, bytes]], actor: Viewer | None,
               comment: str) -> list[definitions.DeployResult]:
        if actor is not None and not access.may_deploy(actor):
            raise Denied("Bare prosesseiere og administratorer kan publisere diagrammer.")
        now = self.clock.now()
        with self.db.writing() as session:
            results = definitions.deploy(session, files, actor_id=actor.id if actor else None,
                                         comment=comment, now=now, forms=self.forms.all(session))
            for r in results:
                if r.created:
                    history.append(session, history.SYSTEM_CHAIN, kind=DEPLOYED, at=now,
                                   actor_id=actor.id if actor else None, actor=actor.name if actor else "kap12",
                                   data={"process_id": r.process_id, "version": r.version,
                                         "content_hash": r.content_hash, "comment": comment})
        return results

    def withdraw_version(self, actor: access.Viewer, process_id: str, number: int, reason: str) -> None:
        """Withdraw a deployed version that no case uses, as a logged act in the system history."""
        if not access.may_withdraw_version(actor):
            raise Denied("Bare administratorer kan trekke tilbake en versjon.")
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("Skriv en begrunnelse for hvorfor versjonen trekkes tilbake.")
        now = self.clock.now()
        with self.db.writing() as session:
            row = definitions.withdraw(session, process_id, number)
            history.append(session, history.SYSTEM_CHAIN, kind=VERSION_WITHDRAWN, at=now, actor_id=actor.id,
                           actor=actor.name, data={"process_id": process_id, "version": number,
                                                   "content_hash": row.content_hash, "reason": reason})

    # -- who is asking ----------------------------------------------------------------------
    def viewer(self, username: str) -> Viewer:
        with self.db.reading() as session:
            user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()
            if user is None:
                raise NotFound(f"Brukeren «{username}» finnes ikke.")
            return Viewer.of(user)

    # -- acts (each one transaction through the write path) --------------------------------
    def report(self, viewer: Viewer, school_id: int, report: dict) -> Case:
        return cases.start_case(self, viewer, school_id, report)

    def claim(self, viewer: Viewer, task_id: str) -> Case:
        return cases.claim(self, viewer, task_id)

    def release(self, viewer: Viewer, task_id: str) -> Case:
        return cases.release(self, viewer, task_id)

    def complete(self, viewer: Viewer, task_id: str, data: dict) -> Case:
        return cases.complete(self, viewer, task_id, data)

    def reclassify(self, viewer: Viewer, case_id: int, offender: str, reason: str, accused: str | None = None) -> Case:
        return cases.reclassify(self, viewer, case_id, offender, reason, accused)

    def identify_accused(self, viewer: Viewer, case_id: int, username: str, reason: str = "") -> Case:
        return parties.identify_accused(self, viewer, case_id, username, reason)

    def grant_access(self, viewer: Viewer, case_id: int, username: str, reason: str, until: object) -> Case:
        return grants.grant(self, viewer, case_id, username, reason, until)

    def withdraw_access(self, viewer: Viewer, case_id: int, grant_id: int, reason: str = "") -> Case:
        return grants.withdraw(self, viewer, case_id, grant_id, reason)

    def case_grants(self, case_id: int) -> list[grants.GrantView]:
        """Every access grant of the case; pages show them to those who lead it and to auditors."""
        return grants.grants_of(self, case_id)

    def record_review(self, viewer: Viewer, case_ids: list[int], comment: str = "") -> int:
        """The weekly leadership forum went through these cases: one 'reviewed' event on each,
        through the write path. Cases the viewer may not see are skipped, not revealed."""
        if access.is_read_only(viewer):
            raise Denied("Revisorer kan ikke registrere gjennomgang.")
        done = 0
        for case_id in case_ids:
            with self.db.reading() as session:
                if access.access_level(session, viewer, case_id) != access.FULL:
                    continue
            self.writer.step(case_id, Actor(viewer.id, viewer.name),
                             lambda step: step.record(REVIEWED, forum="lederforum", comment=(comment or "").strip()))
            done += 1
        return done

    def start_prevention_cycle(self, viewer: Viewer, school_id: int, school_year: int) -> Case:
        from engine.write.prevention import start_cycle

        return start_cycle(self, viewer, school_id, school_year)

    def prevention_cycles(self, viewer: Viewer) -> list[Case]:
        from engine.write.prevention import cycles_for

        return cycles_for(self, viewer)

    def sweep_timers(self) -> timers.SweepResult:
        return timers.sweep(self)

    def incidents(self, viewer: Viewer) -> list[timers.Incident]:
        if not access.may_handle_incidents(viewer):
            raise Denied("Bare administratorer og prosesseiere ser feil i tidsfrister.")
        return timers.incidents(self)

    def resolve_incident(self, viewer: Viewer, timer_id: str, note: str) -> None:
        if not access.may_handle_incidents(viewer):
            raise Denied("Bare administratorer og prosesseiere kan løse feil i tidsfrister.")
        timers.resolve_incident(self, viewer, timer_id, note)

    # -- reads (each asks the access policy) -------------------------------------------------
    def tasks_for(self, viewer: Viewer) -> list[OpenTask]:
        with self.db.reading() as session:
            query = access.workable_tasks(viewer).order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.opened_at)
            return list(session.scalars(query))

    def cases_for(self, viewer: Viewer, status: str | None = None, *, procedure: str | None = None,
                  school: str | None = None, search: str | None = None) -> list[CaseSummary]:
        """The cases the viewer may see, newest first, filtered in the query itself."""
        from engine.store.models import School

        with self.db.reading() as session:
            visible = access.visible_cases(viewer).subquery()
            counts = (select(OpenTask.case_id, func.count().label("n")).group_by(OpenTask.case_id).subquery())
            query = (select(Case, func.coalesce(counts.c.n, 0)).join(visible, visible.c.id == Case.id)
                     .outerjoin(counts, counts.c.case_id == Case.id).order_by(Case.created_at.desc()))
            if status:
                query = query.where(Case.status == status)
            if procedure:
                query = query.where(Case.procedure == procedure)
            if school:
                query = query.where(Case.school_id.in_(select(School.id).where(School.name == school)))
            if search:
                query = query.where(Case.number.contains(search, autoescape=True))
            return [CaseSummary(c.id, c.number, c.school.name, c.procedure, c.status, c.stage, c.created_at,
                                c.next_deadline, n) for c, n in session.execute(query)]

    def case(self, viewer: Viewer, case_id: int, *, view: str = "case") -> tuple[Case, str]:
        """The case with the viewer's access level; the read itself is recorded."""
        with self.db.reading() as session:
            level = access.access_level(session, viewer, case_id)
            if level is None:
                raise NotFound("Saken finnes ikke.")
            case = session.get(Case, case_id)
        cases.record_read(self, viewer, case_id, view)
        return case, level

    def case_tasks(self, case_id: int) -> list[OpenTask]:
        with self.db.reading() as session:
            return list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.opened_at)))

    def case_timers(self, case_id: int) -> list[PendingTimer]:
        with self.db.reading() as session:
            return list(session.scalars(select(PendingTimer).where(PendingTimer.case_id == case_id)
                                        .order_by(PendingTimer.due_at)))

    def case_history(self, case_id: int) -> list[HistoryEvent]:
        with self.db.reading() as session, history.readable():
            return list(session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.case_chain(case_id))
                                        .order_by(HistoryEvent.seq)))

    def notices_for(self, viewer: Viewer, unread_only: bool = False, limit: int = 50) -> list[Notification]:
        with self.db.reading() as session:
            query = select(Notification).where(Notification.user_id == viewer.id)
            if unread_only:
                query = query.where(Notification.read_at.is_(None))
            return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))

    def unread_count(self, viewer: Viewer) -> int:
        with self.db.reading() as session:
            return session.scalar(select(func.count()).select_from(Notification).where(
                Notification.user_id == viewer.id, Notification.read_at.is_(None))) or 0

    def mark_notices_read(self, viewer: Viewer, ids: list[int] | None = None) -> None:
        with self.db.writing() as session:
            query = select(Notification).where(Notification.user_id == viewer.id, Notification.read_at.is_(None))
            if ids is not None:
                query = query.where(Notification.id.in_(ids))
            for notice in session.scalars(query):
                notice.read_at = self.clock.now()

    def deliver_mail(self) -> int:
        from engine.outputs.mailer import deliver_pending

        return deliver_pending(self)

    def case_deadlines(self, case_id: int) -> list[DeadlineRow]:
        return deadlines(self.case_history(case_id), self.clock.now())

    def verify(self, case_ids: list[int] | None = None) -> list[integrity.ChainReport]:
        return self.verify_history(case_ids).chains

    def verify_history(self, case_ids: list[int] | None = None,
                       kept_digest: str | None = None) -> integrity.IntegrityReport:
        """Every chain (or the given cases'), their heads and the latest checkpoint (and the one
        whose digest was kept outside the database); never raises on bad data."""
        with self.db.reading() as session:
            return integrity.check(session, self.history_keys, case_ids or None, kept_digest)

    def write_checkpoint(self) -> checkpoints.CheckpointWritten | None:
        return checkpoints.write(self)

    def write_checkpoint_if_due(self) -> checkpoints.CheckpointWritten | None:
        return checkpoints.write_if_due(self)

    def close(self) -> None:
        self.db.dispose()
