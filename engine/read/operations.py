"""Counts for operations (the metrics page): open incidents, mails waiting, open cases by stage.
Counts only, never a case's content or anyone's name, and each one a SQL aggregate."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from engine.store.code_values import code
from engine.store.db import Database
from engine.store.models import Case, Notification, PendingTimer


@dataclass(frozen=True)
class OperationsCounts:
    open_incidents: int
    mails_waiting: int
    open_cases: list[tuple[str, str, str, int]]  # (kind, procedure, stage code: processes/stages.py, count)


def counts(db: Database) -> OperationsCounts:
    with db.reading() as session:
        incidents = session.scalar(select(func.count()).select_from(PendingTimer)
                                   .where(PendingTimer.failed())) or 0
        mails = session.scalar(select(func.count()).select_from(Notification).where(Notification.waiting_for_mail())) or 0
        by_stage = session.execute(select(Case.kind, Case.procedure, Case.stage_code, func.count())
                                   .where(Case.status == code("open"))
                                   .group_by(Case.kind, Case.procedure, Case.stage_code)).all()
    return OperationsCounts(incidents, mails, [(kind, procedure, stage, n) for kind, procedure, stage, n in by_stage])
