"""The weekly overview for the leadership forum (lederforum): every open case the viewer may
read in full, by stage, with what changed since the forum last went through it, the cases closed
this week, and the counts and figures for the school year.

Everything is read through ``access.visible_cases`` narrowed to full access, so the accused is
never in a row, a count or a chart, and a reporter's status access never brings a case in; the
year's counts are summed from tallies by the same policy (``engine/read/year_figures.py``)."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine import access
from engine.errors import Denied
from engine.read import case_list, paging, plan_medians, queries, year_figures
from engine.read.year_figures import ReportCounts
from engine.store import code_values
from engine.store.events import (
    CASE_READ,
    DEADLINE_MISSED,
    REMINDER,
    REPORTED,
    REVIEWED,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_OPENED,
    TASK_RELEASED,
    TIMER_FIRED,
)
from engine.store.models import Case, HistoryEvent, OpenTask, PendingTimer, School, User
from engine.write import cases
from processes.deadlines import (
    OSLO,
    REVIEW_EVERY,
    review_overdue,
    school_year_dates,
    school_year_of,
)
from processes.messages import Message
from processes.stages import STAGE_LABELS, STAGES, stage_of, stage_order

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

WEEK = timedelta(days=7)
# Events that are not news for the forum.
QUIET_KINDS = frozenset({CASE_READ, REVIEWED, TIMER_FIRED, TASK_CLAIMED, TASK_RELEASED, TASK_OPENED,
                         TASK_CANCELLED, REMINDER})
MONTHS = ("jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des")


@dataclass(frozen=True)
class Change:
    at: datetime
    actor: str
    kind: str
    data: dict


@dataclass(frozen=True)
class MissedDeadline:
    at: datetime
    name: str
    due_at: str


@dataclass(frozen=True)
class Row:
    case_id: int
    number: str
    school: str
    procedure: str
    status: str
    stage: str
    tasks: tuple[str, ...]
    roles: tuple[str, ...]
    assignees: tuple[str, ...]
    reported_at: datetime
    age_days: int
    next_deadline: datetime | None
    closed_at: datetime | None
    escalated: bool
    missed: tuple[MissedDeadline, ...]
    last_reviewed: datetime | None
    changes: tuple[Change, ...]  # the newest CHANGES_SHOWN since the last review (or in the last week), oldest first
    change_count: int  # all of them (``_told``)
    owner_notified: bool = False  # the school owner was told (Case.owner_notified_at)
    pupils: str | None = None  # only when asked for
    review_overdue: bool = False  # open, and not reviewed in lederforum for more than 7 days


@dataclass(frozen=True)
class MonthCount:
    label: str
    met: int
    missed: int


@dataclass(frozen=True)
class MonthMedian:
    label: str
    median_days: float | None
    plans: int


@dataclass(frozen=True)
class SchoolLine:
    school: str
    open: int
    notified: int  # open cases the school owner was told of
    missed: int


@dataclass(frozen=True)
class OpenFigures:
    """The open cases the viewer may read in full, counted in the database."""
    open: int
    missed: int  # with a missed deadline
    notified: int  # the school owner was told
    review_overdue: int  # not reviewed in lederforum for more than 7 days


@dataclass
class Overview:
    now: datetime
    school_year: tuple[date, date]
    open_rows: list[Row]
    closed_rows: list[Row]
    by_stage: dict[str, dict[str, int]]
    deadlines: list[MonthCount]
    plan_months: list[MonthMedian]
    median_plan_days: float | None
    plans_counted: int
    schools: list[str]
    county_lines: list[SchoolLine] = field(default_factory=list)
    school_filter: str = ""
    procedure_filter: str = ""
    report_counts: ReportCounts = field(default_factory=lambda: ReportCounts(0, (), ()))
    closed_count: int = 0  # closed in the last 7 days: ``closed_rows`` is a page of them, the newest first
    closed_more: str | None = None  # the next page of them
    figures: OpenFigures = field(default_factory=lambda: OpenFigures(0, 0, 0, 0))
    # The next page of each stage shown (None: all of it is shown), and the one stage asked for.
    more: dict[str, str | None] = field(default_factory=dict)
    stage_filter: str = ""

    def stage_groups(self) -> list[tuple[str, list[Row]]]:
        groups: dict[str, list[Row]] = defaultdict(list)
        for row in self.open_rows:
            groups[row.stage].append(row)
        return [(code, groups[code]) for code, _, _ in STAGES if groups.get(code)]

    def stage_count(self, code: str) -> int:
        return sum(self.by_stage.get(code, {}).values())

    @property
    def open_count(self) -> int:
        return self.figures.open

    @property
    def review_overdue_count(self) -> int:
        return self.figures.review_overdue

    @property
    def missed_open(self) -> int:
        return self.figures.missed

    @property
    def notified_open(self) -> int:
        return self.figures.notified


def is_county_wide(viewer: access.Viewer) -> bool:
    return bool(access.counties_where(viewer, "skoleeier"))


def _full_cases(viewer: access.Viewer, school: str | None, procedure: str | None) -> Select[Case]:
    """The one policy's visible cases, narrowed to full access and the chosen filters."""
    return access.readable_cases(viewer).where(*case_list.narrowing(Case, procedure, school))


