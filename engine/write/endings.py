"""Other ways a case ends than "the pupil is safe": the pupil left the school, the case was
joined with another case, or the report concerned something outside chapter 12.

The routing diagram (``bpmn/kap12_sak.bpmn``) catches the message ``annen_avslutning`` on
whichever procedure the case follows, records the reason and ends the case. The act is one
step of the write path, recorded with its form data (the reason, the pupil's voice), so it is
in the history, the timeline, the replay, the export, the closing letter and the archive."""
from __future__ import annotations

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from engine import access
from engine.errors import Conflict, Denied, InvalidInput, NotFound
from engine.store.events import CASE_ENDED, TASK_COMPLETED
from engine.store.models import Case, HistoryEvent
from engine.write import owner_notice
from engine.write.cases import validated_form
from engine.write.unit_of_work import Actor, CaseStep, Host
from processes import forms
from processes.messages import Message
from processes.roles import OWNER_ROLE

FORM = "annen_avslutning"
MESSAGE = "annen_avslutning"
TITLE = "Avsluttet av annen grunn"
MERGED, OUTSIDE = "sammenslatt", "utenfor_kap12"


def ending_message(data: dict) -> BpmnEvent:
    """The message the routing diagram catches to end a case otherwise (also re-sent by replay)."""
    return BpmnEvent(MessageEventDefinition(MESSAGE), payload={"payload": dict(data), "result_var": MESSAGE})


def _found_unsafe(session: Session, case_id: int) -> bool:
    """Did the investigation conclude that the pupil's environment is not safe and good? Then
    the case is a chapter 12 case by the law's own test (§ 12-2: the pupil's experience)."""
    for data in session.scalars(select(HistoryEvent.data).where(HistoryEvent.case_id == case_id,
                                                                HistoryEvent.kind == TASK_COMPLETED)):
        if (data or {}).get("form") == "undersokelse" and ((data or {}).get("data") or {}).get("trygt_skolemiljo") == "nei":
            return True
    return False


def _received(session: Session, case_id: int) -> bool:
    """Has the leadership (or in C the school owner) received and assessed the report?"""
    return bool(session.scalar(select(exists().where(
        HistoryEvent.case_id == case_id, HistoryEvent.kind == TASK_COMPLETED,
        HistoryEvent.data["form"].as_string().in_(forms.RECEIPT_FORMS)))))


def _merge_target(session: Session, viewer: access.Viewer, case: Case, number: str) -> Case:
    """The case this one is joined with: another open chapter 12 case at the same school that
    the viewer may read in full. Anything else reads as "not found", so nothing is revealed."""
    target = session.scalars(select(Case).where(Case.number == number.strip(), Case.kind == "sak")).first()
    refuse = InvalidInput("Saken det slås sammen med, finnes ikke.",
                          {"sammenslatt_med": ["Skriv saksnummeret til en åpen sak ved samme skole som du har tilgang til."]})
    if target is None or access.access_level(session, viewer, target.id) != access.FULL:
        raise refuse
    if target.id == case.id:
        raise InvalidInput(Message("En sak kan ikke slås sammen med seg selv."),
                           {"sammenslatt_med": ["Skriv saksnummeret til den andre saken."]})
    if target.school_id != case.school_id or target.status != "open":
        raise refuse
    return target


def end_otherwise(kap12: Host, viewer: access.Viewer, case_id: int, data: dict) -> Case:
    """End the case for another reason than "the pupil is safe", with the reason, the pupil's
    voice (or why it could not be heard) and, for a joined case, the case it joins."""
    clean, form_version = validated_form(kap12, FORM, data, viewer)

    def act(step: CaseStep) -> None:
        session, case = step.session, step.case
        if access.is_read_only(viewer) or access.access_level(session, viewer, case.id) != access.FULL:
            raise NotFound(Message("Saken finnes ikke."))
        if not access.may_end_otherwise(viewer, case):
            if case.procedure == "C":
                raise Denied(Message("Bare skoleeier kan avslutte en sak i prosedyre C."))
            raise Denied(Message("Bare rektor (og skoleeier i prosedyre B) kan avslutte en sak av annen grunn."))
        if case.status != "open":
            raise Conflict(Message("Saken er allerede avsluttet. Ingenting ble endret."))
        if case.owner_notified_at is None and case.county_id not in viewer.counties({OWNER_ROLE}):
            if case.procedure == "B":
                # § 12-5: rektor tells the school owner at once when an employee is suspected,
                # however the case then ends; ending it first left the school owner never told.
                raise InvalidInput(Message("I prosedyre B skal skoleeier varsles straks (§ 12-5). Gjør «Varsle skoleeier "
                                           "straks» før saken avsluttes."),
                                   {"grunn": [Message("Varsle skoleeier først: i prosedyre B skal skoleeier varsles "
                                                      "straks (§ 12-5).")]})
            if owner_notice.notice_open(session, case.id):
                # § 12-4: in a serious case rektor tells the school owner. The duty comes from what
                # happened, not from the case going on: ending the case cancelled rektor's task,
                # and the school owner was never told.
                raise InvalidInput(Message("Saken er merket som alvorlig, og rektor skal varsle skoleeier (§ 12-4). Gjør "
                                           "«Varsle skoleeier» før saken avsluttes."),
                                   {"grunn": [Message("Varsle skoleeier først: saken er merket som alvorlig "
                                                      "(§ 12-4).")]})
        if clean["grunn"] == OUTSIDE and not _received(session, case.id):
            # That a report is outside chapter 12 is the leadership's assessment, and it is to be
            # on the case before the case closes on it: a report is not dismissed unread.
            raise InvalidInput(Message("En melding kan avsluttes som utenfor kapittel 12 først når den er mottatt og "
                                       "vurdert («Motta og registrere melding»)."),
                               {"grunn": [Message("Motta og vurder meldingen først.")]})
        if clean["grunn"] == OUTSIDE and _found_unsafe(session, case.id):
            raise InvalidInput(Message("Undersøkelsen har konkludert med at eleven ikke har et trygt og godt "
                                       "skolemiljø. Da gjelder saken kapittel 12 og kan ikke avsluttes som utenfor "
                                       "kapittel 12."),
                               {"grunn": [Message("Velg en annen grunn, eller følg saken opp med tiltaksplan.")]})
        merged = None
        if clean["grunn"] == MERGED:
            merged = _merge_target(session, viewer, case, clean.get("sammenslatt_med") or "")
            clean["sammenslatt_med"] = merged.number
        before = case.procedure
        try:
            step.workflow.send_event(ending_message(clean))
        except WorkflowException as err:
            raise Conflict(Message("Saken kan ikke avsluttes nå. Ingenting ble endret.")) from err
        step.record(CASE_ENDED, title=TITLE, form=FORM, form_version=form_version, data=clean, procedure=before,
                    merged_into_case_id=merged.id if merged else None)
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)
