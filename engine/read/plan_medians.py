"""The overview's first plans: how many days from a report to its case's first action plan, the
median in each month of the school year and over it. A median is no sum, so no tally holds it:
it is taken of the first plans themselves, by PostgreSQL (``percentile_cont``) in one statement
that answers every month and the year, so that a county's thousands of plans a year stay in the
database; on SQLite (one school, a few hundred a year) the plans are read and the median taken
here, as SQLite has no percentile."""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, exists, func, literal_column, select, tuple_
from sqlalchemy.orm import Session, aliased

from engine.store.counted_events import plan_made
from engine.store.models import HistoryEvent
from processes.deadlines import OSLO


@dataclass(frozen=True)
class PlanFigures:
    months: dict[tuple[int, int], tuple[float | None, int]]  # (year, month): (median days, plans)
    median_days: float | None  # over the school year so far
    plans: int


def _first_plans(year_ids: Subquery, year_start_at: datetime) -> Subquery:
    """(at, created_at): the first plan of each case and its report's time, for the plans first
    made this school year (a revised plan is not a first plan, however recent): the plans made
    this year whose case had none before — so earlier years' events are not read."""
    plan = plan_made(HistoryEvent)
    earlier = aliased(HistoryEvent)
    planned_before = exists().where(earlier.case_id == HistoryEvent.case_id, earlier.at < year_start_at,
                                    plan_made(earlier))
    # The report's time from the year's cases themselves: joining the case table again had the
    # planner read every case's (kind, created_at) to match them (40 ms at 100,000 cases).
    return (select(func.min(HistoryEvent.at).label("at"), year_ids.c.created_at.label("created_at"))
            .join(year_ids, year_ids.c.id == HistoryEvent.case_id)
            .where(HistoryEvent.at >= year_start_at, plan, ~planned_before)
            .group_by(HistoryEvent.case_id, year_ids.c.created_at).subquery())


def plan_figures(session: Session, year_ids: Subquery, year_start_at: datetime,
                 months: Sequence[tuple[int, int]]) -> PlanFigures:
    """The median days to a first plan in each of ``months`` and over them, of the cases in
    ``year_ids`` (id, created_at)."""
    first = _first_plans(year_ids, year_start_at)
    if session.get_bind().dialect.name == "postgresql":
        found = _medians_in_sql(session, first)
    else:
        found = _medians_here(session.execute(select(first.c.at, first.c.created_at)).all())
    year_median, counted = found.get(None, (None, 0))
    return PlanFigures({ym: found.get(ym, (None, 0)) for ym in months}, year_median, counted)


def _medians_in_sql(session: Session, first: Subquery) -> dict[Any, tuple[float | None, int]]:
    """{(year, month) or None for the whole: (median days, plans)}, in one statement: the month
    of the plan in Norway's time, the days from the report (never fewer than none)."""
    local = func.timezone(literal_column(f"'{OSLO.key}'"), first.c.at)
    days = func.greatest(0, func.extract("epoch", first.c.at - first.c.created_at) / 86400)
    plans = select(func.extract("year", local).label("y"), func.extract("month", local).label("m"),
                   days.label("days")).subquery()
    rows = session.execute(
        select(plans.c.y, plans.c.m, func.percentile_cont(0.5).within_group(plans.c.days), func.count())
        .group_by(func.grouping_sets(tuple_(plans.c.y, plans.c.m), tuple_()))).all()
    return {((int(y), int(m)) if m is not None else None): (float(median), n) for y, m, median, n in rows
            if n}


def _medians_here(first_plans: Sequence[Any]) -> dict[Any, tuple[float | None, int]]:
    """As ``_medians_in_sql``, from the plans read."""
    days: defaultdict[Any, list[float]] = defaultdict(list)
    for at, created_at in first_plans:
        d = max(0.0, (at - created_at).total_seconds() / 86400)
        local = at.astimezone(OSLO)
        days[(local.year, local.month)].append(d)
        days[None].append(d)
    return {key: (statistics.median(values), len(values)) for key, values in days.items()}
