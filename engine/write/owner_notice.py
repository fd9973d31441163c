"""The school owner told of a serious A case later than at the receipt.

Whether an A case is serious enough for the school owner to know is first decided when the report
is received. An investigation can show more (repeated violence, a threat, a pupil who will not
come to school), so the one who leads the case may ask for the notice at any time while the
follow-up runs: procedure A catches the message beside the follow-up, and rektor gets «Varsle
skoleeier» with its deadline, as if the receipt had marked the case serious. Recorded with who,
when and why; re-execution sends the same message."""
from __future__ import annotations

from collections.abc import Iterable

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine import access
from engine.errors import Conflict, Denied
from engine.store.events import OWNER_NOTICE_ASKED
from engine.store.models import Case, OpenTask
from engine.write.unit_of_work import Actor, CaseStep, Host
from engine.write.written import given_reason
from processes.messages import Message

MESSAGE = "varsle_skoleeier_na"
NOTICE_ELEMENT = "Task_varsle_skoleeier"
RECEIPT_ELEMENT = "Task_motta_melding"


def owner_notice_message(reason: str) -> BpmnEvent:
    return BpmnEvent(MessageEventDefinition(MESSAGE), payload={"payload": {"begrunnelse": reason},
                                                              "result_var": MESSAGE})


def offered(viewer: access.Viewer, case: Case, tasks: Iterable[OpenTask]) -> bool:
    """Whether the case page offers it: to whom the policy allows, on an open A case the school
    owner has not been told of, once the report is received (until then the receipt decides
    it) and while no notice is open."""
    return (access.may_ask_owner_notice(viewer, case) and case.status == "open" and case.owner_notified_at is None
            and not any(t.element_id in (RECEIPT_ELEMENT, NOTICE_ELEMENT) for t in tasks))


def notice_open(session: Session, case_id: int) -> bool:
    """Is rektor's «Varsle skoleeier» open: the case marked serious at the receipt, or asked for later?"""
    return bool(session.scalar(select(exists().where(OpenTask.case_id == case_id, OpenTask.element_id == NOTICE_ELEMENT))))


def ask_owner_notice(kap12: Host, viewer: access.Viewer, case_id: int, reason: str) -> Case:
    reason = given_reason(reason, Message("Skriv hvorfor saken er alvorlig, så rektor og skoleeier ser det."))

    def act(step: CaseStep) -> None:
        session, case = step.session, step.case
        access.check_may_change(session, viewer, case)
        if not access.may_ask_owner_notice(viewer, case):
            raise Denied(Message("Bare den som leder en sak i prosedyre A, kan be om at skoleeier varsles."))
        if case.status != "open":
            raise Conflict(Message("Saken er avsluttet. Ingenting ble endret."))
        if case.owner_notified_at is not None:
            raise Conflict(Message("Skoleeier er allerede varslet om saken. Ingenting ble endret."))
        if notice_open(session, case.id):
            raise Conflict(Message("Varselet til skoleeier er allerede en åpen oppgave for rektor. Ingenting ble endret."))
        try:
            step.workflow.send_event(owner_notice_message(reason))
        except WorkflowException as err:
            raise Conflict(Message("Saken er ikke i oppfølgingen nå, eller den følger en eldre versjon av prosedyre A "
                                   "(prosesseier kan flytte den til den nyeste), så varselet kan ikke bes om her. Før "
                                   "meldingen er mottatt, merkes saken som alvorlig i mottaket. Ingenting ble endret.")) from err
        step.record(OWNER_NOTICE_ASKED, reason=reason)
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)
