"""How many of the cases a person may see are open and closed (Saker's tabs), summed from the
status tallies (``StatusTally``) instead of counted from the cases: a rektor's school has 2,500 at
100,000 cases in a county, a school owner's circle 25,000, and the tabs were counted up to a
thousand each to keep the page from growing with them.

The tallies are by the dims the access policy's roles ask of a case (``access.by_dims``), so the
count is: the tallies their roles reach, less the cases among those outside the person's circle
(the accused's, the bypassed leadership's: a few, found by index), plus the cases their own sets
reach beyond their roles (tasks, work, grants), plus the cases they reported beyond those —
summed from their own tally of reports (``ReportedTally``), less the few of them outside their
circle: a teacher who had reported 2,500 cases counted all 2,500 on each look at the list. The
accused's case is never counted for them — a count one too high would tell them it exists. The
parts are asked in one snapshot of the database (the caller's ``Database.snapshot()``), so a
case made meanwhile is in all of them or in none."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access
from engine.read import case_list
from engine.read.case_list import STATUSES
from engine.store.code_values import code
from engine.store.models import Case, StatusTally


def status_counts(session: Session, viewer: access.Viewer, *, procedure: str | None = None,
                  school: str | None = None) -> dict[str, int]:
    """The open and closed cases ``viewer`` may see (``access.visible_cases``), narrowed to
    ``procedure`` and ``school``, exactly."""
    tally = StatusTally
    on_tallies = [tally.kind == code("sak"), access.on_dims(viewer, access.tally_dims(tally)),
                  *case_list.narrowing(tally, procedure, school)]
    on_cases = [Case.kind == code("sak"), *case_list.narrowing(Case, procedure, school)]
    counts: Counter[str] = Counter()
    if access.by_dims(viewer):  # else their roles reach no case (a teacher's): two statements saved
        for status, n in session.execute(select(tally.status, func.sum(tally.n)).where(*on_tallies)
                                         .group_by(tally.status)):
            counts[status] += n
        outside = select(Case.status, func.count()).where(*on_cases, access.outside_circle_by_dims(viewer))
        for status, n in session.execute(outside.group_by(Case.status)):
            counts[status] -= n
    if access.has_own_sets(viewer):
        beyond = access.beyond_dims(viewer).where(*on_cases[1:], ~access.reported_by(viewer))
        for status, n in session.execute(beyond.with_only_columns(Case.status, func.count()).group_by(Case.status)):
            counts[status] += n
    if access.has_reported(viewer):
        reported = access.reported_beyond_dims(viewer)
        for status, n in session.execute(select(reported.c.status, func.sum(reported.c.n))
                                         .where(*case_list.narrowing(reported.c, procedure, school))
                                         .group_by(reported.c.status)):
            counts[status] += n
    return {status: counts[status] for status in (*STATUSES, *sorted(set(counts) - set(STATUSES)))}
