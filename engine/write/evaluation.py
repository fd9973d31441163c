"""Evaluating now: when things change before the plan's evaluation date (a new incident, the
pupil says it is worse), the one who leads the case opens the evaluation at once. The follow-up
diagram catches the message while the measures are being carried out or while it waits for the
date; the act is recorded with who, when and why, and re-execution sends the same message."""
from __future__ import annotations

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import access
from engine.errors import Conflict, Denied
from engine.store.events import EVALUATION_NOW
from engine.store.models import Case
from engine.write.unit_of_work import Actor, CaseStep, Host
from engine.write.written import given_reason
from processes.messages import Message

MESSAGE = "evaluer_na"
# Where a case waits for its evaluation: carrying out the measures, or waiting for the date.
WAITING_ELEMENTS = ("Task_gjennomforing", "Call_vent_evaluering", "Timer_evalueringsdato")


def evaluate_now_message(reason: str) -> BpmnEvent:
    payload = {"payload": {"begrunnelse": reason}, "result_var": "evaluer_na"}
    return BpmnEvent(MessageEventDefinition(MESSAGE), payload=payload)


def _planned_date(step: CaseStep) -> str | None:
    """The evaluation date of the plan in force, for the record."""
    for task in step.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.task_spec.bpmn_id in WAITING_ELEMENTS and task.data.get("evalueringsdato"):
            return str(task.data["evalueringsdato"])
    return None


def evaluate_now(kap12: Host, viewer: access.Viewer, case_id: int, reason: str) -> Case:
    reason = given_reason(reason, Message("Skriv hva som har endret seg, og hvorfor tiltakene skal evalueres nå."))

    def act(step: CaseStep) -> None:
        session, case = step.session, step.case
        access.check_may_change(session, viewer, case)
        if not access.may_evaluate_now(viewer, case):
            raise Denied(Message("Bare den som leder saken, kan evaluere tiltakene før evalueringsdatoen."))
        if case.status != "open":
            raise Conflict(Message("Saken er avsluttet. Ingenting ble endret."))
        planned = _planned_date(step)
        try:
            step.workflow.send_event(evaluate_now_message(reason))
        except WorkflowException as err:
            raise Conflict(Message("Saken venter ikke på en evaluering nå: det er ingen tiltaksplan som "
                                   "gjennomføres, eller evalueringen er allerede åpen. Ingenting ble endret.")) from err
        step.record(EVALUATION_NOW, reason=reason, planned_date=planned)
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)
