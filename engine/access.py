"""The one access policy (DESIGN.md rule 6).

Every list, count, page, export and API call asks this module. Visibility is a SQL condition
on ``Case`` so that excluded people (the accused in B and C) are filtered in the query itself,
never in a template: a case they are accused in does not exist for them, not even in a count."""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, lazyload
from sqlalchemy.orm.util import AliasedClass

from engine.errors import Conflict, Denied, NotFound
from engine.runtime.clock import active_clock
from engine.store import history
from engine.store.code_values import code, codes, number
from engine.store.directory import Holder
from engine.store.id_sets import id_in, id_in_list, ranges_outside
from engine.store.models import (
    AccessGrant,
    Case,
    CaseParty,
    CaseWork,
    County,
    Measure,
    OpenTask,
    OpenTaskRole,
    ReportedCase,
    ReportedTally,
    RoleGrant,
    School,
    User,
    UTCDateTime,
)
from engine.store.task_order import due_order
from processes.deadlines import format_local
from processes.messages import Message
from processes.roles import COUNTY_ROLES, LEADERSHIP_ROLES, OWNER_ROLE, SCHOOL_ROLES, SHARPENED

FULL, STATUS = "full", "status"


@dataclass(frozen=True)
class Reach:
    """The cases a viewer's own sets reach (tasks, work done, grants: ``_by_person``, before
    the circle), found once for a page that asks several lists and counts of them
    (``with_reach``), and whether they reported any case; a role's branches stay conditions on
    the row, and the cases they reported are read where each list asks them (``visible_parts``)."""

    full: tuple[int, ...]
    reported: bool
    dialect: str  # how to pass the ids (``id_sets.id_in_list``)


@dataclass(frozen=True)
class Viewer:
    """A logged-in person and what they hold: (role, school_id, county_id) per grant."""

    id: int
    name: str
    grants: tuple[tuple[str, int | None, int | None], ...]
    reach: Reach | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, user: User) -> "Viewer":
        return cls(user.id, user.display_name, tuple((g.role, g.school_id, g.county_id) for g in user.grants))

    @classmethod
    def holding(cls, holder: Holder) -> "Viewer":
        """The person behind a live API token or log-in session (``directory.CredentialLookup``)."""
        return cls(holder.user_id, holder.name, holder.grants)

    def has(self, role: str) -> bool:
        return any(g[0] == role for g in self.grants)

    def schools(self, roles: Collection[str] | None = None) -> set[int]:
        """The schools where the viewer holds one of ``roles`` (any role when not given)."""
        return {s for r, s, _ in self.grants if (roles is None or r in roles) and s is not None}

    def counties(self, roles: Collection[str] | None = None) -> set[int]:
        """The counties where the viewer holds one of ``roles`` (any role when not given)."""
        return {c for r, _, c in self.grants if (roles is None or r in roles) and c is not None}

    @property
    def is_auditor(self) -> bool:
        return self.has("revisor")


def _role_scope(viewer: Viewer, role_column: InstrumentedAttribute[str],
                case: type[Case] | AliasedClass[Case] = Case) -> ColumnElement[bool]:
    """A task role that this viewer holds for ``case``'s school or county."""
    parts: list[ColumnElement[bool]] = []
    for role, school, county in viewer.grants:
        if school is not None:
            parts.append(and_(role_column == code(role), case.school_id == school))
        if county is not None:
            parts.append(and_(role_column == code(role), case.county_id == county))
    return or_(*parts) if parts else false()


# The policy's shape, for the database's planner. The conditions on a person (their tasks,
# grants, what they did, where they are accused) are uncorrelated sets of case ids, found once
# per query — never a correlated EXISTS run once per case row, which kept the planner from any
# index and made every list and count grow with every case ever made (rektor's Saker at 10,000
# cases: 3.9 s). How the branches are joined depends on the viewer (``_reach``):
# - someone who reaches a part of the county (the leadership, staff, the school owner) reaches
#   some of its cases: the branches of a role (a school's A cases for its leadership, B for its
#   rektor, the owner's circle of B, C and notified cases) are conditions on the case row that
#   its indexes answer (school; county with procedure or notified), and the person's own sets
#   (tasks, work done, grants) are one ``id_in(Case.id, … UNION …)`` of index scans whose rows
#   are fetched by id (``engine/store/id_sets.py``). The work grows with what they may see, not
#   with the county's history; a page that asks several lists of them finds the person's sets
#   once (``with_reach``). (As one set of ids with the role branches in it, a school owner's
#   circle — a quarter of a county in the benchmark — was gathered again by every query:
#   Ukeoversikt took 3 s at 100,000 cases.)
# - someone who reads the whole county (auditors) reaches most of them: the branches are an OR
#   on the case row (the personal sets hashed once), so a list walks its sort index and stops
#   at the page's end instead of collecting the whole county first.
# The case as seen from inside the policy's sub-queries, made once: an alias copies every column
# of ``cases``, and making them each time a clause was built cost milliseconds a query.
_GRANTED, _REACHED = (aliased(Case, name=n) for n in ("granted_case", "reached_case"))


def _ids_where_party(viewer: Viewer, relation: str) -> Select[Any]:
    return select(CaseParty.case_id).where(CaseParty.user_id == viewer.id, CaseParty.relation == code(relation))


def not_accused(viewer: Viewer) -> ColumnElement[bool]:
    """Not a case the viewer is accused in. Asked as ``id_in`` (on PostgreSQL the few ids found
    once, before the query): as ``NOT IN (SELECT …)`` the planner priced the look-up of the ids
    again for each case it would fetch by key, and so read a teacher's page of fifty reports by
    hashing all 100,000 cases (50 ms) instead of fetching the fifty (0.5 ms)."""
    return not_(id_in(Case.id, _ids_where_party(viewer, "accused")))


def _granted_ids(viewer: Viewer) -> Select[Any]:
    """Cases with an access grant to this viewer that holds now: not withdrawn, not ended, given
    in the procedure the case follows now (a reclassification ends it), and — in B and C — only
    once the accused is named: until then nobody can know a grantee is not the one accused."""
    # "Now" as of when the statement runs, not when it was built: a statement built once and
    # run again (``task_to_work_on``'s) must not keep a grant that has ended since.
    now = bindparam("now", callable_=lambda: active_clock().now(), type_=UTCDateTime(), unique=True)
    granted = _GRANTED
    # Asked of the viewer's few grants only, by the case's index — as a set of every case with
    # a named accused it was a scan of all the county's parties that the planner priced into
    # every list (and chose worse plans to avoid), even when the viewer had no grant at all.
    return (select(AccessGrant.case_id).join(granted, granted.id == AccessGrant.case_id)
            .where(AccessGrant.user_id == viewer.id, AccessGrant.withdrawn_at.is_(None), AccessGrant.ends_at > now,
                   AccessGrant.procedure == granted.procedure,
                   or_(~granted.procedure.in_(codes(SHARPENED)), accused_known(granted.id))))


def accused_known(case_id: _Column | int) -> ColumnElement[bool]:
    """B and C: the case says who the accused is — a party, in kap12's directory or (an agency
    substitute, a student teacher) without an account here. Until then nobody can know that a
    grantee is not the one accused."""
    return exists().where(CaseParty.case_id == case_id, CaseParty.relation == code("accused"))


