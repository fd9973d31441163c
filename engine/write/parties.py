"""Who may be named as the accused in a case, and the act of naming them later.

The accused is someone employed at the case's school (§ 12-5): in B an employee outside the
school's leadership, in C someone in its leadership. County roles (school owner, auditor),
process owners and administrators can never be named: naming them would take a case away from
the very people who must work or audit it. A B or C report may leave the accused unnamed; rektor
(B) or the school owner (C) records them later, as an event in the case's history."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import access
from engine.errors import Conflict, Denied, InvalidInput
from engine.store.events import ACCUSED_IDENTIFIED
from engine.store.models import (
    Case,
    CaseParty,
    HistoryEvent,
    Notification,
    OpenTask,
    User,
)
from engine.write import notify
from engine.write.unit_of_work import Actor, CaseStep, Host
from processes.messages import Message
from processes.roles import COUNTY_ROLES, LEADERSHIP_ROLES, SCHOOL_ROLES

FIELD = "anklaget_bruker"


def _refuse(message: str | Message, hint: str | Message) -> InvalidInput:
    return InvalidInput(message, {FIELD: [hint]})


def find_user(session: Session, username: str | None) -> User | None:
    """The named person, or None when nobody is named; an unknown name is refused."""
    name = (username or "").strip()
    if not name:
        return None
    user = session.scalars(select(User).where(User.username == name)).first()
    if user is None or not user.active:
        raise _not_staff()
    return user


def _not_staff() -> InvalidInput:
    """One refusal for everyone the picker does not list: an unknown or closed username, a
    county role, someone at another school. Any employee can post a username to the report
    form; telling them which of these it is would let them map the county's usernames to names
    and roles (who is an auditor, who is the school owner)."""
    return _refuse(Message("Den anklagede må være ansatt ved skolen saken gjelder, og må velges fra listen "
                           "over ansatte."), Message("Velg personen fra listen over ansatte ved skolen."))


def check_accused(user: User, school_id: int, procedure: str) -> None:
    """Refuse, in plain words, a person who cannot be the accused in this procedure at this school."""
    held = {(g.role, g.school_id) for g in user.grants}
    if procedure not in access.SHARPENED:
        raise _refuse("I prosedyre A er det en elev som krenker, og ingen ansatt kan velges som anklaget.",
                      "La feltet stå tomt, eller velg «En ansatt» eller «Noen i skolens ledelse» som krenker.")
    if any(role in COUNTY_ROLES for role, _ in held) or \
            not any(role in SCHOOL_ROLES and school == school_id for role, school in held):
        raise _not_staff()
    leader = any(role in LEADERSHIP_ROLES and school == school_id for role, school in held)
    if procedure == "B" and leader:
        raise _refuse(f"{user.display_name} er i skolens ledelse. Da er det prosedyre C: meldingen går "
                      "direkte til skoleeier.", "Velg «Noen i skolens ledelse» som krenker.")
    if procedure == "C" and not leader:
        raise _refuse(f"{user.display_name} er ikke i skolens ledelse. Da er det prosedyre B: meldingen går "
                      "til rektor.", "Velg «En ansatt ved skolen» som krenker, eller en annen person.")


def add_accused(session: Session, case_id: int, user: User) -> bool:
    """Record the person as accused in the case (once); True if they were not already."""
    known = session.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.user_id == user.id,
                                                    CaseParty.relation == "accused")).first()
    if known is not None:
        return False
    session.add(CaseParty(case_id=case_id, user_id=user.id, relation="accused"))
    session.flush()
    return True


def take_back_notices(step: CaseStep) -> None:
    """After a step that draws the case's circle anew (an accused named, a move to B or C): its
    notices to people who may no longer open the case are taken back, read or not, mailed or
    still waiting for the mail server — the accused's; in C those of the school's leadership that
    no grant lets in; after a move from A, those of the leaders whose work in the case let them
    in (it does not in B or C). A notice names its case («Ny oppgave i sak 2026-00009»), and they
    are to learn nothing more of it (DOMAIN.md). Asked of the access policy itself, person by
    person (a case's notices go to a handful), so no way out of the circle is left out: the
    department head's notice outlived a move from A to B (reviewed). The notices are pointers,
    not the record: the case's history keeps what happened."""
    session, case = step.session, step.case
    session.flush()  # the policy reads the case as the step leaves it
    holders = session.scalars(select(User).where(User.id.in_(
        select(Notification.user_id).where(Notification.case_id == case.id)))).all()
    outside = [user.id for user in holders if access.access_level(session, access.Viewer.of(user), case.id) is None]
    if outside:
        session.execute(delete(Notification).where(Notification.case_id == case.id,
                                                   Notification.user_id.in_(outside)))


def accused_known(session: Session, case_id: int) -> bool:
    """Whether the case says who the accused is (``access.accused_known``)."""
    return bool(session.scalar(select(access.accused_known(case_id))))


def named_outside(session: Session, case_id: int) -> list[str]:
    """The accused named in words, without an account in kap12: «Ola Vikar (vikar fra byrå)»."""
    events = session.scalars(select(HistoryEvent).where(
        HistoryEvent.case_id == case_id, HistoryEvent.kind == ACCUSED_IDENTIFIED).order_by(HistoryEvent.seq))
    return [in_words(ev.data or {}) for ev in events if (ev.data or {}).get("user_id") is None]


def in_words(data: dict) -> str:
    """An accused named in words, from the identification's event: «Ola Vikar (vikar fra byrå)»."""
    return f"{data.get('name', '')} ({data['tie']})" if data.get("tie") else data.get("name", "")


def accused_of(session: Session, case_id: int) -> list[User]:
    return list(session.scalars(select(User).join(CaseParty, CaseParty.user_id == User.id).where(
        CaseParty.case_id == case_id, CaseParty.relation == "accused").order_by(User.display_name)))


def ensure_workable(step: CaseStep) -> None:
    """Refuse a step that would leave an open task nobody may do (the whole of a school's
    leadership accused, and the case moved back to them): a case must always have someone."""
    for row in step.session.scalars(select(OpenTask).where(OpenTask.case_id == step.case.id)):
        if row.assignee_id is not None and notify.assignee_who_may_be_told(step.session, step.case, row):
            continue
        if not notify.role_holders(step.session, step.case, [r.role for r in row.roles]):
            raise Conflict(Message("Da ville ingen kunne ta oppgaven «%(title)s»: alle som har den rollen ved "
                                   "skolen, er anklaget i saken. Ingenting ble endret.", title=row.title))


def name(step: CaseStep, viewer: access.Viewer, username: str, reason: str = "", *,
         again_is_conflict: bool = True) -> None:
    """Record the accused in this step: checked, a party from now on, an event in the history,
    and refused if it would leave an open task nobody may do."""
    session, case = step.session, step.case
    user = find_user(session, username)
    if user is None:
        raise _refuse("Velg hvem som er anklaget.", "Velg personen fra listen over ansatte ved skolen.")
    if user.id == viewer.id:
        raise _refuse("Du kan ikke registrere deg selv som anklaget. Meld saken til skoleeier i stedet.",
                      "Velg en annen person.")
    check_accused(user, case.school_id, case.procedure)
    if not add_accused(session, case.id, user):
        if again_is_conflict:
            raise Conflict(Message("%(name)s er allerede registrert som anklaget. Ingenting ble endret.",
                                   name=user.display_name))
        return
    step.checks += [ensure_workable, take_back_notices]
    step.record(ACCUSED_IDENTIFIED, user_id=user.id, name=user.display_name, procedure=case.procedure,
                reason=(reason or "").strip())


# The identification's answer that the accused is not in the school's list of staff: an agency
# substitute, a student teacher, an apprentice, a former employee. Nothing waits for them to be
# given an account: the case goes on, with the accused named in words (the form's name and tie
# to the school), and nobody is kept out, since they cannot log in.
IN_LIST_FIELD, NOT_IN_LIST = "anklaget_i_listen", "nei"


def name_from_step(step: CaseStep, viewer: access.Viewer, data: dict) -> None:
    """A completed step that names the accused (the identification in B and C): a person picked
    from the list becomes a party (``name``); one without an account is recorded in words."""
    username, reason = (data.get(FIELD) or "").strip(), data.get("hvordan_identifisert", "")
    if data.get(IN_LIST_FIELD) != NOT_IN_LIST:
        if username:
            name(step, viewer, username, reason, again_is_conflict=False)
        return
    if username:
        raise _refuse(Message("Du har valgt en person fra listen, men svart at den anklagede ikke er i listen."),
                      Message("Velg «Ja» over, eller la listen stå uten valg."))
    step.session.add(CaseParty(case_id=step.case.id, user_id=None, relation="accused"))
    step.record(ACCUSED_IDENTIFIED, user_id=None, name=(data.get("krenker_navn") or "").strip(),
                tie=(data.get("tilknytning") or "").strip(), procedure=step.case.procedure,
                reason=(reason or "").strip())


def identify_accused(kap12: Host, viewer: access.Viewer, case_id: int, username: str, reason: str = "") -> Case:
    """Rektor (B) or the school owner (B, C) names the accused, through the one write path. From
    then on the person sees nothing of the case, and grants to others can take effect."""
    if not (username or "").strip():
        raise _refuse("Velg hvem som er anklaget.", "Velg personen fra listen over ansatte ved skolen.")

    def act(step: CaseStep) -> None:
        session, case = step.session, step.case
        access.check_may_change(session, viewer, case)
        if not access.may_identify_accused(viewer, case):
            raise Denied(Message("Bare rektor (prosedyre B) eller skoleeier (prosedyre B og C) kan registrere "
                                 "hvem som er anklaget."))
        if case.status != "open":
            raise Conflict(Message("Saken er avsluttet. Ingenting ble endret."))
        name(step, viewer, username, reason)
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)
