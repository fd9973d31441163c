"""Read-only queries the web pages need beyond the ``Kap12`` facade.

Every query that touches a case goes through ``access`` (``visible_cases``, ``access_level``,
``workable_tasks``), so the accused and the unrelated never see a row, not even in a count.
Nothing here writes, except that reading a case's content is recorded by ``Kap12.case``, which
the pages call first."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Unpack

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, literal, or_, select, union
from sqlalchemy.orm import Session, raiseload, undefer

from engine import access
from engine.errors import NotFound
from engine.read import measures, paging
from engine.runtime.progress import active_elements, completed_elements
from engine.store import case_tallies, history, identities
from engine.store.code_values import chosen, code, number
from engine.store.events import CASE_ENDED, CASE_READ, REPORTED, TASK_COMPLETED
from engine.store.models import (
    ApiToken,
    Case,
    CaseParty,
    CaseTally,
    DefinitionVersion,
    HistoryEvent,
    OpenTask,
    OpenTaskRole,
    RoleGrant,
    School,
    User,
)
from engine.versions import definitions
from engine.write import notes
from engine.write.grants import grants_of
from engine.write.parties import accused_of, named_outside
from processes import forms
from processes import measures as measure_names
from processes.deadlines import KNOWN_FIELD, TAKEN_UP_FIELD
from processes.messages import Message
from processes.roles import PROCEDURE_LABELS, SHARPENED

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

STAFF_ROLES = ("ansatt", "avdelingsleder", "rektor")


# -- people and schools ------------------------------------------------------------------------
def user_for_login(kap12: Kap12, username: str) -> User | None:
    with kap12.db.reading() as session:
        return session.scalars(select(User).where(User.username == username)).first()


def password_hash_for_login(kap12: Kap12, username: str) -> str | None:
    """The account's password hash alone (None: no such account, or none set)."""
    with kap12.db.reading() as session:
        return session.scalar(select(User.password_hash).where(User.username == username))


def user_for_identity(kap12: Kap12, issuer: str, subject: str) -> User | None:
    """The active user an identity provider's person is bound to (external identities)."""
    with kap12.db.reading() as session:
        return identities.user_for(session, issuer, subject)


def report_schools(kap12: Kap12, viewer: access.Viewer) -> list[tuple[int, str]]:
    """Schools the viewer may report for: where they work, or in a county they own."""
    with kap12.db.reading() as session:
        query = select(School.id, School.name).where(access.report_schools_clause(viewer)).order_by(School.name)
        return [(r.id, r.name) for r in session.execute(query)]


def _staff_of(school_ids: Iterable[int], exclude_user_id: int | None) -> Select[str, str]:
    return (select(User.username, User.display_name).join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.school_id.in_(list(school_ids)), RoleGrant.role.in_(STAFF_ROLES),
                   User.active.is_(True), User.id != (exclude_user_id or -1))
            .group_by(User.username, User.display_name).order_by(User.display_name))


def school_staff(kap12: Kap12, school_ids: Iterable[int], exclude_user_id: int | None = None) -> list[tuple[str, str]]:
    """(username, display name) of everyone working at these schools: the pickers of a case."""
    with kap12.db.reading() as session:
        return [(r.username, r.display_name) for r in session.execute(_staff_of(school_ids, exclude_user_id))]


def report_school_staff(kap12: Kap12, viewer: access.Viewer, school_id: int) -> list[tuple[str, str]] | None:
    """``school_staff`` of one school the viewer may report for, less the viewer: the report
    form's accused picker. ``None``: not a school they report for.

    One school, never all of the viewer's: a school owner's county has tens of thousands of
    staff, and the accused is always someone at the case's own school (§ 12-5)."""
    with kap12.db.reading() as session:
        if session.scalar(select(School.id).where(School.id == school_id, access.report_schools_clause(viewer))) is None:
            return None
        return [(r.username, r.display_name) for r in session.execute(_staff_of([school_id], viewer.id))]


def publishes_versions(kap12: Kap12, viewer: access.Viewer) -> bool:
    """``access.publishes_versions``, for a page: whether it shows the controls to publish."""
    with kap12.db.reading() as session:
        return access.publishes_versions(session, viewer)