def granted_clause(viewer: Viewer) -> ColumnElement[bool]:
    return Case.id.in_(_granted_ids(viewer))


def _bypassed(viewer: Viewer) -> ColumnElement[bool]:
    """In C the school's leadership is bypassed (§ 12-5): its members never reach the case
    through a role, an open task or anything they did before it became C — only through a
    grant from the school owner."""
    leader_schools = viewer.schools(LEADERSHIP_ROLES)
    if not leader_schools:
        return false()
    return and_(Case.procedure == code("C"), Case.school_id.in_(leader_schools))


_Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def in_circle(viewer: Viewer) -> ColumnElement[bool]:
    """Nothing of the case for the accused, nor (in C, without a grant) for the bypassed
    leadership: applied to every read and every task list, whatever else the viewer holds."""
    if not viewer.schools(LEADERSHIP_ROLES):
        return not_accused(viewer)
    return and_(not_accused(viewer), or_(~_bypassed(viewer), granted_clause(viewer)))


def outside_circle(viewer: Viewer) -> ColumnElement[bool]:
    """``not in_circle(viewer)``, said so that the database finds the few cases by index: those
    the viewer is accused in, and (for the school's leadership) the bypassed C cases of their
    schools that no grant opens."""
    accused = Case.id.in_(_ids_where_party(viewer, "accused"))
    if not viewer.schools(LEADERSHIP_ROLES):
        return accused
    return or_(accused, and_(_bypassed(viewer), ~granted_clause(viewer)))


def whole_counties(viewer: Viewer) -> list[int]:
    """The counties where the viewer sees every case but those ``outside_circle`` (an auditor's):
    what they see there is the county's cases less those, so it can be counted that way."""
    return counties_where(viewer, "revisor")


def visible_beyond_whole_counties(viewer: Viewer, kind: str = "sak") -> Select[Case]:
    """``visible_cases`` outside ``whole_counties``. An auditor's role reaches nothing there, so
    they are what the viewer sees without it — asked by index, where for an auditor the policy
    is a condition on every row of every county."""
    others = replace(viewer, grants=tuple(g for g in viewer.grants if g[0] != "revisor"), reach=None)
    return visible_cases(others, kind).where(Case.county_id.not_in(whole_counties(viewer)))


def _in_circle_by_id(viewer: Viewer, case_id: _Column) -> ColumnElement[bool]:
    """``in_circle`` for open tasks, which carry their case's id, not the case: the id is in
    neither set of cases outside the circle (those the viewer is accused in; the bypassed open C
    cases of their schools without a grant), each found once — so a task list need not join
    every task's case (which made the database sort all of a school owner's tasks for a page of
    fifty)."""
    inside = case_id.not_in(_ids_where_party(viewer, "accused"))
    if not viewer.schools(LEADERSHIP_ROLES):
        return inside
    # Only open cases: the rows are open tasks, which exist only while their case is open
    # (``_task_arms``). All the bypassed C cases the school ever had were read for every arm.
    bypassed = select(Case.id).where(Case.status == code("open"), _bypassed(viewer), ~granted_clause(viewer))
    return and_(inside, case_id.not_in(bypassed))


@dataclass(frozen=True)
class TaskArm:
    """One way an open task comes to a viewer: assigned to them, or open to a role they hold at
    a school or in a county. ``query`` has the arm's tables and conditions and no columns yet;
    ``order`` is (deadline, opened, task id) in the task lists' order, as the arm's index holds
    them; ``case_id``, ``school`` and ``procedure`` are the task's case's; ``task_id`` the task's;
    ``row_dims`` the case's dims as the arm's own rows carry them (a role row's; None for the
    assignee's arm, whose rows carry only the case's id)."""

    query: Select[Any]
    order: tuple[_Column, _Column, _Column]
    case_id: _Column
    school: _Column
    procedure: _Column
    task_id: _Column
    row_dims: Dims | None = None


def _task_arms(viewer: Viewer, skip_role: str | None = None) -> list[TaskArm]:
    """The open tasks assigned to this viewer or open to a role they hold at the case's school
    or county, one arm per role and place, in the shape of "The policy's shape" above: each arm
    reads the role rows of one role and place from their index (``OpenTaskRole`` carries the
    task's place and order keys), so a list takes the first rows of each in order and stops —
    a school owner's 5,400 open tasks at 100,000 cases were all gathered, joined to their cases
    and sorted for every page of fifty. Open task rows exist only while their case is open (the
    step that closes a case removes them), so no arm reads the case."""
    role_row = OpenTaskRole
    school_of, procedure_of = (select(column).where(Case.id == OpenTask.case_id).scalar_subquery()
                               for column in (Case.school_id, Case.procedure))
    arms = [TaskArm(select().select_from(OpenTask).where(OpenTask.assignee_id == viewer.id),
                    (due_order(OpenTask.due_at), OpenTask.opened_at, OpenTask.id),
                    OpenTask.case_id, school_of, procedure_of, OpenTask.id)]
    # A role's tasks are those nobody has taken: asked as "not among the taken ones", a few found
    # by the index of assignees. As a join to every role row's task, PostgreSQL chose to read all
    # of a county's open tasks to match a school's two hundred (3-5 ms at 100,000 cases).
    taken = exists().where(OpenTask.id == role_row.task_id, OpenTask.assignee_id.is_not(None))
    for role, school, county in viewer.grants:
        if role == skip_role:
            continue
        places = ([role_row.school_id == school] if school is not None else []) + \
                 ([role_row.county_id == county] if county is not None else [])
        arms += [TaskArm(select().select_from(role_row).where(role_row.role == code(role), place, ~taken),
                         (role_row.due_order, role_row.opened_at, role_row.task_id), role_row.case_id,
                         role_row.school_id, role_row.procedure, role_row.task_id,
                         Dims(role_row.school_id, role_row.county_id, role_row.procedure, false()))
                 for place in places]
    return arms


def workable_task_arms(viewer: Viewer) -> list[TaskArm]:
    """The arms of the tasks this viewer may do now: never on a case they are accused in, nor
    (in C, without a grant) the bypassed leadership's (``in_circle``)."""
    return [replace(arm, query=arm.query.where(_in_circle_by_id(viewer, arm.case_id))) for arm in _task_arms(viewer)]


def _open_to(viewer: Viewer, column: Callable[[TaskArm], _Column], skip_role: str | None = None,
             beyond: list[DimsCondition] | None = None) -> CompoundSelect:
    """``column`` of the open tasks of every arm (``_task_arms``), as one union. A check of
    one case (``_reach_one``) cuts each arm to that case's tasks. With ``beyond``, a role row
    whose case one of those conditions reaches by the row's own copy of its dims is left out."""
    arms = _task_arms(viewer, skip_role)
    if beyond:
        arms = [replace(arm, query=arm.query.where(_not_reached_by(beyond, arm.row_dims)))
                if arm.row_dims is not None else arm for arm in arms]
    return union(*(arm.query.with_only_columns(column(arm)) for arm in arms))


