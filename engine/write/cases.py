"""What people and timers do to a case: report, claim, release, complete, reclassify, fire
timers. Each act is one ``CaseWriter`` step: one transaction, or nothing."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine import access
from engine.errors import Conflict, Denied, InvalidInput, NotFound
from engine.store import history
from engine.store.events import CASE_READ, RECLASSIFIED, REPORTED, TASK_CLAIMED, TASK_COMPLETED, TASK_RELEASED
from engine.store.models import Case, CaseParty, OpenTask, School, User
from engine.versions.definitions import CASE_PROCESS, latest_version
from engine.write import grants, measures, parties
from engine.write.unit_of_work import Actor, CaseOf, CaseStep, Host, Opening
from processes import forms
from processes import measures as measure_names
from processes.deadlines import OSLO, seconds_late
from processes.messages import Message
from processes.roles import OFFENDER_PROCEDURE

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

REPORT_FORM = "meldingsskjema"
# The report's answers the weekly overview counts, kept on the case (``Case.report_answers``).
KIND_FIELD, ONGOING_FIELD = "krenkelse_art", "pagaar"
REPORT_COUNTED = (KIND_FIELD, ONGOING_FIELD)
RECLASSIFY_MESSAGE = "omklassifisering"
REPORTED_BY = {"meg_selv", "elev", "tillitselev", "foresatt"}


def today(kap12: Host) -> date:
    """The engine's date in Oslo: dates in forms (an evaluation date) are checked against it."""
    return kap12.clock.now().astimezone(OSLO).date()


def validated_form(kap12: Host, form_key: str, data: dict, sender: access.Viewer,
                   session: Session | None = None) -> tuple[dict, int | None]:
    """The clean data and the number of the form version that checked them. Fields the form
    takes from the log-in ("Mottatt av") get the sender's name, whatever was posted."""
    try:
        number, form = kap12.forms.latest_with_number(form_key, session)
    except KeyError as err:
        raise NotFound(Message("Skjemaet «%(form)s» finnes ikke.", form=form_key)) from err
    if isinstance(data, dict):
        data = forms.with_sender(form, data, sender.name)
    try:
        return forms.validate(form, data, today(kap12), kap12.clock.now()), number
    except forms.FormValidationError as err:
        raise InvalidInput(Message("Skjemaet har feil. Rett feltene som er merket, og send på nytt."), err.errors) from err


def reclassification_message(offender: str, reason: str, accused_username: str | None = None) -> BpmnEvent:
    """The message the routing diagram catches when a case turns out to be about someone else
    (with the newly named accused, so that the procedure does not ask who it is)."""
    body = {"krenker_type": offender, "begrunnelse": reason}
    if accused_username:
        body["anklaget_bruker"] = accused_username
    payload = {"payload": body, "result_var": "omklassifisering"}
    return BpmnEvent(MessageEventDefinition(RECLASSIFY_MESSAGE), payload=payload)


def _unnumbered() -> str:
    """A new case's number until its id is known: the step numbers it before it commits. It is
    unique, for the number's unique index makes a transaction that inserts a value wait for
    every open one that inserted the same value — with one placeholder for all, each report in
    the county waited for the one before it to commit."""
    return f"ny-{uuid4().hex}"


def start_case(kap12: Kap12, viewer: access.Viewer, school_id: int, report: dict,
               read_as: str | None = None) -> Case:
    """Register a report (meldingsskjema) and start the case on the procedure the routing
    diagram chooses. Anyone employed at the school may report, at once.

    ``read_as``: the reporter is shown the case's status at once (the API's answer), and that
    read is recorded in the same step, as the page ``read_as`` (a transaction of its own
    cost a report a third of its time)."""
    if access.is_read_only(viewer):
        raise Denied(Message("Revisorer kan ikke registrere meldinger."))
    accused: User | None = None
    clean: dict = {}
    form_version: int | None = None

    def prepare(session: Session, now: datetime) -> Opening:
        nonlocal accused, clean, form_version
        # In the step's transaction: the form catalog's freshness is asked there, not in one
        # of its own. (Before anything else is checked, as the page shows the form's errors.)
        clean, form_version = validated_form(kap12, REPORT_FORM, report, viewer, session)
        school = session.get(School, school_id)
        if school is None:
            raise NotFound(Message("Skolen finnes ikke."))
        if not access.may_report_at(viewer, school):
            raise Denied(Message("Du kan bare melde saker ved skoler der du arbeider."))
        procedure = OFFENDER_PROCEDURE.get(clean["krenker_type"], "A")
        accused = parties.find_user(session, clean.get("anklaget_bruker"))
        if accused is not None:
            if accused.id == viewer.id:
                raise InvalidInput(Message("Du kan ikke melde en sak der du selv er anklaget."),
                                   {"anklaget_bruker": ["Velg en annen person."]})
            parties.check_accused(accused, school.id, procedure)
        version = latest_version(session, CASE_PROCESS, to_start=True)
        case = Case(number=_unnumbered(), school_id=school.id, county_id=school.county_id, definition_id=version.id,
                    procedure=procedure, status="open", stage="Meldt",
                    state="{}", reporter_id=viewer.id, created_at=now, updated_at=now, escalated=False,
                    # In the row as it is made: set after, it moved the case's month tallies
                    # (migration 0024's trigger) from "unkept" answers to its own in every report.
                    report_answers={name: clean[name] for name in REPORT_COUNTED if name in clean})
        case.school = school  # loaded, so the returned case is usable after the session ends
        return Opening(case, version, clean)

    def act(step: CaseStep) -> None:
        case, version = step.case, step.case.definition
        case.number = f"{step.now.year}-{case.id:05d}"
        step.session.add(CaseParty(case_id=case.id, user_id=viewer.id, relation="reporter"))
        if accused is not None:
            parties.add_accused(step.session, case.id, accused)
        step.record(REPORTED, report=clean, school=case.school.name,
                    definition=f"{version.process_id} v{version.version}", form_version=form_version)
        if read_as is not None:  # after what the engine did: the reporter reads where it stands
            step.afterwards.append(lambda step: step.record(CASE_READ, view=read_as))

    return kap12.writer.open(Actor(viewer.id, viewer.name), prepare, act)


