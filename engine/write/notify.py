"""Who is told what, when a case step opens a task, fires a reminder or an escalation, or
reclassifies a case. Notices are written in the step's own transaction (an outbox); the
mailer sends them afterwards. An accused person is never a recipient: the recipients query
excludes them like every other query about the case."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, bindparam, exists, literal, or_, select, union_all, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.access import Viewer
from engine.store.events import (
    ACCESS_GRANTED,
    CASE_ENDED,
    ESCALATED,
    MEASURES_ASSIGNED,
    RECLASSIFIED,
    REMINDER,
    TASK_OPENED,
)
from engine.store.id_sets import id_in_list
from engine.store.models import Case, CaseParty, Notification, OpenTask, RoleGrant, User
from processes.deadlines import format_local
from processes.roles import COUNTY_ROLES, SHARPENED

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

CASE_LINK = "/saker/{case_id}"
# A measure's owner sees the measure, not the case: their notice leads to «Mine tiltak».
MEASURES_LINK = "/tiltak"

_Int = ColumnElement[int] | InstrumentedAttribute[int]  # a parameter, or a column of the case's own


def _may_be_told(case_id: _Int) -> tuple[ColumnElement[bool], ...]:
    """A person (``User``) told of the case ``case_id``: active, and never one who is accused in it."""
    accused = exists().where(CaseParty.case_id == case_id, CaseParty.user_id == User.id,
                             CaseParty.relation == "accused")
    return User.active.is_(True), ~accused


def _reaches(county_role: bool, school_id: _Int, county_id: _Int) -> ColumnElement[bool]:
    """A role grant (``RoleGrant``) that reaches a case at ``school_id`` in ``county_id``: a
    county role's in its county, a school role's at its school."""
    return RoleGrant.county_id == county_id if county_role else RoleGrant.school_id == school_id


# Built once: every step that opens a task asks them, and building them cost more than running them.
_ROLE_HOLDERS = (select(User.id).join(RoleGrant, RoleGrant.user_id == User.id)
                 .where(or_(and_(RoleGrant.role.in_(bindparam("school_roles", expanding=True)),
                                 _reaches(False, bindparam("school_id"), bindparam("county_id"))),
                            and_(RoleGrant.role.in_(bindparam("county_roles", expanding=True)),
                                 _reaches(True, bindparam("school_id"), bindparam("county_id")))),
                        *_may_be_told(bindparam("case_id")))
                 .distinct().order_by(User.id))
_IF_MAY_BE_TOLD = select(User.id).where(User.id == bindparam("user_id"), *_may_be_told(bindparam("case_id")))


def role_holders(session: Session, case: Case, roles: Iterable[str | None]) -> list[int]:
    """The ids of the active people holding one of ``roles`` for the case's school (school
    roles) or county (county roles), never one who is accused in the case. (Ids, not rows: a
    person's row brings their grants, and every step that opened a task read them all.)"""
    roles = [r for r in roles if r]
    if not roles:
        return []
    return list(session.scalars(_ROLE_HOLDERS, {
        "school_roles": [r for r in roles if r not in COUNTY_ROLES], "school_id": case.school_id,
        "county_roles": [r for r in roles if r in COUNTY_ROLES], "county_id": case.county_id, "case_id": case.id}))


def role_holders_of_cases(session: Session, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], set[int]]:
    """``role_holders`` for many cases at once: for each (case id, role) wanted, the people who
    hold the role for that case and may be told of it. One statement for them all, with one
    part per role: the daily notice of tasks past their deadline asks this for every such task
    in the county, thousands of them in a large one, inside the lock the sweepers share."""
    by_role: defaultdict[str, set[int]] = defaultdict(set)
    for case_id, role in wanted:
        by_role[role].add(case_id)
    if not by_role:
        return {}
    dialect = session.get_bind().dialect.name
    parts = [select(Case.id, literal(role), User.id).select_from(Case)
             .join(RoleGrant, and_(RoleGrant.role == role, _reaches(role in COUNTY_ROLES, Case.school_id, Case.county_id)))
             .join(User, User.id == RoleGrant.user_id)
             .where(id_in_list(Case.id, sorted(case_ids), dialect), *_may_be_told(Case.id))
             for role, case_ids in sorted(by_role.items())]
    found: defaultdict[tuple[int, str], set[int]] = defaultdict(set)
    for case_id, role, user_id in session.execute(union_all(*parts)):
        found[(case_id, role)].add(user_id)
    return found


def assignee_may_be_told() -> ColumnElement[bool]:
    """Whether an open task's (``OpenTask``) assignee may be told of its case, as
    ``assignee_who_may_be_told`` asks it: a column of a query of many tasks, read in the same
    statement as the assignee (a task taken or let go meanwhile is asked as it was read)."""
    return exists().where(User.id == OpenTask.assignee_id, *_may_be_told(OpenTask.case_id))


def _if_may_be_told(session: Session, case: Case, user_id: int | None) -> list[int]:
    """``[user_id]`` if that person may be told of the case (``_may_be_told``), else ``[]``."""
    return list(session.scalars(_IF_MAY_BE_TOLD, {"user_id": user_id, "case_id": case.id}))