def _not_reached_by(conditions: list[DimsCondition], dims: Dims) -> ColumnElement[bool]:
    """None of ``conditions`` holds for ``dims`` — a row they are unknown for (NULL) is kept."""
    return ~func.coalesce(or_(*(condition(dims) for condition in conditions)), false())


def _workable_ids(viewer: Viewer) -> CompoundSelect:
    """The open tasks this viewer may do now (``_open_to``)."""
    return _open_to(viewer, lambda arm: arm.task_id)


def _task_ids(viewer: Viewer) -> CompoundSelect:
    """Cases with an open task this viewer must do (``_open_to``), but for the tasks open to the
    school owner's role: a case with one is a notified case of the owner's county (the write path
    sets ``owner_notified_at`` whenever a task is open in the owner's lane: ``owner_told``), which
    the owner's role reaches anyway — and gathering them cost a county owner 75 ms on every page
    (5,400 open tasks at 100,000 cases) to add no case. Likewise a role row whose case a role of
    the viewer's reaches anyway, by the place and procedure the row carries (the step that
    changes a case's procedure writes its role rows again, in the same transaction): rektor's
    600 open tasks at 100,000 cases were each looked up, on every page, to find they added no
    case (2 ms of Saker's 7 in the database). The sets' cases are checked against the roles
    again (``_branches``), so a row left in changes nothing."""
    return _open_to(viewer, lambda arm: arm.case_id, skip_role=OWNER_ROLE, beyond=_role_conditions(viewer))


Branch = tuple[Select[Any] | CompoundSelect | None, Callable[[Any], ColumnElement[bool]]]


@dataclass(frozen=True)
class Dims:
    """What a role's way into a case asks of it: its school, county and procedure, and whether
    the school owner was told — the case's own columns (``case_dims``), or a tally's of many
    cases (``StatusTally``, ``MonthTally``), so a count can be summed from the tallies of the
    viewer's roles instead of counted from each of their cases (``by_dims``)."""

    school_id: Any
    county_id: Any
    procedure: Any
    notified: Any  # true when the school owner was told


DimsCondition = Callable[[Dims], ColumnElement[bool]]


def case_dims(case: Any) -> Dims:
    """``Case`` (or an alias of it) as ``Dims``."""
    return Dims(case.school_id, case.county_id, case.procedure, case.owner_notified_at.is_not(None))


def tally_dims(tally: Any) -> Dims:
    """A tally of cases by their dims (``StatusTally``, ``MonthTally``) as ``Dims``."""
    return Dims(tally.school_id, tally.county_id, tally.procedure, tally.notified)


def _role_conditions(viewer: Viewer) -> list[DimsCondition]:
    """The circle of the procedure a case follows now, role by role (DOMAIN.md "Each procedure
    has its own circle"): A the school's leadership; B rektor and the school owner; C the school
    owner; a serious A case also the school owner once notified."""
    roles: list[DimsCondition] = []
    leader_schools = viewer.schools(LEADERSHIP_ROLES)
    if leader_schools:
        roles.append(lambda d: and_(d.school_id.in_(leader_schools), ~d.procedure.in_(codes(SHARPENED))))
    rektor_schools = viewer.schools({"rektor"})
    if rektor_schools:
        roles.append(lambda d: and_(d.school_id.in_(rektor_schools), d.procedure == code("B")))
    owner_counties = counties_where(viewer, "skoleeier")
    if owner_counties:
        roles.append(lambda d: and_(d.county_id.in_(owner_counties), or_(d.procedure.in_(codes(SHARPENED)), d.notified)))
    return roles


def by_dims(viewer: Viewer) -> list[DimsCondition]:
    """The viewer's ways in that are conditions on a case's dims alone: their roles', and the
    counties they audit. What they may read is the cases these reach less those outside their
    circle (``outside_circle``), and the few their own sets reach beyond them."""
    audit_counties = whole_counties(viewer)
    return _role_conditions(viewer) + ([lambda d: d.county_id.in_(audit_counties)] if audit_counties else [])


def _on_case(condition: DimsCondition) -> Callable[[Any], ColumnElement[bool]]:
    return lambda c: condition(case_dims(c))


def _branches(viewer: Viewer) -> list[Branch]:
    """The ways into a case, each (the case ids it starts from or None, a condition on the case):
    whoever must do an open task; having done a task, while the case stays in A (or the yearly
    cycle: a move to B or C draws the smaller circle, whatever one did before); a grant; and the
    conditions on the case's dims (``by_dims``): the circles of the viewer's roles, and auditors
    their county."""
    roles = _role_conditions(viewer)

    def beyond_roles(condition: Callable[[Any], ColumnElement[bool]]) -> Callable[[Any], ColumnElement[bool]]:
        # A case a role above reaches anyway is left out of the person's own sets, which then
        # hold only what they add: rektor did a task in most of the school's 2,500 cases, and
        # carrying those ids through every query cost more than the lists themselves.
        return (lambda c: and_(condition(c), ~or_(*(role(case_dims(c)) for role in roles)))) if roles else condition

    branches: list[Branch] = [(_task_ids(viewer), beyond_roles(_any_case)),
                              (_work_done(viewer), beyond_roles(lambda c: ~c.procedure.in_(codes(SHARPENED)))),
                              (_granted_ids(viewer), beyond_roles(_any_case))]
    return branches + [(None, _on_case(condition)) for condition in by_dims(viewer)]


def _work_done(viewer: Viewer) -> Select[Any] | CompoundSelect:
    """The cases the person completed a task in that a role of theirs may not reach anyway, by
    the row alone: the "work done" branch reaches only cases outside B and C, and of those the
    leadership's branch reaches every case of its schools, and the school owner's every notified
    case of the county (a notice is never withdrawn). Leaving those rows out changes no case
    reached: it only spares looking up each of them (a school owner had worked in 16,000 of the
    county's cases, a rektor in most of the school's — every page looked them all up to find
    they added none).

    The rows left in are asked as the ranges of an index around the places the roles reach
    (``id_sets.ranges_outside``), one part of a union each: as a NOT IN, the rows left out were still
    read, every one of them, on every page (the school owner's 16,000: 2 ms at 100,000 cases,
    and more with every year of cases; by the ranges, 0.1 ms)."""
    done = select(CaseWork.case_id).where(CaseWork.user_id == viewer.id)
    beyond: list[list[ColumnElement[bool]]] = []
    leader_schools = viewer.schools(LEADERSHIP_ROLES)
    if leader_schools:  # index (user, school)
        beyond.append(ranges_outside(CaseWork.school_id, leader_schools))
    owner_counties = counties_where(viewer, OWNER_ROLE)
    if owner_counties:  # index (user, notified, county)
        beyond.append([CaseWork.notified == false()] +
                      [and_(CaseWork.notified == true(), part) for part in ranges_outside(CaseWork.county_id, owner_counties)])
    if not beyond:
        return done
    # The parts of one role's ranges are disjoint, so no row comes twice; the other roles' are
    # conditions on each (a person holding both must be beyond both).
    first, *others = beyond
    return union_all(*(done.where(part, *(or_(*parts) for parts in others)) for part in first))


def counties_where(viewer: Viewer, *roles: str) -> list[int]:
    """The counties where the viewer holds one of ``roles``, each of which reaches every school
    there (the school owner, an auditor); sorted, so a query's list of them is the same each time."""
    return sorted(viewer.counties(roles))


