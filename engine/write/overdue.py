"""Tasks past their deadline, said again every working day.

A missed deadline is recorded once, and escalated once (the timer's own events, with their
notices). Before this, nothing more was said: a task could stand past its deadline for weeks with
only the red badge and Ukeoversikt to show it (the law review: escalations fire once). Now, every
working day of the county at 08:00, each person gets one notice with the tasks still open past
their deadline that fall to them — the assignee's, or those open to a role they hold — and those
escalated to them (rektor in A, the school owner in B and C). Nobody outside a case's circle is
told: not the accused, not the bypassed leadership in C (``notify.role_holders``). A task that
is done is not named again.

The sweeper calls ``send_if_due`` every round; it writes at most one notice per person and day
(``appointed.send_once``, as the weekly lederforum notice). Notices only: the case's
history already has the deadline missed and the escalation."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine.store.events import ESCALATED
from engine.store.id_sets import id_in_list
from engine.store.models import Case, HistoryEvent, Notification, OpenTask, OpenTaskRole
from engine.write import appointed, notify
from engine.write.unit_of_work import Host
from processes.deadlines import OSLO, format_local, is_working_day

KIND = "overdue"
LINK = "/oppgaver"
AT = time(8, 0)
LISTED = 20  # tasks named in one notice; Mine oppgaver has the rest

@dataclass(frozen=True)
class Overdue:
    case_number: str
    title: str
    due_at: datetime

    def text(self) -> str:
        return f"sak {self.case_number} «{self.title}» (frist {format_local(self.due_at)})"


def day_start(now: datetime) -> datetime | None:
    """Today's 08:00 in Oslo when today is one of the county's working days, else None."""
    local = now.astimezone(OSLO)
    if not is_working_day(local.date()):
        return None
    return datetime.combine(local.date(), AT, tzinfo=OSLO)


def send_if_due(kap12: Host, wait: bool = False) -> int:
    """Write today's notices if it is a working day past 08:00 and they are not written yet; the
    number written (0 on most rounds, cheaply; ``wait``: see ``appointed.send_once``)."""
    now = kap12.clock.now()
    start = day_start(now)

    def write(session: Session) -> list[Notification]:
        assert start is not None  # appointed.send_once writes only for a period that began
        return [_notice(user_id, own, escalated, now)
                for user_id, (own, escalated) in sorted(_by_person(session, start).items())]
    return appointed.send_once(kap12, KIND, start, write, wait)


def _by_person(session: Session, start: datetime) -> dict[int, tuple[list[Overdue], list[Overdue]]]:
    """Each person's overdue tasks: those that fall to them, and those escalated to them. A task
    counts when its deadline passed before this morning's 08:00. A few statements for all the
    county's overdue tasks, not some per task: this runs inside the lock the sweepers share."""
    found: defaultdict[int, tuple[list[Overdue], list[Overdue]]] = defaultdict(lambda: ([], []))
    past = and_(OpenTask.due_at < start, Case.status == "open")
    rows = session.execute(select(OpenTask.id, OpenTask.case_id, OpenTask.title, OpenTask.due_at, OpenTask.assignee_id,
                                  notify.assignee_may_be_told().label("tell_assignee"), Case.number)
                           .join(Case, Case.id == OpenTask.case_id).where(past)
                           .order_by(OpenTask.due_at, OpenTask.id)).all()
    # Every overdue task's roles, taken or not: which tasks fall to their roles is decided by the
    # assignee as the statement above read it, not as it may be now.
    roles: defaultdict[str, list[str]] = defaultdict(list)
    for task_id, role in session.execute(select(OpenTaskRole.task_id, OpenTaskRole.role)
                                         .join(OpenTask, OpenTask.id == OpenTaskRole.task_id)
                                         .join(Case, Case.id == OpenTask.case_id).where(past)):
        roles[task_id].append(role)
    escalations = _escalation_roles(session, [row.case_id for row in rows])
    holders = notify.role_holders_of_cases(session, {(row.case_id, role) for row in rows
                                                     for role in (roles[row.id] if row.assignee_id is None else [])
                                                     + escalations[row.id]})

    def held(case_id: int, of_roles: list[str]) -> set[int]:
        return set().union(*(holders.get((case_id, role), set()) for role in of_roles))

    for row in rows:
        item = Overdue(row.number, row.title, row.due_at)
        if row.assignee_id is not None:
            own = {row.assignee_id} if row.tell_assignee else set()
        else:
            own = held(row.case_id, roles[row.id])
        for user_id in own:
            found[user_id][0].append(item)
        for user_id in held(row.case_id, escalations[row.id]) - own:
            found[user_id][1].append(item)
    return found


def _escalation_roles(session: Session, case_ids: list[int]) -> defaultdict[str, list[str]]:
    """The roles each task's missed deadline was escalated to (the timers' escalation events)."""
    roles: defaultdict[str, list[str]] = defaultdict(list)
    if not case_ids:
        return roles
    for data in session.scalars(select(HistoryEvent.data).where(
            id_in_list(HistoryEvent.case_id, sorted(set(case_ids)), session.get_bind().dialect.name),
            HistoryEvent.kind == ESCALATED)):
        if data and data.get("task_id") and data.get("recipient_role"):
            roles[data["task_id"]].append(data["recipient_role"])
    return roles


def _listed(items: list[Overdue]) -> str:
    return "; ".join(i.text() for i in items[:LISTED]) + (f"; og {len(items) - LISTED} til" if len(items) > LISTED else "")


def _notice(user_id: int, own: list[Overdue], escalated: list[Overdue], now: datetime) -> Notification:
    count = len(own) + len(escalated)
    parts = []
    if own:
        parts.append(f"Oppgaver til deg eller din rolle som ikke er gjort innen fristen: {_listed(own)}.")
    if escalated:
        parts.append(f"Eskalert til deg, fortsatt ikke gjort: {_listed(escalated)}.")
    body = " ".join(parts) + " Sørg for at det blir gjort i dag. Se «Mine oppgaver» og sakene."
    subject = f"Over fristen: {count} oppgave" + ("r" if count != 1 else "")
    return Notification(user_id=user_id, case_id=None, kind=KIND, subject=subject, body=body, link=LINK,
                        created_at=now, mail_attempts=0)