def _task_recipients(session: Session, case: Case, task_id: str | None) -> list[int]:
    row = session.get(OpenTask, task_id) if task_id else None
    if row is None:
        return []
    if row.assignee_id is not None:
        return assignee_who_may_be_told(session, case, row)
    return role_holders(session, case, [r.role for r in row.roles])


def assignee_who_may_be_told(session: Session, case: Case, row: OpenTask) -> list[int]:
    """``[the task's assignee]`` while they may be told of the case (not accused in it, still
    active), else ``[]``."""
    return _if_may_be_told(session, case, row.assignee_id)


def _due(value: str | None) -> str:
    return f" Frist: {format_local(datetime.fromisoformat(value))}." if value else ""


def plan(session: Session, case: Case, events: list[tuple[str, dict]], now: datetime,
         actor_id: int | None = None) -> list[Notification]:
    """Notices for what a step caused. Texts name the case number and the step, never the pupil.
    The person whose act opened a task is not told about it: the page they are on already says."""
    notices: list[Notification] = []

    def tell(user_ids: Iterable[int], kind: str, subject: str, body: str, link: str | None = None) -> None:
        for user_id in user_ids:
            if kind in ("task", "reclassified", "ended", "measure") and user_id == actor_id:
                continue
            notices.append(Notification(user_id=user_id, case_id=case.id, kind=kind, subject=subject, body=body,
                                        link=link or CASE_LINK.format(case_id=case.id), created_at=now,
                                        mail_attempts=0))

    for kind, data in events:
        if kind == TASK_OPENED:
            tell(role_holders(session, case, data.get("roles", [])), "task",
                 f"Ny oppgave i sak {case.number}: {data['title']}",
                 f"Sak {case.number} har en ny oppgave til deg eller din rolle: «{data['title']}».{_due(data.get('due_at'))}")
        elif kind == REMINDER:
            tell(_task_recipients(session, case, data.get("task_id")), "reminder",
                 f"Påminnelse i sak {case.number}",
                 f"Påminnelse: «{data['timer']}» i sak {case.number}. Oppgaven venter på deg eller din rolle.")
        elif kind == ESCALATED:
            tell(role_holders(session, case, [data.get("recipient_role")]), "escalation",
                 f"Frist oversittet i sak {case.number}",
                 f"En frist i sak {case.number} er oversittet («{data['timer']}»), og saken er eskalert til deg. "
                 "Sørg for at saken blir fulgt opp straks.")
        elif kind == ACCESS_GRANTED:
            grantee = session.get(User, data.get("user_id"))
            if grantee is not None and grantee.active:
                until = date.fromisoformat(data["until"]).strftime("%d.%m.%Y")
                # The reason may name the pupil: it stays in the case, not in the mail.
                tell([grantee.id], "access", f"Du har fått tilgang til sak {case.number}",
                     f"Du har fått tilgang til å lese sak {case.number} til og med {until}. "
                     "Hvorfor står i saken. Saken er taushetsbelagt.")
        elif kind == MEASURES_ASSIGNED:
            owner = _if_may_be_told(session, case, data.get("user_id"))
            if owner:
                # What the measures are stays in kap12: a mail names the case number only.
                count = data.get("count", 1)
                tell(owner, "measure", f"Du er ansvarlig for tiltak i sak {case.number}",
                     f"Du er satt som ansvarlig for {count} tiltak i sak {case.number}. Se dem under «Mine tiltak», "
                     "og registrer når hvert tiltak er gjennomført. Saken er taushetsbelagt.", MEASURES_LINK)
        elif kind == RECLASSIFIED:
            watchers = ["rektor"] + (["skoleeier"] if data["to_procedure"] in SHARPENED else [])
            if data["to_procedure"] == "C":
                watchers = ["skoleeier"]  # the school's leadership is bypassed in C
            tell(role_holders(session, case, watchers), "reclassified",
                 f"Sak {case.number} er klassifisert om",
                 f"Sak {case.number} følger nå prosedyre {data['to_procedure']} "
                 f"(før: {data['from_procedure']}).")
        elif kind == CASE_ENDED:
            # Those who lead the case hear that it ended without the procedure run to its end
            # (in B the school owner hears when rektor does it); in C never the bypassed school.
            watchers = {"A": ["rektor"], "B": ["rektor", "skoleeier"], "C": ["skoleeier"]}.get(
                data.get("procedure") or case.procedure, ["rektor"])
            tell(role_holders(session, case, watchers), "ended", f"Sak {case.number} er avsluttet av annen grunn",
                 f"Sak {case.number} er avsluttet før prosedyren var fulgt til ende. Grunnen står i saken.")
    for notice in notices:
        session.add(notice)
    return notices


def mark_read(kap12: Kap12, viewer: Viewer, ids: list[int] | None = None) -> None:
    """The viewer has seen these notices (all unread ones when ``ids`` is None)."""
    with kap12.db.writing() as session:
        # One statement: a person away for a term had hundreds unread, each loaded as an object.
        query = update(Notification).where(Notification.user_id == viewer.id, Notification.read_at.is_(None))
        if ids is not None:
            query = query.where(Notification.id.in_(ids))
        session.execute(query.values(read_at=kap12.clock.now()), execution_options={"synchronize_session": False})
