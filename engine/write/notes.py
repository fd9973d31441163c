"""Notes in a case: what happens between the procedure's steps (a conversation with the parents,
a new incident, a phone call from the police), and corrections of what an earlier step recorded.

The documentation duty (§ 12-4) covers more than the forms. Nothing recorded may be changed or
deleted (case documents about a pupil's school environment are kept permanently), so a wrong date
or a misheard name in a completed step is corrected by a new record that names the step it
corrects. A note is a step of the one write path, with its event in the case's chain; it does
not touch the workflow, so replay passes over it as over a leadership review.

A closed case takes notes too, from those who lead it (a correction Statsforvaltaren asks for, a
date found wrong when the archive is checked): the note is marked as written after closing, and
its document is one the archive has not had (the case page says so beside the extract)."""
from __future__ import annotations

from sqlalchemy import select

from engine import access
from engine.errors import Denied, InvalidInput
from engine.store.events import CASE_ENDED, CASE_NOTE, REPORTED, TASK_COMPLETED
from engine.store.models import Case, HistoryEvent
from engine.write import written
from engine.write.unit_of_work import Actor, CaseStep, Host
from processes.messages import Message

TEXT_MAX = 4000
# What a correction may name: a step that recorded something (the report, a completed form, an
# ending), or an earlier note.
CORRECTABLE = (REPORTED, TASK_COMPLETED, CASE_ENDED, CASE_NOTE)


def step_title(event: HistoryEvent) -> str:
    """How a correctable step is named in a note and in the list to choose from."""
    if event.kind == REPORTED:
        return "Melding"
    if event.kind == CASE_NOTE:
        return "Notat"
    return (event.data or {}).get("title") or ""


def offered(viewer: access.Viewer, case: Case) -> bool:
    """Whether the case page (read in full) offers a note: to whom the policy allows, open or
    closed."""
    return access.may_write_note(viewer, case)


def add_note(kap12: Host, viewer: access.Viewer, case_id: int, text: str, corrects: int | None = None) -> Case:
    """Record a note by someone who reads the case in full and may change it (never an auditor,
    the reporter or the accused); ``corrects``: the ``seq`` of the earlier step it corrects."""
    text = written.within(written.as_written(text), "notat", TEXT_MAX, Message("Notatet er for langt."))
    if not text:
        raise InvalidInput(Message("Notatet er tomt."), {"notat": [Message("Skriv hva som skal stå i saken.")]})

    def act(step: CaseStep) -> None:
        session, case = step.session, step.case
        access.check_may_change(session, viewer, case)  # auditors: Denied; outside the circle: not found
        if not access.may_write_note(viewer, case):
            raise Denied(Message("Saken er avsluttet. Da kan bare de som leder saken, skrive i den. Ingenting ble "
                                 "lagret."))
        target = None
        if corrects is not None:
            target = session.scalars(select(HistoryEvent).where(
                HistoryEvent.case_id == case.id, HistoryEvent.seq == corrects,
                HistoryEvent.kind.in_(CORRECTABLE))).first()
            if target is None:
                raise InvalidInput(Message("Steget som skal rettes, finnes ikke i saken."),
                                   {"retter": [Message("Velg et steg fra listen.")]})
        step.record(CASE_NOTE, text=text, after_closing=case.status != "open",
                    corrects=target.seq if target is not None else None,
                    corrects_title=step_title(target) if target is not None else None,
                    corrects_at=target.at.isoformat() if target is not None else None)
    return kap12.writer.step(case_id, Actor(viewer.id, viewer.name), act)