def withdraws_versions(kap12: Kap12, viewer: access.Viewer) -> bool:
    """``access.withdraws_versions``, for a page: whether it shows the control to withdraw."""
    with kap12.db.reading() as session:
        return access.withdraws_versions(session, viewer)


def display_names(kap12: Kap12, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = [i for i in set(user_ids) if i is not None]
    if not ids:
        return {}
    with kap12.db.reading() as session:
        return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# -- tasks -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskRow:
    task: OpenTask
    case_id: int
    case_number: str
    procedure: str
    school_id: int
    school: str
    assignee: str | None
    roles: tuple[str, ...] = ()  # whom the task is open to; asked for by the API (``task_page``)


def _task_keys(arm: access.TaskArm) -> tuple[paging.Key, ...]:
    """Soonest deadline first, tasks without one last (``NEVER_DUE``), then the oldest; the task
    id makes the order total for paging."""
    return tuple(paging.Key(column) for column in arm.order)


def _of_procedure(procedure: str) -> Callable[[access.TaskArm], ColumnElement[bool]]:
    """An arm's tasks of ``procedure``: the filter's choice, or each of the procedures the
    choices ask about (``code_values.chosen``: a choice that is no procedure stays a parameter)."""
    return lambda arm: arm.procedure == chosen(procedure, PROCEDURE_LABELS)


def _filtered(arm: access.TaskArm, school_id: int | None, procedure: str | None, by_case: bool) -> Select[Any]:
    query = arm.query
    if school_id is not None:
        query = query.where(arm.school == school_id)
    if procedure:
        query = query.where(_of_procedure(procedure)(arm))
    if by_case:
        query = query.where(arm.case_id == bindparam("case_id", type_=Integer))
    return query


def _tasks_query(viewer: access.Viewer, school_id: int | None, procedure: str | None, by_case: bool,
                 cursor: str | None, size: int) -> Select[Any]:
    """The statement of one page of ``task_page`` (a case's tasks: ``:case_id``)."""
    firsts = []
    for arm in access.workable_task_arms(viewer):
        keys = _task_keys(arm)
        query = _filtered(arm, school_id, procedure, by_case).with_only_columns(
            arm.order[2].label("id"), arm.order[0].label("due_order"), arm.order[1].label("opened_at"))
        # Each arm apart (as a sub-query): SQLite takes no ORDER BY or LIMIT inside a UNION.
        firsts.append(select(paging.paged(query, keys, cursor, size).subquery()))
    found = union(*firsts).subquery("workable")
    keys = (paging.Key(found.c.due_order), paging.Key(found.c.opened_at), paging.Key(found.c.id))
    query = (select(OpenTask, Case.number, Case.procedure, Case.school_id, School.name, found.c.due_order)
             .join(found, found.c.id == OpenTask.id).join(Case, Case.id == OpenTask.case_id)
             .join(School, School.id == Case.school_id).options(raiseload(OpenTask.roles)))
    return paging.paged(query, keys, cursor, size)


# A first page's statement, built once per person, grants, filters and size: building the
# policy's arms cost more than running them (a short task list, or the tasks that follow a
# completed one, took twice as long). A later page's cursor is in the statement; it is built anew.
@lru_cache(maxsize=1024)
def _first_tasks_query(viewer: access.Viewer, school_id: int | None, procedure: str | None, by_case: bool,
                       size: int) -> Select[Any]:
    return _tasks_query(viewer, school_id, procedure, by_case, None, size)


# What a page of tasks shows besides the tasks (by the parameter ``ids``), built once.
_NAMES = select(User.id, User.display_name).where(User.id.in_(bindparam("ids", expanding=True)))
_TASK_ROLES = (select(OpenTaskRole.task_id, OpenTaskRole.role)
               .where(OpenTaskRole.task_id.in_(bindparam("ids", expanding=True))).order_by(OpenTaskRole.role))


def task_page(kap12: Kap12, viewer: access.Viewer, *, school_id: int | None = None, procedure: str | None = None,
              case_id: int | None = None, cursor: str | None = None, limit: int | None = None,
              with_roles: bool = False) -> paging.Page[TaskRow]:
    """One page of the viewer's workable tasks with the case facts a task list shows, soonest
    deadline first, filtered and paged in the query: each of the policy's arms
    (``access.workable_task_arms``) gives its first rows after the cursor in the list's order,
    read from its index, and the page is the first of those — it costs the same with a
    county's 5,400 open tasks in the viewer's lists as with fifty. ``with_roles``: each row's
    roles too (the API shows them; the pages do not, and the task's own rows of them are never
    loaded here: a page of tasks loaded them all, a tenth of its time)."""
    size = paging.clamp(limit)
    by_case = case_id is not None
    query = (_first_tasks_query(viewer, school_id, procedure, by_case, size) if cursor is None
             else _tasks_query(viewer, school_id, procedure, by_case, cursor, size))
    with kap12.db.generic_plans() as session:
        rows = list(session.execute(query, {"case_id": case_id} if by_case else {}).all())
        page = paging.page_of(rows, size, lambda r: (r.due_order, r[0].opened_at, r[0].id))
        assignees = {r[0].assignee_id for r in page.items if r[0].assignee_id}
        names = dict(session.execute(_NAMES, {"ids": list(assignees)}).all()) if assignees else {}
        roles: defaultdict[str, list[str]] = defaultdict(list)
        if with_roles and page.items:
            for task_id, role in session.execute(_TASK_ROLES, {"ids": [r[0].id for r in page.items]}):
                roles[task_id].append(role)
        return paging.Page([TaskRow(t, t.case_id, number, proc, school, school_name, names.get(t.assignee_id),
                                    tuple(roles[t.id]))
                            for t, number, proc, school, school_name, _ in page.items], page.next_cursor)


@dataclass(frozen=True)
class TaskChoices:
    """What the task list's filters offer: the schools and procedures with a task for the viewer
    (each asked as "is there one", which stops at the first), and whether there is any task."""
    has_tasks: bool
    schools: list[tuple[int, str]]
    procedures: list[str]


def _in_some_arm(arms: list[access.TaskArm],
                 condition: Callable[[access.TaskArm], ColumnElement[bool]]) -> ColumnElement[bool]:
    """There is a task meeting ``condition`` in one of the arms, each asked for its first: as
    EXISTS, PostgreSQL gathered all of an arm's tasks once to test the schools against them."""
    return or_(*(arm.query.with_only_columns(literal(1)).where(condition(arm)).limit(number(1)).scalar_subquery().is_not(None)
                 for arm in arms))


@lru_cache(maxsize=512)
def _choices_queries(viewer: access.Viewer) -> tuple[Select[int, str], Select[Unpack[tuple[bool, ...]]]]:
    """``task_choices``'s two statements, built once per person and grants (as
    ``_first_tasks_query``): the procedures' is a sub-query per procedure and arm, and building
    them took rektor's Mine oppgaver longer than the database took to answer (6 of 11 ms)."""
    arms = access.workable_task_arms(viewer)
    # The schools a task can be at: those of the viewer's places, and of the tasks assigned to them.
    places = or_(School.id.in_(sorted(viewer.schools())), School.county_id.in_(sorted(viewer.counties())),
                 School.id.in_(select(Case.school_id).join(OpenTask, OpenTask.case_id == Case.id)
                               .where(OpenTask.assignee_id == viewer.id)))
    schools = (select(School.id, School.name).where(places, _in_some_arm(arms, lambda arm: arm.school == School.id))
               .order_by(School.name, School.id))
    # Every procedure a case can follow: A, B, C and the yearly cycle (Å).
    procedures = select(*(_in_some_arm(arms, _of_procedure(p)).label(f"p{n}") for n, p in enumerate(PROCEDURE_LABELS)))
    return schools, procedures


def task_choices(kap12: Kap12, viewer: access.Viewer) -> TaskChoices:
    schools_query, procedures_query = _choices_queries(viewer)
    with kap12.db.generic_plans() as session:
        schools = [(school_id, name) for school_id, name in session.execute(schools_query)]
        if not schools:
            return TaskChoices(False, [], [])
        found = session.execute(procedures_query).one()
        return TaskChoices(True, schools, [p for p, there in zip(PROCEDURE_LABELS, found, strict=True) if there])


@dataclass(frozen=True)
class TaskLookup:
    task: OpenTask
    case_id: int
    workable: bool  # False: the viewer may read the case but not do this task (e.g. an auditor)
    # The latest version of the task's form, found in the lookup's own transaction (asked in one
    # of its own, the form catalog's freshness was a tenth of opening a task).
    form: forms.Form


def task_for(kap12: Kap12, viewer: access.Viewer, task_id: str) -> TaskLookup:
    """An open task the viewer may see. A task that was completed meanwhile raises Conflict (only
    to someone who may see its case); anything else the viewer may not see is NotFound."""
    with kap12.db.reading() as session:
        row = access.workable_task(session, viewer, task_id)
        if row is not None:
            return TaskLookup(row, row.case_id, True, kap12.forms.get(row.form_key, session))
        row = access.open_task(session, viewer, task_id)
        if access.access_level(session, viewer, row.case_id) == access.FULL:
            return TaskLookup(row, row.case_id, False, kap12.forms.get(row.form_key, session))
        raise NotFound(access.GONE)


def earlier_answers(kap12: Kap12, viewer: access.Viewer, lookup: TaskLookup) -> dict:
    """What a revising step opens with (forms.REVISED_FROM_EARLIER): the answers of the latest
    completed step of the same form on the case; nothing for anyone who may not do the task."""
    key = lookup.task.form_key
    if not lookup.workable or (key not in forms.REVISED_FROM_EARLIER and key != measure_names.CARRY_OUT_FORM):
        return {}
    with kap12.db.reading() as session:
        if access.access_level(session, viewer, lookup.case_id) != access.FULL:
            return {}
    if key == measure_names.CARRY_OUT_FORM:  # a row per measure of the plan, with what is recorded so far
        return measures.carrying_out_answers(kap12, lookup.case_id)
    with kap12.db.reading() as session:
        done = session.scalars(select(HistoryEvent).where(
            HistoryEvent.chain == history.case_chain(lookup.case_id), HistoryEvent.kind == TASK_COMPLETED,
            HistoryEvent.data["form"].as_string() == key).order_by(HistoryEvent.seq.desc()).limit(1)).first()
    if done is None:
        return {}
    return forms.carried_over(kap12.forms.get(key), (done.data or {}).get("data") or {})


completed_task_event = history.completed_task_event


def case_of_task(kap12: Kap12, viewer: access.Viewer, task_id: str) -> int | None:
    """The case of an open or completed task, if the viewer may see that case at all."""
    with kap12.db.reading() as session:
        row = session.get(OpenTask, task_id)
        case_id = row.case_id if row is not None else getattr(completed_task_event(session, task_id), "case_id", None)
        if case_id is None or access.access_level(session, viewer, case_id) is None:
            return None
        return case_id


# -- cases -------------------------------------------------------------------------------------
def with_cases(cases: Select[Case], viewer: access.Viewer, *, reported: bool) -> ColumnElement[bool]:
    """A school with at least one of these cases (the viewer's: ``access.visible_cases``, with
    ``reported``; or ``access.readable_cases``), or — for a school owner or an
    auditor — any school of their counties, whose every school they choose among. Once the page
    found the viewer's reach (``access.with_reach``), from their roles and own cases
    (``access.schools_of_own_cases``); else asked school by school (EXISTS on the index by
    school), not by reading every case ever made, as a join would."""
    counties = access.counties_where(viewer, "skoleeier", "revisor")
    if viewer.reach is not None:
        found: ColumnElement[bool] = School.id.in_(access.schools_of_own_cases(viewer, cases, reported))
    else:
        found = cases.where(Case.school_id == School.id).with_only_columns(Case.id).exists()
    return or_(School.county_id.in_(counties), found) if counties else found


def case_schools(kap12: Kap12, viewer: access.Viewer) -> list[tuple[int, str]]:
    """The schools of the cases the viewer can see (for the case list's filter)."""
    with kap12.db.reading() as session:
        query = (select(School.id, School.name).where(with_cases(access.visible_cases(viewer), viewer, reported=True))
                 .order_by(School.name))
        return [(r.id, r.name) for r in session.execute(query)]


def can_see(kap12: Kap12, viewer: access.Viewer, case_id: int) -> bool:
    with kap12.db.reading() as session:
        return access.access_level(session, viewer, case_id) is not None


may_reclassify = access.may_reclassify
sees_read_log = access.sees_read_log


@dataclass
class DiagramProcess:
    process_id: str
    name: str
    xml: str
    completed: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)