# Rows of each stage on the overview; the rest of a stage is a click away, a page at a time.
PER_STAGE = 25
STAGE_PAGE = 50


# Within a stage: missed deadlines first, then the nearest deadline, then the oldest; the id
# makes the order total for paging. Whether a deadline was missed is kept on the case row
# (``Case.deadline_missed``): sorted by a probe of each case's history, a stage page read all
# of the stage's cases' histories to find its first 25.
STAGE_ORDER = (paging.Key(Case.deadline_missed, descending=True), paging.Key(Case.next_deadline.is_(None)),
               paging.Key(Case.next_deadline), paging.Key(Case.created_at), paging.Key(Case.id))


# The cases closed this week: the last closed first.
CLOSED_ORDER = (paging.Key(Case.closed_at, descending=True), paging.Key(Case.id, descending=True))


def _stage_key(row: Any) -> tuple[object, ...]:
    """A case row's values of ``STAGE_ORDER``, for the next page's cursor."""
    shown = row[0]
    return (shown.deadline_missed, shown.next_deadline is None, shown.next_deadline, shown.created_at, shown.id)


@dataclass(frozen=True)
class _OpenCounts:
    """The open cases counted in one aggregate of their rows, by school, stage and procedure."""
    by_stage: dict[str, dict[str, int]]
    figures: OpenFigures
    by_school: dict[int, tuple[int, int, int]]  # school id: (open, notified, missed)


def _open_counts(session: Session, open_cases: Select[Case], now: datetime) -> _OpenCounts:
    """The stages' counts, the key figures and the county's school lines of the open cases, in
    one aggregate of their rows (three, each reading the school owner's 5,000 open cases, took
    18 ms at 100,000 cases): a missed deadline and the last review are kept on the case
    (migration 0023), where two probes of each case's history found them."""
    overdue = Case.review_overdue(now, REVIEW_EVERY)
    counted = open_cases.with_only_columns(
        Case.school_id, Case.stage_code, Case.procedure, func.count(), func.count(Case.owner_notified_at),
        func.sum(case((Case.deadline_missed, 1), else_=0)), func.sum(case((overdue, 1), else_=0)),
    ).group_by(Case.school_id, Case.stage_code, Case.procedure)
    by_stage: dict[str, dict[str, int]] = {}
    by_school: defaultdict[int, tuple[int, int, int]] = defaultdict(lambda: (0, 0, 0))
    totals = [0, 0, 0, 0]
    for school_id, code, proc, n, notified, missed, late in session.execute(counted):
        by_stage.setdefault(code, Counter())[proc] += n
        was = by_school[school_id]
        by_school[school_id] = (was[0] + n, was[1] + notified, was[2] + missed)
        for at, value in enumerate((n, missed, notified, late)):
            totals[at] += value
    return _OpenCounts(by_stage, OpenFigures(*totals), dict(by_school))