def _any_case(case: Any) -> ColumnElement[bool]:
    """The condition of a set's branch that asks nothing of the case (``_reached_ids``)."""
    return true()


def _reached_ids(branches: list[Branch]) -> CompoundSelect:
    """The ids of the cases the branches reach, as one union of index scans. A set whose branch
    asks nothing of the case (``_any_case``: the cases a person reported; their tasks and grants
    when they hold no role of ``_role_conditions``) is its own ids: each id looked up in the cases only
    found it again (a teacher's 2,500 reported cases at 100,000: the ids took 4 ms, and 1.1 read
    from her reports alone; the statement of her API list, which asks them, a median of 8–11 ms
    before and 8.5 after). Each set's ids are of existing cases (foreign keys; a role row copies
    its task's case and goes with the task), so the union is the same."""
    reached = _REACHED

    def part(ids: Select[Any] | CompoundSelect | None, on_case: Callable[[Any], ColumnElement[bool]]) -> Select[Any]:
        if ids is None:
            return select(reached.id).where(on_case(reached))
        if on_case is _any_case:
            own = ids.subquery().c[0]
            # No set gives a NULL id (a role row not yet placed has no school or county, so no
            # arm finds it); kept out all the same, as looking it up in the cases did.
            return select(own).where(own.is_not(None))
        return select(reached.id).where(id_in(reached.id, ids), on_case(reached))

    return union(*(part(ids, on_case) for ids, on_case in branches))


def _reach(branches: list[Branch], county_wide: bool) -> ColumnElement[bool]:
    """The branches as one condition on ``Case`` (see "The policy's shape" above)."""
    if county_wide:
        return or_(*(and_(on_case(Case), Case.id.in_(ids)) if ids is not None else on_case(Case)
                     for ids, on_case in branches))
    return or_(*_by_role(branches), id_in(Case.id, _reached_ids(_by_person(branches))))


def _by_role(branches: list[Branch]) -> list[ColumnElement[bool]]:
    """The branches that are a condition on the case alone (a role's school, county and
    procedure): each an index condition (school; county and procedure or notified)."""
    return [on_case(Case) for ids, on_case in branches if ids is None]


def _role_reach(viewer: Viewer) -> list[ColumnElement[bool]]:
    """``_by_role(_branches(viewer))``, without building the person's own sets' statements to
    drop them (0.9 ms a call against 0.1; a page asks it for each of its lists and counts)."""
    return [_on_case(condition)(Case) for condition in by_dims(viewer)]


def _by_person(branches: list[Branch]) -> list[Branch]:
    """The branches that start from the person's own sets of cases (tasks, work, grants)."""
    return [branch for branch in branches if branch[0] is not None]


def on_dims(viewer: Viewer, dims: Dims) -> ColumnElement[bool]:
    """Whether ``by_dims`` reaches a case (or a tally) with these dims."""
    conditions = by_dims(viewer)
    return or_(*(condition(dims) for condition in conditions)) if conditions else false()


def outside_circle_by_dims(viewer: Viewer) -> ColumnElement[bool]:
    """The cases ``by_dims`` reaches that are outside the viewer's circle (``outside_circle``),
    said so that the database finds them by index: those the viewer is accused in, looked up by
    id; and the bypassed C cases of their schools that no grant opens — asked only of a leader
    who also holds a role reaching C (the school owner's, an auditor's): the leadership's and
    rektor's own roles never reach C, and asking for them read every case of their schools."""
    outside: list[ColumnElement[bool]] = [id_in(Case.id, _ids_where_party(viewer, "accused"))]
    if viewer.schools(LEADERSHIP_ROLES) and viewer.counties((OWNER_ROLE, "revisor")):
        outside.append(and_(_bypassed(viewer), ~granted_clause(viewer)))
    return and_(or_(*outside), on_dims(viewer, case_dims(Case)))


def beyond_dims(viewer: Viewer, kind: str = "sak") -> Select[Case]:
    """The cases the viewer may read in full (``readable_cases``) that ``by_dims`` does not reach:
    those the person's own sets (tasks, work done, grants) reach beyond their roles, in their
    circle — asked by the sets' ids (as ``readable_cases`` with the condition added, the database
    read every case of the roles to find it matched none of them)."""
    if viewer.reach is not None:
        reached = id_in_list(Case.id, viewer.reach.full, viewer.reach.dialect)
    else:
        reached = id_in(Case.id, _reached_ids(_by_person(_branches(viewer))))
    return select(Case).where(Case.kind == code(kind), reached, in_circle(viewer), not_(on_dims(viewer, case_dims(Case))))


def reported_by(viewer: Viewer) -> ColumnElement[bool]:
    """The case is one the viewer reported (their way to STATUS access): asked of each case by
    the parties' key, for one case or a few found otherwise — not the set of every case they
    ever reported, which opening one case of a teacher's 2,500 reports gathered and hashed."""
    return exists().where(_reporter_of(viewer))


def _reporter_of(viewer: Viewer) -> ColumnElement[bool]:
    return and_(CaseParty.case_id == Case.id, CaseParty.user_id == viewer.id, CaseParty.relation == code("reporter"))


def _reported_by_probe(viewer: Viewer) -> ColumnElement[bool]:
    """``reported_by``, asked of each row by its key (the LIMIT keeps PostgreSQL from making it a
    join with every case the viewer reported, which it then read whole to find a page)."""
    return select(literal(1)).where(_reporter_of(viewer)).limit(1).scalar_subquery().is_not(None)


def has_reported(viewer: Viewer) -> bool:
    """Whether the viewer may have reported a case: false only when the page found their reach
    (``with_reach``) and it holds no report, so that a leader who reported nothing is not asked
    for their reports' tallies (two statements a look at Saker, 1.5 ms at 100,000 cases)."""
    return viewer.reach is None or viewer.reach.reported


def has_own_sets(viewer: Viewer) -> bool:
    """Whether the viewer's own sets (tasks, work done, grants) may reach a case beyond their
    roles: false only when the page found their reach and it holds none (a teacher who only
    reported: her tabs asked the cases of an empty list, 0.35 ms a look at Saker)."""
    return viewer.reach is None or bool(viewer.reach.full)


def reported_beyond_dims(viewer: Viewer, kind: str = "sak") -> Subquery:
    """The cases of ``kind`` the viewer reported that ``by_dims`` does not reach and that are in
    their circle, as signed rows (school_id, procedure, status, n) to be summed: their
    ``ReportedTally`` rows, less one for each such case outside their circle (a report about a
    case they were later named the accused in; a leader's report of what became a C case of
    their school) — a few rows however many they reported. The cases outside are found from the
    few outside the circle (``outside_circle``), and only at the schools of those rows: a rektor
    who reported nothing beyond her school would have each C case of it asked whether she had."""
    tally = ReportedTally
    theirs = [tally.user_id == viewer.id, tally.kind == code(kind), not_(on_dims(viewer, tally_dims(tally)))]
    outside = select(Case.school_id, Case.procedure, Case.status, literal(-1)).where(
        Case.kind == code(kind), Case.school_id.in_(select(tally.school_id).where(*theirs)),
        outside_circle(viewer), reported_by(viewer), not_(on_dims(viewer, case_dims(Case))))
    counted = select(tally.school_id, tally.procedure, tally.status, tally.n).where(*theirs)
    return union_all(counted, outside).subquery()


