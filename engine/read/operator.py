"""Operator views for the command line: every case, unfiltered. The command line runs on the
server with the database's own credentials, so it is not subject to the per-user policy; its
reads of a case are still recorded in the case's history."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.errors import NotFound
from engine.service import CaseSummary
from engine.store import history
from engine.store.events import CASE_READ
from engine.store.models import Case, OpenTask, PendingTimer

OPERATOR = "kommandolinjen"


def all_cases(kap12, status: str | None = None) -> list[CaseSummary]:
    with kap12.db.reading() as session:
        counts = select(OpenTask.case_id, func.count().label("n")).group_by(OpenTask.case_id).subquery()
        query = (select(Case, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.case_id == Case.id)
                 .where(Case.kind == "sak").order_by(Case.created_at.desc(), Case.id.desc()))
        if status:
            query = query.where(Case.status == status)
        return [CaseSummary(c.id, c.number, c.school.name, c.procedure, c.status, c.stage, c.created_at,
                            c.next_deadline, n) for c, n in session.execute(query)]


def case_overview(kap12, case_id: int) -> dict:
    with kap12.db.writing() as session:
        if session.scalar(select(Case.id).where(Case.id == case_id)) is None:
            raise NotFound(f"Sak {case_id} finnes ikke.")
        # Recorded first: append takes the case row (the chain head) under the write lock.
        history.append(session, history.case_chain(case_id), kind=CASE_READ, at=kap12.clock.now(),
                       actor=OPERATOR, data={"view": "cli"}, case_id=case_id)
        case = session.get(Case, case_id)
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
    return overview
