"""The one access policy (DESIGN.md rule 6).

Every list, count, page, export and API call asks this module. Visibility is a SQL condition
on ``Case`` so that excluded people (the accused in B and C) are filtered in the query itself,
never in a template: a case they are accused in does not exist for them, not even in a count."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from engine.store.events import TASK_COMPLETED
from engine.store.models import Case, CaseParty, HistoryEvent, OpenTask, OpenTaskRole, School, User
from processes.roles import COUNTY_ROLES, LEADERSHIP_ROLES, SCHOOL_ROLES

FULL, STATUS = "full", "status"


@dataclass(frozen=True)
class Viewer:
    """A logged-in person and what they hold: (role, school_id, county_id) per grant."""

    id: int
    name: str
    grants: tuple[tuple[str, int | None, int | None], ...]

    @classmethod
    def of(cls, user: User) -> "Viewer":
        return cls(user.id, user.display_name, tuple((g.role, g.school_id, g.county_id) for g in user.grants))

    def has(self, role: str) -> bool:
        return any(g[0] == role for g in self.grants)

    def schools(self, roles) -> set[int]:
        return {s for r, s, _ in self.grants if r in roles and s is not None}

    def counties(self, roles) -> set[int]:
        return {c for r, _, c in self.grants if r in roles and c is not None}

    @property
    def is_auditor(self) -> bool:
        return self.has("revisor")


def _role_scope(viewer: Viewer, role_column):
    """A task role that this viewer holds for the case's school or county."""
    parts = []
    for role, school, county in viewer.grants:
        if school is not None:
            parts.append(and_(role_column == role, Case.school_id == school))
        if county is not None:
            parts.append(and_(role_column == role, Case.county_id == county))
    return or_(*parts) if parts else false()


def not_accused(viewer: Viewer):
    return ~exists().where(CaseParty.case_id == Case.id, CaseParty.user_id == viewer.id,
                           CaseParty.relation == "accused")


def full_access_clause(viewer: Viewer):
    """Cases this viewer may read in full (everything but the accused filter)."""
    own_task = exists().where(OpenTask.case_id == Case.id, OpenTask.assignee_id == viewer.id)
    role_task = (select(OpenTask.id).join(OpenTaskRole, OpenTaskRole.task_id == OpenTask.id)
                 .where(OpenTask.case_id == Case.id, OpenTask.assignee_id.is_(None),
                        _role_scope(viewer, OpenTaskRole.role)).exists())
    did_task = exists().where(HistoryEvent.case_id == Case.id, HistoryEvent.actor_id == viewer.id,
                              HistoryEvent.kind == TASK_COMPLETED)
    granted = exists().where(CaseParty.case_id == Case.id, CaseParty.user_id == viewer.id,
                             CaseParty.relation == "granted")
    clauses: list[ColumnElement[bool]] = [own_task, role_task, did_task, granted]
    leader_schools = viewer.schools(LEADERSHIP_ROLES)
    if leader_schools:
        # In C the school's leadership is bypassed: only leaders the school owner grants see it.
        # The yearly prevention cycle is the leadership's own.
        clauses.append(and_(Case.school_id.in_(leader_schools),
                            or_(Case.procedure.in_(("A", "B")), Case.kind == "arshjul")))
    owner_counties = viewer.counties({"skoleeier"})
    if owner_counties:
        clauses.append(and_(Case.county_id.in_(owner_counties),
                            or_(Case.procedure.in_(("B", "C")), Case.escalated.is_(True))))
    audit_counties = viewer.counties({"revisor"})
    if audit_counties:
        clauses.append(Case.county_id.in_(audit_counties))
    return or_(*clauses)


def status_access_clause(viewer: Viewer):
    return exists().where(CaseParty.case_id == Case.id, CaseParty.user_id == viewer.id,
                          CaseParty.relation == "reporter")


def visible_cases(viewer: Viewer, kind: str = "sak"):
    """``select(Case)`` of one kind (chapter 12 cases unless told), limited to what the viewer
    may see at all (full or status)."""
    return select(Case).where(Case.kind == kind, not_accused(viewer),
                              or_(full_access_clause(viewer), status_access_clause(viewer)))


def access_level(session, viewer: Viewer, case_id: int) -> str | None:
    """FULL, STATUS (the reporter: where the case stands, not the investigation) or None."""
    base = select(Case.id).where(Case.id == case_id, not_accused(viewer))
    if session.scalar(base.where(full_access_clause(viewer))) is not None:
        return FULL
    if session.scalar(base.where(status_access_clause(viewer))) is not None:
        return STATUS
    return None