def _reported_branch(viewer: Viewer) -> Branch:
    return (_ids_where_party(viewer, "reporter"), _any_case)


def _reach_of(viewer: Viewer, reported: bool) -> ColumnElement[bool]:
    """What the viewer's ways in reach (and, with ``reported``, the cases they reported): from
    ``viewer.reach`` when the page found it already, else asked in the query."""
    if viewer.reach is not None:
        reach = viewer.reach
        own = [*_role_reach(viewer), id_in_list(Case.id, reach.full, reach.dialect)]
        return or_(*own, id_in(Case.id, _ids_where_party(viewer, "reporter"))) if reported and reach.reported \
            else or_(*own)
    branches = _branches(viewer) + ([_reported_branch(viewer)] if reported else [])
    return _reach(branches, _reads_county_wide(viewer))


# Up to how many cases ``with_reach`` passes as a list of ids (beyond, each query asks again).
REACH_LISTED = 10_000


def with_reach(session: Session, viewer: Viewer) -> Viewer:
    """The viewer with ``reach`` found, for a page that asks several lists and counts of the
    same cases (Saker asks three): each then looks the person's cases up by id instead of
    gathering their tasks, work and grants again (the role branches are asked of the row).
    Whether they reported a case is asked once too: the cases themselves are not gathered (a
    teacher's 2,500 reports, 2 ms to read and write into each statement at 100,000 cases), each
    list reads its page of them in order (``visible_parts``), and a count sums their tally.

    Not for auditors (who read the whole county, the policy is a condition on the row), only
    up to ``REACH_LISTED`` cases, and only for a request that changes nothing: what a write
    would change in the viewer's reach is not in it. The circle (the
    accused, the bypassed leadership) is never taken from it: every query applies it afresh."""
    if viewer.reach is not None or _reads_county_wide(viewer):
        return viewer
    full = list(session.scalars(_reached_ids(_by_person(_branches(viewer))).limit(number(REACH_LISTED + 1))))
    if len(full) > REACH_LISTED:
        return viewer
    reported = session.scalar(_ids_where_party(viewer, "reporter").limit(number(1))) is not None
    return replace(viewer, reach=Reach(tuple(full), reported, session.get_bind().dialect.name))


def schools_of_own_cases(viewer: Viewer, cases: Select[Case], reported: bool) -> CompoundSelect:
    """For a viewer whose reach was found (``with_reach``): the schools of ``cases`` that their
    own sets and school roles lead to — the schools of the cases their own sets reach; each school
    of their roles that has one of the cases (asked school by school: a person holds roles at a
    few), for a person whose roles reach cases at all; and, with ``reported`` (``cases`` are those
    they may see at all), the schools where they reported a case they see. Together with the
    counties they read whole (as the school owner), every school of ``cases``, found without
    reading the cases themselves (a rektor's filter read the school's 2,500 to find the one
    school, a school owner's the county's every case).

    ``cases`` is ``visible_cases`` or ``readable_cases`` of this viewer. The schools of their
    reports are summed from ``ReportedTally`` (``reported_beyond_dims``), not read from each
    case: a teacher's 2,500 reported cases cost 4.8 ms of each look at the list at 100,000
    cases, and asking her school whether she may see one of its cases another 1.9."""
    assert viewer.reach is not None, "with_reach first"
    reach = viewer.reach
    parts: list[Select[Any]] = []
    if by_dims(viewer):  # else their roles reach nothing themselves (a teacher's): their own sets do
        parts.append(select(School.id).where(
            School.id.in_(sorted(viewer.schools())),
            cases.where(Case.school_id == School.id).with_only_columns(Case.id).exists()))
    if reported and has_reported(viewer):
        parts.append(_schools_reported(viewer))
    # Their own sets' cases in their circle are among ``cases`` either way (readable or visible):
    # asked from the ids alone, not within ``cases``, which hold the ids already (written twice,
    # PostgreSQL counted the condition twice and misjudged the rows). With no ids, asked only
    # when nothing else is: then a statement that finds no school.
    if reach.full or not parts:
        parts.insert(0, select(Case.school_id).where(
            Case.kind == code("sak"), in_circle(viewer), id_in_list(Case.id, reach.full, reach.dialect)))
    return union(*parts)


def _schools_reported(viewer: Viewer) -> Select[Any]:
    """The schools where the viewer reported a case they see that their roles do not reach
    (``reported_beyond_dims``; those their roles reach are their roles' schools)."""
    reported = reported_beyond_dims(viewer)
    return select(reported.c.school_id).group_by(reported.c.school_id).having(func.sum(reported.c.n) > 0)


def _reads_county_wide(viewer: Viewer) -> bool:
    """Reads most of a county's cases: an auditor. (The school owner's circle is B, C and the
    notified serious A cases — a part of the county's, found by index — so the owner reads them
    like a school leader: walking every case for the few made an owner's list read all 100,000
    to show none.)"""
    return bool(whole_counties(viewer))


def full_access_clause(viewer: Viewer) -> ColumnElement[bool]:
    """Cases this viewer may read in full (``_branches``). Includes ``in_circle``."""
    return and_(_reach_of(viewer, reported=False), in_circle(viewer))


def visible_cases(viewer: Viewer, kind: str = "sak") -> Select[Case]:
    """``select(Case)`` of one kind (chapter 12 cases unless told), limited to what the viewer
    may see at all (full or status)."""
    return select(Case).where(Case.kind == code(kind), in_circle(viewer), _reach_of(viewer, reported=True))


def readable_cases(viewer: Viewer, kind: str = "sak") -> Select[Case]:
    """``select(Case)`` of one kind that the viewer may read in full (overviews, exports)."""
    return select(Case).where(Case.kind == code(kind), full_access_clause(viewer))


@dataclass(frozen=True)
class Part:
    """A part of a list of cases (``visible_parts``): the cases, and the two columns that order
    them newest first (moment of creation, id) on the index that walks them."""

    cases: Select[Case]
    created_at: Any
    id: Any