ROUTING_PROCESS = "kap12_sak"


def case_diagrams(kap12: Kap12, viewer: access.Viewer, case_id: int) -> list[DiagramProcess]:
    """The diagrams of the case's own version that the case has run through (the procedure and
    the shared follow-up), with the elements done and the ones open now. FULL access only."""
    with kap12.db.reading() as session:
        if access.access_level(session, viewer, case_id) != access.FULL:
            raise NotFound(Message("Saken finnes ikke."))
        case = session.get_one(Case, case_id, options=[undefer(Case.state)])  # exists: the viewer has full access
        version = session.get_one(DefinitionVersion, case.definition_id)
        case.definition = version
        workflow = kap12.writer.load_workflow(case)
    done, active = completed_elements(workflow), active_elements(workflow)
    result = []
    for process_id, source in version.sources.items():
        if process_id == ROUTING_PROCESS or process_id not in done and process_id not in active:
            continue
        xml = source.get("xml", "")
        result.append(DiagramProcess(process_id, definitions.process_name(version, process_id), xml,
                                     sorted(done.get(process_id, set())),
                                     sorted(active.get(process_id, set()) - done.get(process_id, set()))))
    # The procedure first, then the shared follow-up.
    result.sort(key=lambda d: (d.process_id == "oppfolging", d.process_id))
    return result