_TASK_CASE = select(OpenTask.case_id).where(OpenTask.id == bindparam("of")).scalar_subquery()


def _case_of_task(viewer: access.Viewer, task_id: str) -> CaseOf:
    """The task's case, found in the step's own query for it (one transaction per act)."""
    def missing(session: Session) -> None:
        access.open_task(session, viewer, task_id)  # raises why: done already, or not there

    return CaseOf(_TASK_CASE, task_id, missing)


def _check_may_work(step: CaseStep, viewer: access.Viewer, task_id: str) -> OpenTask:
    if access.is_read_only(viewer):
        raise Denied(access.READ_ONLY)
    row, may_work = access.task_to_work_on(step.session, viewer, task_id)
    if not may_work:
        if access.access_level(step.session, viewer, step.case.id) == access.FULL:
            raise Denied(Message("Denne oppgaven er ikke din eller din rolles."))
        raise NotFound(access.GONE)
    if row.assignee_id not in (None, viewer.id):
        who = step.session.get(User, row.assignee_id)
        if who is None:
            raise Conflict(Message("Oppgaven er tatt av en annen."))
        raise Conflict(Message("Oppgaven er tatt av %(name)s.", name=who.display_name))
    return row


def claim(kap12: Kap12, viewer: access.Viewer, task_id: str) -> Case:
    def act(step: CaseStep) -> None:
        row = _check_may_work(step, viewer, task_id)
        if row.assignee_id != viewer.id:
            row.assignee_id = viewer.id
            step.record(TASK_CLAIMED, task_id=task_id, element=row.element_id, title=row.title)
    return kap12.writer.step(_case_of_task(viewer, task_id), Actor(viewer.id, viewer.name), act)


def release(kap12: Kap12, viewer: access.Viewer, task_id: str) -> Case:
    def act(step: CaseStep) -> None:
        row = _check_may_work(step, viewer, task_id)
        if row.assignee_id == viewer.id:
            row.assignee_id = None
            step.record(TASK_RELEASED, task_id=task_id, element=row.element_id, title=row.title)
    return kap12.writer.step(_case_of_task(viewer, task_id), Actor(viewer.id, viewer.name), act)


def complete(kap12: Kap12, viewer: access.Viewer, task_id: str, data: dict) -> Case:
    """Validate ``data`` with the task's form and complete the task; errors change nothing."""
    def act(step: CaseStep) -> None:
        row = _check_may_work(step, viewer, task_id)
        clean, form_version = validated_form(kap12, row.form_key, data, viewer, step.session)
        task = step.workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY:
            raise Conflict(Message("Oppgaven er ikke lenger åpen. Ingenting ble endret."))
        plan_rows = clean.get(measure_names.PLAN_ROWS) if row.form_key == measure_names.PLAN_FORM else None
        owners = measures.plan_owners(step, plan_rows) if plan_rows else []
        task.set_data(**clean)
        task.run()
        process_id = task.workflow.spec.name
        late = seconds_late(row.due_at, step.now) if row.due_at else None
        step.record(TASK_COMPLETED, task_id=task_id, element=row.element_id, process_id=process_id,
                    title=row.title,
                    form=row.form_key, form_version=form_version, data=clean, lane=row.lane,
                    due_at=row.due_at.isoformat() if row.due_at else None,
                    late_by_seconds=late if late and late > 0 else 0)
        if plan_rows:
            measures.save_plan(step, task_id, plan_rows, owners)
        elif row.form_key == measure_names.CARRY_OUT_FORM:
            measures.save_carried_out(step, clean.get(measure_names.CARRIED_ROWS) or [])
        if parties.FIELD in clean:  # a step that names the accused ("identify the accused", B and C)
            parties.name_from_step(step, viewer, clean)
    return kap12.writer.step(_case_of_task(viewer, task_id), Actor(viewer.id, viewer.name), act)