def workable_tasks(viewer: Viewer):
    """``select(OpenTask)`` that this viewer may do now: assigned to them, or open to one of
    their roles at the case's school or county; never on a case they are accused in."""
    by_role = (exists().where(OpenTaskRole.task_id == OpenTask.id, _role_scope(viewer, OpenTaskRole.role)))
    return (select(OpenTask).join(Case, Case.id == OpenTask.case_id)
            .where(not_accused(viewer), Case.status == "open",
                   or_(OpenTask.assignee_id == viewer.id, and_(OpenTask.assignee_id.is_(None), by_role))))


def may_work_on(session, viewer: Viewer, task_id: str) -> bool:
    """May the viewer claim/complete this task (ignoring who has claimed it)?"""
    by_role = exists().where(OpenTaskRole.task_id == OpenTask.id, _role_scope(viewer, OpenTaskRole.role))
    query = (select(OpenTask.id).join(Case, Case.id == OpenTask.case_id)
             .where(OpenTask.id == task_id, not_accused(viewer), or_(OpenTask.assignee_id == viewer.id, by_role)))
    return session.scalar(query) is not None


def is_read_only(viewer: Viewer) -> bool:
    """Auditors read everything in their county and change nothing."""
    return viewer.is_auditor and not any(r not in ("revisor",) for r, _, _ in viewer.grants)


def owned_counties(viewer: Viewer) -> set[int]:
    """The counties this viewer is school owner (skoleeier) of: they see county-wide."""
    return viewer.counties({"skoleeier"})


def _leads(viewer: Viewer, case: Case) -> bool:
    """The case's school leadership or its school owner, and not a read-only auditor."""
    if is_read_only(viewer):
        return False
    return case.school_id in viewer.schools(LEADERSHIP_ROLES) or case.county_id in owned_counties(viewer)


def may_reclassify(viewer: Viewer, case: Case) -> bool:
    """The school's leadership or the school owner may reclassify a case they can see in full."""
    return _leads(viewer, case)


def may_archive(viewer: Viewer, case: Case) -> bool:
    """The school's leadership or the school owner files the case in the archive; auditors
    change nothing. (Whether the case is closed is the archive's own check.)"""
    return _leads(viewer, case)


def may_archive_any(viewer: Viewer) -> bool:
    """Whether the viewer may file any case at all: the leadership of a school or a school owner."""
    return not is_read_only(viewer) and bool(viewer.schools(LEADERSHIP_ROLES) or owned_counties(viewer))


def report_schools_clause(viewer: Viewer) -> ColumnElement[bool]:
    """Schools (a condition on ``School``) where the viewer may report: where they work, or in a
    county they own or administer."""
    employed = School.id.in_(viewer.schools(SCHOOL_ROLES))
    counties = viewer.counties({"skoleeier", "administrator"})
    return or_(employed, School.county_id.in_(counties)) if counties else employed


def may_report_at(viewer: Viewer, school: School) -> bool:
    """The same rule as ``report_schools_clause``, for one school already loaded."""
    return (school.id in viewer.schools(SCHOOL_ROLES)
            or school.county_id in viewer.counties({"skoleeier", "administrator"}))


def cycle_schools(viewer: Viewer) -> set[int]:
    """Schools whose yearly prevention cycle (årshjul) this viewer starts: the rektor's."""
    return viewer.schools({"rektor"})


def may_start_cycle(viewer: Viewer, school_id: int) -> bool:
    return school_id in cycle_schools(viewer) or viewer.has("administrator")


def may_handle_incidents(viewer: Viewer) -> bool:
    """Failed deadlines (incidents) are seen and resolved by administrators and process owners."""
    return viewer.has("administrator") or viewer.has("prosesseier")


def may_see_overview(viewer: Viewer) -> bool:
    """The weekly overview is for the schools' leadership and the school owner."""
    return any(role in LEADERSHIP_ROLES or role == "skoleeier" for role, _, _ in viewer.grants)


def sees_read_log(viewer: Viewer, case: Case) -> bool:
    """Who read a case is itself sensitive; leaders and auditors see the list, others a count."""
    return (viewer.is_auditor or case.school_id in viewer.schools(LEADERSHIP_ROLES)
            or case.county_id in viewer.counties({"skoleeier"}))


def may_audit(viewer: Viewer) -> bool:
    """The auditors' pages (replay, heat view, export, access report) are for auditors."""
    return viewer.is_auditor


def may_export(viewer: Viewer, case: Case) -> bool:
    """The whole case as a file (for Statsforvaltaren, a court, an access request): the school's
    leadership, the school owner, and auditors — the same people who see who read it."""
    return sees_read_log(viewer, case)


def may_deploy(viewer: Viewer) -> bool:
    return viewer.has("prosesseier") or viewer.has("administrator")


__all__ = ["Viewer", "FULL", "STATUS", "visible_cases", "access_level", "workable_tasks", "may_work_on",
           "is_read_only", "may_deploy", "COUNTY_ROLES"]