@dataclass(frozen=True)
class Step:
    """A completed step of a case: the form data someone submitted."""
    at: datetime
    actor: str
    title: str
    form_key: str
    data: dict
    form_version: int | None = None  # the form version it was filled in with (None: before versions)


def case_steps(kap12: Kap12, viewer: access.Viewer, case_id: int) -> list[Step]:
    """The report, every completed task's form data and an ending for another reason (it
    carries its form too), oldest first. FULL access only: the reporter sees where the case
    stands, not the investigation."""
    with kap12.db.reading() as session:
        if access.access_level(session, viewer, case_id) != access.FULL:
            raise NotFound(Message("Saken finnes ikke."))
        return steps_from(session.scalars(select(HistoryEvent).where(
            HistoryEvent.chain == history.case_chain(case_id),
            HistoryEvent.kind.in_(STEP_KINDS)).order_by(HistoryEvent.seq)))


# The events that carry a form: the report, a completed task, an ending for another reason.
STEP_KINDS = (REPORTED, TASK_COMPLETED, CASE_ENDED)


def steps_from(events: Iterable[HistoryEvent]) -> list[Step]:
    """The steps among a case's events, in their order — for a caller that has already read
    the history and checked FULL access (the case page), so it is not read twice."""
    steps = []
    for ev in events:
        if ev.kind == REPORTED:
            steps.append(Step(ev.at, ev.actor, notes.step_title(ev), "meldingsskjema", ev.data.get("report", {}),
                              ev.data.get("form_version")))
        elif ev.kind in STEP_KINDS:
            steps.append(Step(ev.at, ev.actor, notes.step_title(ev), ev.data.get("form", ""),
                              ev.data.get("data", {}), ev.data.get("form_version")))
    return steps