def visible_parts(viewer: Viewer, status: str | None, kind: str = "sak") -> list[Part]:
    """``visible_cases`` of one status (None: every status) as parts whose union it is, for a
    list newest first that pages each part in its own order: the cases their roles and own sets
    reach (``readable_cases``), and the cases they reported, read backward along their
    ``ReportedCase`` rows (of the status, or of all). A page of a teacher's reports then reads a
    page of rows: as ids written into the list, her 2,500 reports were each looked up and sorted
    (6 ms of her Saker at 100,000 cases), and her few open ones found among all of them.

    One part, ``visible_cases``, unless ``with_reach`` found that they reported a case."""
    def of_status(cases: Select[Case]) -> Select[Case]:
        return cases.where(Case.status == code(status)) if status is not None else cases

    if viewer.reach is None or not viewer.reach.reported:
        return [Part(of_status(visible_cases(viewer, kind)), Case.created_at, Case.id)]
    parts = []
    if _role_reach(viewer) or viewer.reach.full:
        parts.append(Part(of_status(readable_cases(viewer, kind)), Case.created_at, Case.id))
    # The rows only order the part: that the viewer reported the case, and its status, are asked
    # of the case itself (one probe a row shown), so that rows left wrong by hand (a TRUNCATE of
    # the parties fires no trigger) show no case the policy refuses, nor one under the wrong tab.
    # The row's moment is not said to be the case's in the join: PostgreSQL took the equality for
    # a filter of its own, expected one row of 500, and hashed the county's 20,000 open cases.
    reported = ReportedCase
    mine = [reported.user_id == viewer.id,
            reported.status == code(status) if status is not None else reported.status == Case.status]
    parts.append(Part(of_status(select(Case).join(reported, reported.case_id == Case.id)
                                .where(*mine, Case.kind == code(kind), _reported_by_probe(viewer), in_circle(viewer))),
                      reported.created_at, reported.case_id))
    return parts