def weekly_overview(kap12: Kap12, viewer: access.Viewer, *, school: str | None = None, procedure: str | None = None,
                    include_names: bool = False, stage: str | None = None, cursor: str | None = None,
                    closed_cursor: str | None = None, everything: bool = False) -> Overview:
    """The overview, with the open cases of each stage paged (``PER_STAGE`` rows of every stage,
    or one page of ``stage`` from ``cursor``), or ``everything`` for the exports; the cases closed
    this week a page at a time from ``closed_cursor``. The counts and figures are of all the open
    cases either way."""
    if not access.may_see_overview(viewer):
        raise Denied(Message("Ukeoversikten er for rektor, avdelingsleder og skoleeier."))
    now = kap12.clock.now()
    year_start, year_end = school_year_dates(school_year_of(now))
    year_start_at = datetime.combine(year_start, datetime.min.time(), tzinfo=OSLO)
    stage = stage if stage in STAGE_LABELS else None
    with kap12.db.snapshot() as session:  # the figures are tallies less and plus cases: one snapshot
        viewer = access.with_reach(session, viewer)  # the page asks the same cases a dozen times
        visible = _full_cases(viewer, school, procedure)
        open_visible = visible.where(Case.status == code_values.code("open"))
        counts = _open_counts(session, open_visible, now)
        by_stage, figures = counts.by_stage, counts.figures
        open_cases, more = _open_rows_shown(session, open_visible, by_stage, stage, cursor, everything)
        closed_cases, closed_count, closed_more = _closed_this_week(session, visible, now, closed_cursor, everything)
        listed = open_cases + closed_cases
        ids = [c.id for c in listed]
        tasks: defaultdict[int, list[OpenTask]] = defaultdict(list)
        timers: defaultdict[int, list[PendingTimer]] = defaultdict(list)
        if ids:
            for t in session.scalars(select(OpenTask).where(OpenTask.case_id.in_(ids)).order_by(OpenTask.opened_at)):
                tasks[t.case_id].append(t)
            for timer in session.scalars(select(PendingTimer).where(PendingTimer.case_id.in_(ids))):
                timers[timer.case_id].append(timer)
        told = _told(session, ids, [i for i in ids if not any(t.roles for t in tasks[i])], now, include_names)
        assignee_ids = {t.assignee_id for ts in tasks.values() for t in ts if t.assignee_id}
        names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(assignee_ids)))
                     .all()) if assignee_ids else {}

        # In the order of ``_open_rows_shown``: the stages in their order, each in ``STAGE_ORDER``.
        rows_open = [_row(c, tasks[c.id], timers[c.id], told[c.id], names, now, include_names) for c in open_cases]
        rows_closed = [_row(c, [], [], told[c.id], names, now, include_names) for c in closed_cases]

        # The deadlines and reports are summed from the month tallies (``year_figures``). The
        # first plans are medians, which no tally sums: they are of the cases with a step this
        # school year — every step sets ``updated_at`` (a plan made is one), so an older case
        # has no plan to count, and a school's earlier years are not read.
        months = _months(year_start, now)
        met, missed, report_counts = year_figures.counted_this_year(kap12, session, viewer, school, procedure, months)
        year_ids = visible.where(Case.updated_at >= year_start_at).with_only_columns(Case.id, Case.created_at).subquery()
        plans = plan_medians.plan_figures(session, year_ids, year_start_at, months)
        deadlines = [MonthCount(_label(ym), met[ym], missed[ym]) for ym in months]
        plan_months = [MonthMedian(_label(ym), *plans.months[ym]) for ym in months]
        median, counted = plans.median_days, plans.plans
        schools = _school_names(session, viewer)
        county_lines = []
        if is_county_wide(viewer):  # every school of the county, whichever the page shows
            county_lines = _county_lines(session, viewer, counts.by_school if not school else
                                         _open_counts(session, _full_cases(viewer, None, procedure)
                                                      .where(Case.status == code_values.code("open")), now).by_school)

    if include_names and ids:
        # Pupils' names leave the system in the export: a read of each case, like opening it.
        cases.record_reads(kap12, viewer, ids, "oversikt-eksport")
    return Overview(now, (year_start, year_end), rows_open, rows_closed, by_stage, deadlines, plan_months, median,
                    counted, schools, county_lines, school or "", procedure or "", report_counts, closed_count,
                    closed_more, figures, more, stage or "")