def note_targets(events: Iterable[HistoryEvent]) -> list[tuple[int, str, datetime]]:
    """(seq, title, when) of each step a note may correct, newest first: the report, the
    completed forms, an ending, earlier notes."""
    return [(ev.seq, notes.step_title(ev), ev.at) for ev in reversed(list(events)) if ev.kind in notes.CORRECTABLE]


def reported_at(events: Iterable[HistoryEvent]) -> datetime | None:
    return next((ev.at for ev in events if ev.kind == REPORTED), None)


def known_on(events: Iterable[HistoryEvent]) -> str | None:
    """The day the reporter says they learned of it (ISO date), from the report, or None."""
    report = next((ev for ev in events if ev.kind == REPORTED), None)
    return ((report.data or {}).get("report") or {}).get(KNOWN_FIELD) if report is not None else None


@dataclass(frozen=True)
class Circle:
    """Who is inside a case beyond its procedure's roles, for the case page: the access grants
    (shown to those who lead the case and to auditors), the named accused (to those who lead it),
    and what this viewer may do about either."""

    grants: list
    accused: list[str]
    accused_outside: list[str]  # named in words, without an account in kap12 (engine/write/parties.py)
    may_grant: bool
    may_identify: bool
    shown: bool
    staff: list[tuple[str, str]]


