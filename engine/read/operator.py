"""Operator views for the command line: every case, unfiltered. The command line runs on the
server with the database's own credentials, so it is not subject to the per-user policy; its
reads of a case are still recorded in the case's history."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.errors import NotFound
from engine.read.case_list import CaseSummary, case_summaries
from engine.store.models import Case, OpenTask, PendingTimer
from engine.write.cases import record_read
from engine.write.unit_of_work import Actor
from processes.messages import Message

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

OPERATOR = "kommandolinjen"


def all_cases(kap12: Kap12, status: str | None = None) -> list[CaseSummary]:
    with kap12.db.reading() as session:
        return case_summaries(session, status=status)


def case_overview(kap12: Kap12, case_id: int) -> dict:
    with kap12.db.reading() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(Message("Saken finnes ikke."))
        tasks = session.scalars(select(OpenTask).where(OpenTask.case_id == case_id).order_by(OpenTask.opened_at))
        timers = session.scalars(select(PendingTimer).where(PendingTimer.case_id == case_id).order_by(PendingTimer.due_at))
        overview = {
            "id": case.id, "number": case.number, "school": case.school.name, "procedure": case.procedure,
            "status": case.status, "stage": case.stage, "next_deadline": case.next_deadline,
            "definition": f"{case.definition.process_id} v{case.definition.version}",
            "tasks": [{"id": t.id, "title": t.title, "lane": t.lane, "form": t.form_key, "due_at": t.due_at,
                       "assignee_id": t.assignee_id, "roles": [r.role for r in t.roles]} for t in tasks],
            "timers": [{"id": t.id, "name": t.name, "kind": t.kind, "due_at": t.due_at, "attempts": t.attempts,
                        "last_error": t.last_error} for t in timers],
        }
    record_read(kap12, Actor(None, OPERATOR), case_id, "cli")
    return overview