def _open_rows_shown(session: Session, open_visible: Select[Case], by_stage: dict[str, dict[str, int]],
                     stage: str | None, cursor: str | None, everything: bool
                     ) -> tuple[list[Case], dict[str, str | None]]:
    """The open cases to show, each stage in its order: every one (the exports), one page of one
    stage, or the first ``PER_STAGE`` of every stage; and where each stage shown goes on."""
    if everything:
        chosen = sorted(by_stage, key=stage_order)  # every stage with cases, even one unknown here
    else:
        chosen = [stage] if stage else [code for code, _, _ in STAGES if by_stage.get(code)]
    shown: list[Case] = []
    more: dict[str, str | None] = {}
    for stage_code in chosen:  # a stage unknown to this release (the exports') stays a parameter
        query = open_visible.where(Case.stage_code == code_values.chosen(stage_code, STAGE_LABELS))
        if everything:
            shown += session.scalars(query.order_by(*paging.order(STAGE_ORDER)))
            continue
        page = paging.fetch(session, query, STAGE_ORDER, cursor if stage else None,
                            STAGE_PAGE if stage else PER_STAGE, _stage_key)
        shown += [row[0] for row in page.items]
        more[stage_code] = page.next_cursor
    return shown, more


def _closed_this_week(session: Session, visible: Select[Case], now: datetime, cursor: str | None,
                      everything: bool) -> tuple[list[Case], int, str | None]:
    """The cases closed in the last seven days, the newest first, a page of ``PER_STAGE`` from
    ``cursor`` (a county's schools close a hundred in a busy week), or all for the exports; how
    many there are; and the next page's cursor."""
    closed = visible.where(Case.status == code_values.code("closed"), Case.closed_at >= now - WEEK)
    count = session.scalar(closed.with_only_columns(func.count()).order_by(None)) or 0
    if everything:
        return list(session.scalars(closed.order_by(*paging.order(CLOSED_ORDER)))), count, None
    page = paging.fetch(session, closed, CLOSED_ORDER, cursor, PER_STAGE, lambda row: (row[0].closed_at, row[0].id))
    return [row[0] for row in page.items], count, page.next_cursor


def _school_names(session: Session, viewer: access.Viewer) -> list[str]:
    # The school owner chooses among every school in the county (``with_cases`` says so).
    chosen = queries.with_cases(access.readable_cases(viewer), viewer, reported=False)
    return list(session.scalars(select(School.name).where(chosen).group_by(School.name).order_by(School.name)))


def _county_lines(session: Session, viewer: access.Viewer, by_school: dict[int, tuple[int, int, int]]
                  ) -> list[SchoolLine]:
    """Every school in the school owner's county, with the open cases the owner may see."""
    counties = access.counties_where(viewer, "skoleeier")
    return [SchoolLine(school.name, *by_school.get(school.id, (0, 0, 0)))
            for school in session.scalars(select(School).where(School.county_id.in_(counties)).order_by(School.name))]


# The changes a row names, the newest; the rest are counted («… og 3 til – se saken»).
CHANGES_SHOWN = 4


@dataclass
class _Told:
    """What a row tells of a case's history: read in rows that do not grow with it (a case
    evaluated every month for years has hundreds of events, and the overview read them all)."""
    changes: list[HistoryEvent] = field(default_factory=list)  # the newest ``CHANGES_SHOWN``, oldest first
    change_count: int = 0
    missed: list[HistoryEvent] = field(default_factory=list)  # every missed deadline: the row lists each
    last_opened: HistoryEvent | None = None  # who a case with no open task's role was with
    reported: HistoryEvent | None = None  # the pupils' names, for the export only