def case_circle(kap12: Kap12, viewer: access.Viewer, case: Case) -> Circle:
    shown = access.sees_read_log(viewer, case)  # who leads it, or audits it
    open_case = case.status == "open"
    with kap12.db.reading() as session:
        accused = accused_of(session, case.id) if shown else []
        # The accused named in words are shown in B and C only, as the accused are.
        in_words = named_outside(session, case.id) if shown and case.procedure in SHARPENED else []
    names = {u.username for u in accused}
    staff = [(u, n) for u, n in school_staff(kap12, [case.school_id], exclude_user_id=viewer.id) if u not in names]
    return Circle(grants_of(kap12, case.id) if shown else [], [u.display_name for u in accused], in_words,
                  open_case and access.may_grant(viewer, case),
                  open_case and access.may_identify_accused(viewer, case), shown, staff)


# -- for the profile, the auditors' pages, the API and the command line -----------------------
def api_keys(kap12: Kap12, viewer: access.Viewer) -> list[dict]:
    """The viewer's own API keys (never the keys themselves, which are not stored)."""
    with kap12.db.reading() as session:
        return [{"id": t.id, "name": t.name, "created_at": t.created_at, "last_used_at": t.last_used_at,
                 "revoked_at": t.revoked_at} for t in session.scalars(
                     select(ApiToken).where(ApiToken.user_id == viewer.id).order_by(ApiToken.id))]


def definition_versions(kap12: Kap12) -> list[dict]:
    """Every deployed diagram version, newest first, with who deployed it and whether it is the
    latest of its process."""
    with kap12.db.reading() as session:
        latest = {row.id for row in definitions.latest_versions(session).values()}
        rows = session.execute(
            select(DefinitionVersion.id, DefinitionVersion.process_id, DefinitionVersion.version,
                   DefinitionVersion.name, DefinitionVersion.content_hash, DefinitionVersion.deployed_at,
                   DefinitionVersion.comment, User.display_name)
            .outerjoin(User, User.id == DefinitionVersion.deployed_by_id)
            .order_by(DefinitionVersion.deployed_at.desc(), DefinitionVersion.process_id,
                      DefinitionVersion.version.desc())).all()
    return [{"id": r.id, "process_id": r.process_id, "version": r.version, "name": r.name,
             "content_hash": r.content_hash, "deployed_at": r.deployed_at, "deployed_by": r.display_name,
             "comment": r.comment or "", "latest": r.id in latest} for r in rows]


class VersionInUse(NamedTuple):
    id: int
    process_id: str
    version: int
    deployed_at: datetime
    cases: int  # of the viewer's visible cases


def versions_in_use(kap12: Kap12, viewer: access.Viewer) -> list[VersionInUse]:
    """The versions the viewer's visible cases run on, by process and number."""
    with kap12.db.reading() as session:
        counts = _cases_per_version(session, viewer)
        if not counts:
            return []
        versions = session.execute(
            select(DefinitionVersion.id, DefinitionVersion.process_id, DefinitionVersion.version,
                   DefinitionVersion.deployed_at)
            .where(DefinitionVersion.id.in_(counts)).order_by(DefinitionVersion.process_id, DefinitionVersion.version))
        return [VersionInUse(*version, cases=counts[version.id]) for version in versions]