def reclassify(kap12: Kap12, viewer: access.Viewer, case_id: int, offender: str, reason: str,
               accused_username: str | None = None) -> Case:
    """The report turned out to be about someone else (A → B, …): the routing diagram catches
    the message and starts the right procedure; the change is recorded with its reason."""
    if offender not in OFFENDER_PROCEDURE:
        raise InvalidInput(Message("Ugyldig klassifisering."), {"krenker_type": ["Velg elev, ansatt eller ledelse."]})
    if not (reason or "").strip():
        raise InvalidInput(Message("Begrunnelse mangler."), {"begrunnelse": ["Skriv hvorfor saken klassifiseres om."]})

    def act(step: CaseStep) -> None:
        session = step.session
        if access.is_read_only(viewer) or access.access_level(session, viewer, step.case.id) != access.FULL:
            raise NotFound(Message("Saken finnes ikke."))
        if not access.may_reclassify(viewer, step.case):
            if step.case.procedure in access.SHARPENED:
                raise Denied(Message("Bare skoleeier kan klassifisere en sak i prosedyre %(procedure)s om.",
                                     procedure=step.case.procedure))
            raise Denied(Message("Bare skolens ledelse eller en skoleeier som er varslet kan klassifisere saken om."))
        accused = parties.find_user(session, accused_username)
        if accused is not None:
            if accused.id == viewer.id:
                raise InvalidInput(Message("Du kan ikke registrere deg selv som anklaget."),
                                   {"anklaget_bruker": ["Velg en annen person."]})
            parties.check_accused(accused, step.case.school_id, OFFENDER_PROCEDURE[offender])
            parties.add_accused(session, step.case.id, accused)
        before = step.case.procedure
        try:
            step.workflow.send_event(reclassification_message(offender, reason.strip(),
                                                              accused.username if accused else None))
        except WorkflowException as err:
            raise Conflict(Message("Saken kan ikke klassifiseres om nå (den er avsluttet eller venter ikke på dette).")) from err
        step.record(RECLASSIFIED, from_procedure=before, to_procedure=OFFENDER_PROCEDURE[offender],
                    krenker_type=offender, reason=reason.strip(),
                    accused_user_id=accused.id if accused else None,
                    accused_username=accused.username if accused else None)
        if OFFENDER_PROCEDURE[offender] != before:
            grants.end_all(step)
            measures.retire_all(step)
        step.checks += [parties.ensure_workable, parties.take_back_notices]
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)


def fire_due_timers(kap12: Kap12, case_id: int) -> Case:
    """Advance one case past every timer that is due now (the writer refreshes waiting tasks)."""
    return kap12.writer.step(case_id, Actor.system(), lambda step: None)


def record_read(kap12: Kap12, reader: access.Viewer | Actor, case_id: int, what: str) -> None:
    """Every read of a case is itself an event in its history (the command line reads as an
    ``Actor`` with no user id)."""
    with kap12.db.writing() as session:
        # append locks the case row, which carries the chain head, for the rest of the transaction
        _append_read(session, kap12, reader, case_id, what)


READS_PER_TRANSACTION = 200


def record_reads(kap12: Kap12, reader: access.Viewer | Actor, case_ids: Iterable[int], what: str) -> None:
    """``record_read`` of many cases at once (an export with names, an archive extract): a
    transaction for each 200, not one for each case (5,000 commits for a county's year).
    In the order of their ids, so that two such exports lock the case rows in the same order and
    cannot deadlock; 200 at a time, so that a case's own work waits a moment at most."""
    ordered = sorted(set(case_ids))
    for start in range(0, len(ordered), READS_PER_TRANSACTION):
        with kap12.db.writing() as session:
            for case_id in ordered[start:start + READS_PER_TRANSACTION]:
                _append_read(session, kap12, reader, case_id, what)


def read_case(kap12: Kap12, viewer: access.Viewer, case_id: int, what: str,
              refuse: Callable[[Case, str], None] | None = None) -> tuple[Case, str]:
    """The case with the viewer's access level (``access.case_with_level``), the read recorded:
    one transaction, whose access check takes the case row's lock that the read's event needs.
    Asked first and recorded after, the row was read twice, the second time to lock it: a
    statement more on every case page and API read. ``refuse`` (case, level) raises for a viewer
    who may not have this view, before anything is recorded. NotFound: no case, or no access."""
    with kap12.db.writing() as session:
        found = access.case_with_level(session, viewer, case_id, lock=True)
        if found is None:
            raise NotFound(Message("Saken finnes ikke."))
        case, level = found
        if refuse is not None:
            refuse(case, level)
        _append_read(session, kap12, viewer, case_id, what)  # the row locked above, as append needs
    return case, level


def _append_read(session: Session, kap12: Kap12, reader: access.Viewer | Actor, case_id: int, what: str) -> None:
    history.append(session, history.case_chain(case_id), kind=CASE_READ, at=kap12.clock.now(),
                   actor_id=reader.id, actor=reader.name, data={"view": what}, case_id=case_id)