def _reach_one(branches: list[Branch], case_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """The branches for one case: each set of ids cut to that case before anything else, so the
    database looks the case up in each by index instead of collecting the whole set — a rektor
    opening one case of a hundred thousand made it gather the 2,500 cases of the school, twice."""
    parts: list[ColumnElement[bool]] = []
    for ids, on_case in branches:
        if ids is None:
            parts.append(on_case(Case))
            continue
        found = ids.subquery().c[0]
        parts.append(and_(on_case(Case), Case.id.in_(select(found).where(found == case_id))))
    return or_(*parts)


@lru_cache(maxsize=1024)
def _level_of(viewer: Viewer, with_case: bool, lock: bool = False) -> Select[Any]:
    """The case (``:case_id``) in the viewer's circle and their access level to it — FULL,
    STATUS or NULL — in one statement, built once per person and grants: building the policy's
    clauses for every case opened cost more than running them, and the two levels were two
    statements. "Now" is taken when it runs (``_granted_ids``)."""
    case_id = bindparam("case_id", type_=Integer)
    level = sql_case((_reach_one(_branches(viewer), case_id), literal(FULL)),
                     (reported_by(viewer), literal(STATUS)), else_=null())
    query = (select(Case, level) if with_case else select(level)).where(Case.id == case_id, in_circle(viewer))
    # Locked, only a case the viewer may read: PostgreSQL locks each row the statement returns,
    # and a refused viewer's row (its level NULL) would be locked too, by anyone who asks for it.
    return query.where(level.is_not(None)).with_for_update(of=Case) if lock else query


def case_with_level(session: Session, viewer: Viewer, case_id: int, lock: bool = False) -> tuple[Case, str] | None:
    """The case and the viewer's access level to it (``access_level``), or None: no access.
    ``lock``: the case row locked for the rest of the transaction (``SELECT … FOR UPDATE``; on
    SQLite the writing transaction holds the database already), as appending to its history
    needs; a case the viewer may not read is not locked. The policy's other tables are read as
    they were when the statement began: a read that waited for the lock while a step named the
    viewer accused is let through, as it would have been a moment earlier."""
    found = session.execute(_level_of(viewer, True, lock), {"case_id": case_id}).first()
    return (found[0], found[1]) if found is not None and found[1] is not None else None


def access_level(session: Session, viewer: Viewer, case_id: int) -> str | None:
    """FULL, STATUS (the reporter: where the case stands, not the investigation) or None."""
    return session.scalar(_level_of(viewer, False), {"case_id": case_id})


def workable_tasks(viewer: Viewer) -> Select[OpenTask]:
    """``select(OpenTask)`` that this viewer may do now: assigned to them, or open to one of
    their roles at the case's school or county; never on a case they are accused in."""
    return _workable(viewer, id_in(OpenTask.id, _workable_ids(viewer)))


def _workable(viewer: Viewer, among: ColumnElement[bool]) -> Select[OpenTask]:
    return (select(OpenTask).join(Case, Case.id == OpenTask.case_id)
            .where(among, in_circle(viewer), Case.status == code("open")))


def workable_task(session: Session, viewer: Viewer, task_id: str) -> OpenTask | None:
    """The open task if this viewer may do it now (``workable_tasks``), else None."""
    return session.scalars(_workable_task(viewer), {"task_id": task_id}).first()


@lru_cache(maxsize=512)
def _workable_task(viewer: Viewer) -> Select[OpenTask]:
    """Built once per person and grants, as ``_task_to_work_on``. The viewer's workable tasks are
    cut to this one before anything else (as ``_reach_one`` cuts a case's): once PostgreSQL ran
    the statement prepared, with its generic plan, it gathered every task open to rektor's role
    at the school to find one (10 ms a task page under load, against 1 before)."""
    task_id: BindParameter[str] = bindparam("task_id")
    ids = _workable_ids(viewer).subquery().c[0]
    return _workable(viewer, OpenTask.id.in_(select(ids).where(ids == task_id))).where(OpenTask.id == task_id)


def task_to_work_on(session: Session, viewer: Viewer, task_id: str) -> tuple[OpenTask, bool]:
    """The open task (or why not, as ``open_task`` raises it) and whether the viewer may claim or
    complete it, ignoring who has claimed it — one statement, in every claim and completion. The
    task's roles are read only if asked for, in the session: a step needs the row."""
    found = session.execute(_task_to_work_on(viewer), {"task_id": task_id}).first()
    if found is None:
        return open_task(session, viewer, task_id), False  # raises why
    row, may = found
    return row, bool(may)


@lru_cache(maxsize=512)
def _task_to_work_on(viewer: Viewer) -> Select[OpenTask, bool]:
    """Built once per person and grants (the task is a parameter, "now" is taken when it runs):
    building the clauses cost more than running them."""
    may = and_(in_circle(viewer), or_(OpenTask.assignee_id == viewer.id, _holds_task_role(viewer)))
    return (select(OpenTask, may).join(Case, Case.id == OpenTask.case_id)
            .where(OpenTask.id == bindparam("task_id")).options(lazyload(OpenTask.roles)))


def _holds_task_role(viewer: Viewer) -> ColumnElement[bool]:
    """The viewer holds one of the open task's (``OpenTask``) roles for its case's school or county."""
    return exists().where(OpenTaskRole.task_id == OpenTask.id, _role_scope(viewer, OpenTaskRole.role))


def keeps_task(session: Session, viewer: Viewer, task_id: str) -> bool:
    """Whether the one who took a task may still do it, as if nobody had: one of its roles, and
    the case within their circle. (Taking a task is not itself a right to it: someone who lost
    the role, or was named as accused since, must let it go.)"""
    return bool(session.scalar(_keeps_task(viewer), {"task_id": task_id}))


@lru_cache(maxsize=512)
def _keeps_task(viewer: Viewer) -> Select[bool]:
    return (select(and_(in_circle(viewer), _holds_task_role(viewer))).select_from(OpenTask)
            .join(Case, Case.id == OpenTask.case_id).where(OpenTask.id == bindparam("task_id")))


GONE = Message("Oppgaven finnes ikke, eller den er ikke lenger åpen.")


def open_task(session: Session, viewer: Viewer, task_id: str) -> OpenTask:
    """The open task, or why not: a plain conflict for someone who may see the case (it was
    done already, by whom and when), and "not found" for anyone else, the accused included.
    (Whether the viewer may *do* the task is ``task_to_work_on``.)"""
    row = session.get(OpenTask, task_id)
    if row is not None:
        return row
    done = history.completed_task_event(session, task_id)
    if done is not None and done.case_id is not None and access_level(session, viewer, done.case_id) == FULL:
        title = (done.data or {}).get("title", "")
        raise Conflict(Message("Oppgaven «%(title)s» er allerede utført av %(actor)s (%(at)s). Ingenting ble endret.",
                               title=title, actor=done.actor, at=format_local(done.at)))
    raise NotFound(GONE)


def is_read_only(viewer: Viewer) -> bool:
    """Auditors read everything in their county and change nothing."""
    return viewer.is_auditor and not any(r not in ("revisor",) for r, _, _ in viewer.grants)


def check_may_change(session: Session, viewer: Viewer, case: Case) -> None:
    """Before an act on a case that is not a task: auditors change nothing, and a case the
    viewer may not read in full is, to them, not there. The act's own rule comes after."""
    if is_read_only(viewer):
        raise Denied(READ_ONLY)
    if access_level(session, viewer, case.id) != FULL:
        raise NotFound(Message("Saken finnes ikke."))


READ_ONLY = Message("Revisorer kan lese saker, men ikke endre dem.")


def leads_case(viewer: Viewer, case: Case) -> bool:
    """The viewer leads the case in its procedure: A the school's leadership, B rektor,
    C the school owner (the school owner also in B and in a serious A case it was told of)."""
    owner = case.county_id in viewer.counties({"skoleeier"})
    if case.procedure == "C":
        return owner
    if case.procedure == "B":
        return owner or case.school_id in viewer.schools({"rektor"})
    return case.school_id in viewer.schools(LEADERSHIP_ROLES) or (owner and case.owner_notified_at is not None)


def may_reclassify(viewer: Viewer, case: Case) -> bool:
    """Out of A: the school's leadership or a notified school owner. Out of B or C: only the
    school owner — rektor can neither pull a B case back to A nor undo the bypass of C."""
    if is_read_only(viewer):
        return False
    if case.procedure in SHARPENED:
        return case.county_id in viewer.counties({"skoleeier"})
    return leads_case(viewer, case)


def may_end_otherwise(viewer: Viewer, case: Case) -> bool:
    """Who ends a case otherwise than "the pupil is safe" (the pupil left the school, the case
    was joined with another, the report was outside chapter 12): rektor in A and B, and the
    school owner in B and C. Not every leader in A: closing a case without a plan is rektor's
    responsibility for the school. In B the school owner may too (it leads B beside rektor, and
    is told when rektor does it); in C only the school owner — the bypassed leadership never."""
    if is_read_only(viewer) or case.kind != "sak":
        return False
    owner = case.county_id in viewer.counties({"skoleeier"})
    rektor = case.school_id in viewer.schools({"rektor"})
    if case.procedure == "C":
        return owner
    if case.procedure == "B":
        return owner or rektor
    return rektor


def may_grant(viewer: Viewer, case: Case) -> bool:
    """Who gives (and withdraws) access to a case: rektor in A and B, the school owner in C."""
    if is_read_only(viewer):
        return False
    if case.procedure == "C":
        return case.county_id in viewer.counties({"skoleeier"})
    return case.school_id in viewer.schools({"rektor"})


def may_identify_accused(viewer: Viewer, case: Case) -> bool:
    """Who records who the accused is: rektor in B, the school owner in B and C."""
    if is_read_only(viewer) or case.procedure not in SHARPENED:
        return False
    return leads_case(viewer, case)


def owned_measures(viewer: Viewer) -> Select[Measure, Case]:
    """``select(Measure, Case)`` of the measures this viewer is responsible for and may see now:
    in the current plan of an open case, and never where the viewer is outside the case's circle
    (accused, or bypassed leadership in C). The measure only — not the case (that takes a grant)."""
    return (select(Measure, Case).join(Case, Case.id == Measure.case_id)
            .where(Measure.responsible_id == viewer.id, Measure.current.is_(True), Case.status == code("open"),
                   in_circle(viewer)))


def may_record_measure(session: Session, viewer: Viewer, measure: Measure, case: Case) -> bool:
    """Who records that a measure was carried out: the colleague responsible for it, and those
    who lead the case and read it in full. Auditors change nothing."""
    if is_read_only(viewer):
        return False
    owned = owned_measures(viewer).where(Measure.id == measure.id).with_only_columns(Measure.id)
    if session.scalar(owned) is not None:
        return True
    return leads_case(viewer, case) and access_level(session, viewer, case.id) == FULL


def measure_owner_problem(session: Session, case: Case, user: User) -> str | None:
    """Why ``user`` cannot be responsible for a measure in ``case`` (None when they can). Owning a
    measure shows its text to the owner, so the owner must be an active employee of the case's
    school, never the accused, and in C not the bypassed leadership."""
    accused = session.scalar(select(CaseParty.id).where(CaseParty.case_id == case.id, CaseParty.user_id == user.id,
                                                        CaseParty.relation == "accused"))
    return owner_problem(case, user, accused is not None)


def owner_problem(case: Case, user: User, accused: bool) -> str | None:
    """``measure_owner_problem`` for a user whose grants are loaded, told whether they are
    accused in the case: for a picker of a whole school's staff, asked of each (a statement or two
    a person made the plan's page send a thousand at a large school)."""
    if not user.active:
        return f"{user.display_name} er ikke lenger aktiv bruker. Velg en annen."
    if accused:
        return f"{user.display_name} er anklaget i saken og kan aldri være ansvarlig for et tiltak i den."
    held = {(g.role, g.school_id) for g in user.grants}
    if not any(role in SCHOOL_ROLES and school == case.school_id for role, school in held):
        return f"{user.display_name} er ikke ansatt ved skolen saken gjelder. Skriv navnet i feltet under i stedet."
    if case.procedure == "C" and any(role in LEADERSHIP_ROLES and school == case.school_id for role, school in held):
        return (f"{user.display_name} er i skolens ledelse, som ikke skal se saker i prosedyre C. "
                "Velg en annen, eller skriv hvem som har ansvaret.")
    return None


def may_evaluate_now(viewer: Viewer, case: Case) -> bool:
    """Who moves the evaluation forward when things change: those who lead the case."""
    return not is_read_only(viewer) and leads_case(viewer, case)


def may_ask_owner_notice(viewer: Viewer, case: Case) -> bool:
    """Who asks for the school owner to be told of an A case that turned out serious after the
    receipt: those who lead it. (B and C tell the school owner by their own steps.)"""
    return case.procedure == "A" and not is_read_only(viewer) and leads_case(viewer, case)


def may_write_note(viewer: Viewer, case: Case) -> bool:
    """Who writes a note in a case they read in full: while it is open, anyone but an auditor
    (the reporter, the accused and those outside the circle never read it in full); once it is
    closed, those who lead it and file it in the archive — a correction after closing is theirs
    to make, and the archive needs the case again."""
    if case.status == "open":
        return not is_read_only(viewer)
    return may_archive(viewer, case)


def may_archive(viewer: Viewer, case: Case) -> bool:
    """Those who lead the case in its procedure file it in the archive; auditors change
    nothing. (Whether the case is closed is the archive's own check.)"""
    return not is_read_only(viewer) and leads_case(viewer, case)


def may_archive_any(viewer: Viewer) -> bool:
    """Whether the viewer may file any case at all: the leadership of a school or a school owner."""
    return not is_read_only(viewer) and bool(viewer.schools(LEADERSHIP_ROLES) or counties_where(viewer, "skoleeier"))


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


def may_start_cycle(viewer: Viewer, school: School) -> bool:
    """The school's rektor, or an administrator of its county."""
    return school.id in cycle_schools(viewer) or school.county_id in viewer.counties({"administrator"})


def may_handle_incidents(viewer: Viewer) -> bool:
    """Failed deadlines (incidents) are seen and resolved by administrators and process owners."""
    return viewer.has("administrator") or viewer.has("prosesseier")


def may_see_overview(viewer: Viewer) -> bool:
    """The weekly overview is for the schools' leadership and the school owner."""
    return any(role in LEADERSHIP_ROLES or role == "skoleeier" for role, _, _ in viewer.grants)


def audits(viewer: Viewer, case: Case) -> bool:
    """The viewer is an auditor of the case's county. (An auditor of another county who reads a
    case for another reason, work done there before, reads it as that work allows.)"""
    return case.county_id in viewer.counties({"revisor"})


def sees_read_log(viewer: Viewer, case: Case) -> bool:
    """Who read a case is itself sensitive; those who lead it and its county's auditors see the
    list, others a count."""
    return audits(viewer, case) or leads_case(viewer, case)


def may_audit(viewer: Viewer) -> bool:
    """The auditors' pages (replay, heat view, export, access report) are for auditors."""
    return viewer.is_auditor


def may_export(viewer: Viewer, case: Case) -> bool:
    """The whole case as a file (for Statsforvaltaren, a court, an access request): those who
    lead the case in its procedure, and auditors — the same people who see who read it."""
    return sees_read_log(viewer, case)


PUBLISHERS = ("prosesseier", "administrator")  # who publish diagrams and forms
WITHDRAWERS = ("administrator",)  # who withdraw a deployed version


def may_deploy(viewer: Viewer) -> bool:
    return any(viewer.has(role) for role in PUBLISHERS)


def publishes_versions(session: Session, viewer: Viewer) -> bool:
    """Publishes diagrams and forms: a process owner or administrator in every county."""
    return may_deploy(viewer) and governs_versions(session, viewer, *PUBLISHERS)


def withdraws_versions(session: Session, viewer: Viewer) -> bool:
    """Withdraws a deployed version: an administrator in every county."""
    return may_withdraw_version(viewer) and governs_versions(session, viewer, *WITHDRAWERS)


def governs_versions(session: Session, viewer: Viewer, *roles: str) -> bool:
    """Diagrams and forms are the installation's, for every county it serves: a process owner or
    administrator publishes or withdraws them only holding one of ``roles`` in each of those
    counties (with one county, as before). One county's process owner changed every county's
    procedures and undid another county's deploys."""
    return set(session.scalars(select(County.id))) <= viewer.counties(roles)


def operated(viewer: Viewer) -> ColumnElement[bool]:
    """The cases a process owner or administrator may move to a new version and whose failed
    deadlines they see: those of their own counties (the case numbers and steps of another
    county's cases are none of theirs), within their circle: a rektor who is also the county's
    process owner saw a C case of their own school (its number, its stage) on «Flytt saker»
    though the case page refused it, and an accused administrator their own case's incidents."""
    return and_(Case.county_id.in_(counties_where(viewer, "prosesseier", "administrator")), in_circle(viewer))


def may_withdraw_version(viewer: Viewer) -> bool:
    """Withdrawing a deployed version is an administrator's act, not a process owner's."""
    return any(viewer.has(role) for role in WITHDRAWERS)


def may_end_sessions(viewer: Viewer) -> bool:
    """Who may see who is logged in and log people out everywhere: administrators only."""
    return viewer.has("administrator")


def may_manage_people(viewer: Viewer) -> bool:
    """Who may change the people and roles of their county (DOMAIN.md: the administrator)."""
    return viewer.has("administrator")


def administered_people(viewer: Viewer) -> CompoundSelect:
    """The people an administrator sees logged in and may log out: those with a role in a county
    where the viewer is administrator, at the county or at one of its schools. (Every session
    of the installation was theirs: a county's administrator saw another county's staff, where
    they logged in from, and could log them all out.)"""
    counties = counties_where(viewer, "administrator")
    return union(select(RoleGrant.user_id).where(RoleGrant.county_id.in_(counties)),
                 select(RoleGrant.user_id).join(School, School.id == RoleGrant.school_id)
                 .where(School.county_id.in_(counties)))


def may_change_person(viewer: Viewer, counties: Collection[int]) -> bool:
    """Whether who a person is (name, address, log-in, active or not) is the administrator's to
    change: only when every county the person holds a role in is one they administer. Else
    county X's administrator could bind their own log-in to county Y's rektor and be them. The
    person's roles in X are X's to give and take away either way; the operator changes anyone."""
    within = set(counties_where(viewer, "administrator"))
    return bool(counties) and set(counties) <= within


def may_deactivate(viewer: Viewer, person_id: int, counties: Collection[int]) -> bool:
    """Whether the administrator may take the person out of service: someone whose person is
    theirs to change (``may_change_person``), and not themselves (no one locks their county out
    of its own administration by a slip)."""
    return person_id != viewer.id and may_change_person(viewer, counties)


SYSTEM_HISTORY_ROLES = ("revisor", "administrator")


def may_read_system_history(viewer: Viewer) -> bool:
    """Systemhistorikk: the county's auditors, and its administrators, who see there what their
    own imports and the nightly job changed (``system_history_counties``)."""
    return bool(counties_where(viewer, *SYSTEM_HISTORY_ROLES))


def system_history_counties(viewer: Viewer) -> list[int]:
    """The counties whose directory changes the viewer reads on Systemhistorikk."""
    return counties_where(viewer, *SYSTEM_HISTORY_ROLES)


def may_give_first_password(viewer: Viewer, person_id: int, counties: Collection[int]) -> bool:
    """Whether the administrator may give the person a first password: as ``may_deactivate``.
    A password the administrator knows lets them log in as the person until it is changed, so
    it is for someone wholly theirs, never themselves (their own is changed under Profil)."""
    return may_deactivate(viewer, person_id, counties)


__all__ = ["Viewer", "FULL", "STATUS", "visible_cases", "access_level", "workable_tasks", "task_to_work_on",
           "is_read_only", "may_deploy", "governs_versions", "publishes_versions", "withdraws_versions", "audits", "may_grant", "may_end_otherwise", "may_identify_accused", "in_circle", "may_end_sessions",
           "may_manage_people", "administered_people", "may_change_person", "may_deactivate", "may_give_first_password",
           "may_read_system_history", "system_history_counties",
           "COUNTY_ROLES"]