def _cases_per_version(session: Session, viewer: access.Viewer) -> Counter[int]:
    """How many of the viewer's visible cases run on each version. In the counties where the
    viewer sees every case but a few (an auditor's), the county's tallies less those few: counting
    the cases themselves read a county's every case (25 ms at 100,000). Elsewhere, the cases."""
    kind = "sak"  # chapter 12 cases, as ``visible_cases`` takes them
    counties = access.whole_counties(viewer)
    counts: Counter[int] = Counter()
    visible = access.visible_cases(viewer, kind)
    if counties:
        for version_id, n in session.execute(case_tallies.counted(
                CaseTally.definition_id, where=(CaseTally.county_id.in_(counties), CaseTally.kind == code(kind)))):
            counts[version_id] += n
        for version_id, n in session.execute(
                select(Case.definition_id, func.count()).where(
                    Case.kind == code(kind), Case.county_id.in_(counties), access.outside_circle(viewer))
                .group_by(Case.definition_id)):
            counts[version_id] -= n
        visible = access.visible_beyond_whole_counties(viewer, kind)
    for version_id, n in session.execute(visible.with_only_columns(Case.definition_id, func.count())
                                         .group_by(Case.definition_id)):
        counts[version_id] += n
    return +counts  # the versions with cases


def names_by_username(kap12: Kap12, usernames: Iterable[str]) -> dict[str, str]:
    """{username: display name} of these users (a form's picked colleagues), looked up by name:
    the pages read the whole directory for them, which grows with a county's staff."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    with kap12.db.reading() as session:
        return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def named_in_case(kap12: Kap12, case: Case) -> list[tuple[str, str]]:
    """(username, display name), by name, of those an access request about the case may come
    from, whose own name a masked copy keeps: whoever works at its school, its parties, and
    whoever acted in it (a leader at the county). Not the whole directory, which at a county's
    or the country's scale is no list to pick from."""
    event = HistoryEvent
    people = union(select(RoleGrant.user_id).where(RoleGrant.school_id == case.school_id),
                   select(CaseParty.user_id).where(CaseParty.case_id == case.id, CaseParty.user_id.is_not(None)),
                   select(event.actor_id).where(event.case_id == case.id, event.kind != code(CASE_READ),
                                                event.actor_id.is_not(None))).subquery()
    with kap12.db.reading() as session:
        return [(r.username, r.display_name) for r in session.execute(
            select(User.username, User.display_name).where(User.id.in_(select(people.c[0])))
            .order_by(User.display_name, User.username))]


def case_number(kap12: Kap12, case_id: int) -> str:
    with kap12.db.reading() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(Message("Saken finnes ikke."))
        return case.number


def may_archive_case(kap12: Kap12, viewer: access.Viewer, case_id: int) -> bool:
    with kap12.db.reading() as session:
        case = session.get(Case, case_id)
        return case is not None and access.may_archive(viewer, case)


def all_case_ids(kap12: Kap12) -> list[int]:
    """Every case, for the operator's command line (no per-user policy there)."""
    with kap12.db.reading() as session:
        return list(session.scalars(select(Case.id).order_by(Case.id)))


def version_sources_of(kap12: Kap12, definition_id: int) -> list[dict]:
    with kap12.db.reading() as session:
        version = session.get(DefinitionVersion, definition_id)
        if version is None:
            raise NotFound(Message("Versjonen finnes ikke."))
        return definitions.diagram_sources(version)


def taken_up_on(events: Iterable[HistoryEvent]) -> str | None:
    """When the pupil or the parents took the case up with rektor (§ 12-6), as an ISO date, or
    None. The receipt, the investigation and the evaluation may each record it; the first day
    recorded counts, since the family's week runs from the first time they went to rektor (and a
    later step that records it again must not move their right to Statsforvaltaren further off)."""
    days = [day for ev in events if ev.kind == TASK_COMPLETED
            if (day := ((ev.data or {}).get("data") or {}).get(TAKEN_UP_FIELD))]
    return min(days) if days else None