def _told(session: Session, ids: list[int], without_roles: list[int], now: datetime,
          include_names: bool) -> defaultdict[int | None, _Told]:
    """The events each row shows, in three bounded reads: the changes since the forum last went
    through the case (or in the last week), the newest ``CHANGES_SHOWN`` of them and their count;
    every missed deadline (and the report, for the export); and the newest task opened, for a
    case whose open tasks name no role (a closed case: who it was with)."""
    told: defaultdict[int | None, _Told] = defaultdict(_Told)
    if not ids:
        return told
    news = and_(HistoryEvent.kind.not_in(code_values.codes(QUIET_KINDS)),
                or_(and_(Case.last_reviewed_at.is_(None), HistoryEvent.at > now - WEEK),
                    HistoryEvent.at > Case.last_reviewed_at))
    for ev, count in _newest(session, ids, CHANGES_SHOWN, news):
        told[ev.case_id].changes.append(ev)
        told[ev.case_id].change_count = count
    kinds = [DEADLINE_MISSED, REPORTED] if include_names else [DEADLINE_MISSED]
    for ev in session.scalars(select(HistoryEvent).where(HistoryEvent.case_id.in_(ids),
                                                         HistoryEvent.kind.in_(code_values.codes(kinds)))
                              .order_by(HistoryEvent.case_id, HistoryEvent.seq)):
        if ev.kind == DEADLINE_MISSED:
            told[ev.case_id].missed.append(ev)
        elif told[ev.case_id].reported is None:
            told[ev.case_id].reported = ev
    if without_roles:
        for ev, _count in _newest(session, without_roles, 1, HistoryEvent.kind == code_values.code(TASK_OPENED)):
            told[ev.case_id].last_opened = ev
    return told


def _newest(session: Session, ids: list[int], newest: int, where: Any) -> list[tuple[HistoryEvent, int]]:
    """The ``newest`` events of each case that match ``where`` (which may name the case's
    columns), oldest first, each with how many of the case's events match."""
    ranked = (select(HistoryEvent,
                     func.row_number().over(partition_by=HistoryEvent.case_id,
                                            order_by=HistoryEvent.seq.desc()).label("newest"),
                     func.count().over(partition_by=HistoryEvent.case_id).label("matching"))
              .join(Case, Case.id == HistoryEvent.case_id).where(HistoryEvent.case_id.in_(ids), where).subquery())
    event = aliased(HistoryEvent, ranked)
    return [(ev, count) for ev, count in session.execute(
        select(event, ranked.c.matching).where(ranked.c.newest <= code_values.number(newest))
        .order_by(ranked.c.case_id, ranked.c.seq))]


def _row(case: Case, tasks: Sequence[OpenTask], timers: Sequence[PendingTimer], told: _Told,
         names: dict[int, str], now: datetime, include_names: bool) -> Row:
    stage = "avsluttet" if case.status == "closed" else stage_of(
        [(t.element_id, t.title) for t in tasks], [(t.element_id, t.name) for t in timers])
    roles = sorted({r.role for t in tasks for r in t.roles})
    if not roles and told.last_opened is not None:
        roles = sorted(told.last_opened.data.get("roles") or [])
    last_reviewed = case.last_reviewed_at  # kept on the row, as the open figures count it
    changes = tuple(Change(ev.at, ev.actor, ev.kind, ev.data or {}) for ev in told.changes)
    missed = tuple(MissedDeadline(ev.at, (ev.data or {}).get("timer", ""), (ev.data or {}).get("due_at", ""))
                   for ev in told.missed)
    pupils = None
    if include_names:
        reported = told.reported
        pupils = ((reported.data or {}).get("report", {}).get("berorte_elever") or "") if reported else ""
    return Row(case.id, case.number, case.school.name, case.procedure, case.status, stage,
               tuple(t.title for t in tasks), tuple(roles),
               tuple(sorted({names[t.assignee_id] for t in tasks if t.assignee_id in names})),
               case.created_at, max(0, (now - case.created_at).days), case.next_deadline, case.closed_at,
               case.escalated, missed, last_reviewed, changes, told.change_count,
               case.owner_notified_at is not None, pupils,
               case.status == "open" and review_overdue(last_reviewed, case.created_at, now))


def _months(year_start: date, now: datetime) -> list[tuple[int, int]]:
    """(year, month) from August up to this month."""
    today = now.astimezone(OSLO).date()
    out: list[tuple[int, int]] = []
    y, m = year_start.year, year_start.month
    while (y, m) <= (today.year, today.month) and len(out) < 12:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _label(ym: tuple[int, int]) -> str:
    return f"{MONTHS[ym[1] - 1]} {str(ym[0])[2:]}"


