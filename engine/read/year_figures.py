"""The weekly overview's figures of the school year that are counts — the deadlines met and
missed in each month, and the reports by their answers — for the cases the viewer may read in
full, summed from the month tallies (``MonthTally``, kept by the database as events are recorded
and cases made or moved) instead of read from the year's every case and event: a school owner's
figures read 7,000 cases and 47,000 events at 100,000 cases (40 ms, and growing with each).

The tallies are by the dims the access policy's roles ask of a case (``access.by_dims``), so the
figure of the cases a viewer reads is: the tallies their roles reach, less the cases those reach
that are outside the viewer's circle (the accused's, the bypassed leadership's: a few, found by
index), plus the cases their own sets reach beyond their roles (their tasks, work, grants) —
both of those counted from the cases themselves, as every figure was before — all in one
snapshot of the database (the overview's ``Database.snapshot()``). The accused is never counted a
case against them."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, Text, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from engine import access
from engine.read import case_list
from engine.store.code_values import code
from engine.store.counted_events import deadline_counted
from engine.store.events import DEADLINE_MISSED, REPORTED, TASK_COMPLETED
from engine.store.models import Case, HistoryEvent, MonthTally
from engine.write import cases
from processes.deadlines import OSLO

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

Month = tuple[int, int]  # (year, month)
NOT_GIVEN = "Ikke oppgitt"
KIND_FIELD, ONGOING_FIELD = cases.KIND_FIELD, cases.ONGOING_FIELD
# The tallies' measures (migration 0024): the event's kind for the deadlines, and the report's.
MET, MISSED, REPORT, REPORT_UNKEPT = TASK_COMPLETED, DEADLINE_MISSED, "reported", "reported_unkept"
LISTED = 1000  # up to how many cases counted apart are passed by their ids


@dataclass(frozen=True)
class ReportCounts:
    """What the reports of the school year say, counted: each kind of offence (a report may
    name several) and whether it was still going on when reported. Counts only, never a name."""
    reports: int
    kinds: tuple[tuple[str, int], ...]  # (label, cases), in the form's order, "Ikke oppgitt" last
    ongoing: tuple[tuple[str, int], ...]


@dataclass
class _Counts:
    """The counts of some cases: deadlines by month, reports by their answers' JSON text."""
    met: Counter[Month]
    missed: Counter[Month]
    answers: Counter[tuple[str | None, str | None]]
    unkept: int = 0

    def add(self, other: _Counts, sign: int) -> None:
        for month, n in other.met.items():
            self.met[month] += sign * n
        for month, n in other.missed.items():
            self.missed[month] += sign * n
        for answer, n in other.answers.items():
            self.answers[answer] += sign * n
        self.unkept += sign * other.unkept


def month_key(month: Month) -> str:
    """A month as the tallies name it."""
    return f"{month[0]:04d}-{month[1]:02d}"


def counted_this_year(kap12: Kap12, session: Session, viewer: access.Viewer, school: str | None,
                      procedure: str | None, months: Sequence[Month]
                      ) -> tuple[Counter[Month], Counter[Month], ReportCounts]:
    """The deadlines met and missed in each of ``months`` (the school year's, up to now), and the
    year's reports counted by their answers, of the cases ``viewer`` may read in full (narrowed
    to ``school`` and ``procedure``)."""
    if not months:
        return Counter(), Counter(), ReportCounts(0, (), ())
    chosen = [Case.kind == code("sak"), *case_list.narrowing(Case, procedure, school)]
    starts = _month_starts(months)
    total = _tallied(session, viewer, case_list.narrowing(MonthTally, procedure, school), months)
    # The cases the tallies count that the viewer may not read, and those they read beyond them:
    # found in one query (both are mostly none), and counted from the cases only when there are
    # (by their ids; asked again as a query when there are many, as a list of parameters could
    # pass what SQLite takes).
    outside = select(Case.id).where(*chosen, access.outside_circle_by_dims(viewer))
    beyond = access.beyond_dims(viewer).where(*chosen[1:]).with_only_columns(Case.id)
    apart: dict[int, list[int]] = {-1: [], 1: []}
    for case_id, sign in session.execute(union_all(outside.add_columns(literal(-1)), beyond.add_columns(literal(1)))):
        apart[sign].append(case_id)
    for sign, ids, query in ((-1, apart[-1], outside), (1, apart[1], beyond)):
        if ids:
            total.add(_counted(session, ids if len(ids) <= LISTED else query, starts, months), sign)
    answers = [(kind, going, n) for (kind, going), n in total.answers.items() if n]
    if total.unkept:
        readable = access.readable_cases(viewer).where(*chosen[1:], Case.report_answers.is_(None),
                                                       Case.created_at >= starts[0])
        answers += _unkept_answers(session, readable.with_only_columns(Case.id))
    return +total.met, +total.missed, _report_counts(kap12, session, answers)


def _tallied(session: Session, viewer: access.Viewer, narrowed: list[ColumnElement[bool]],
             months: Sequence[Month]) -> _Counts:
    """What the tallies of the cases the viewer's roles reach say (``narrowed`` as the page is),
    since the year's first month."""
    tally = MonthTally
    where = [tally.kind == code("sak"), tally.month >= month_key(months[0]),
             access.on_dims(viewer, access.tally_dims(tally)), *narrowed]
    total = func.sum(tally.n)
    counts = _Counts(Counter(), Counter(), Counter())
    by_key = {month_key(month): month for month in months}
    for measure, month, kind, going, n in session.execute(
            select(tally.measure, tally.month, tally.kind_answer, tally.ongoing_answer, total).where(*where)
            .group_by(tally.measure, tally.month, tally.kind_answer, tally.ongoing_answer).having(total != 0)):
        if measure == REPORT:
            counts.answers[(kind, going)] += n
        elif measure == REPORT_UNKEPT:
            counts.unkept += n
        elif month in by_key:
            (counts.met if measure == MET else counts.missed)[by_key[month]] += n
    return counts


def _counted(session: Session, case_ids: Select[Any] | list[int], starts: Sequence[datetime], months: Sequence[Month]) -> _Counts:
    """The same counts, of a few cases (their ids, or a query of them), from the cases and their
    history."""
    met, missed = _deadlines_by_month(session, case_ids, starts, months)
    kind_answer = cast(Case.report_answers[KIND_FIELD], Text)  # as JSON text, so its type shows
    ongoing_answer = cast(Case.report_answers[ONGOING_FIELD], Text)
    unkept = Case.report_answers.is_(None)
    counts = _Counts(met, missed, Counter())
    for kind, going, missing, n in session.execute(
            select(kind_answer, ongoing_answer, unkept, func.count())
            .where(Case.id.in_(case_ids), Case.created_at >= starts[0]).group_by(kind_answer, ongoing_answer, unkept)):
        if missing:
            counts.unkept += n
        else:
            counts.answers[(kind, going)] += n
    return counts


def _month_starts(months: Sequence[Month]) -> list[datetime]:
    """Where each month begins in Norwegian time, and where the last one ends."""
    y, m = months[-1]
    after = (y + 1, 1) if m == 12 else (y, m + 1)
    return [datetime(y, m, 1, tzinfo=OSLO) for y, m in [*months, after]]


def _deadlines_by_month(session: Session, case_ids: Select[Any] | list[int], starts: Sequence[datetime],
                        months: Sequence[Month]) -> tuple[Counter[Month], Counter[Month]]:
    """Deadlines met and missed in each month, of these cases: a missed deadline is its own
    event; a met one is a step done by its due time. The months are cut at midnight in Norway,
    so a step done at 00:30 on 1 October counts in October."""
    met: Counter[Month] = Counter()
    missed: Counter[Month] = Counter()
    month = case(*((HistoryEvent.at < end, i) for i, end in enumerate(starts[1:])), else_=None)
    for index, kind, n in session.execute(
            select(month, HistoryEvent.kind, func.count())
            .where(HistoryEvent.case_id.in_(case_ids), HistoryEvent.at >= starts[0], HistoryEvent.at < starts[-1],
                   HistoryEvent.kind.in_((DEADLINE_MISSED, TASK_COMPLETED)), deadline_counted(HistoryEvent))
            .group_by(month, HistoryEvent.kind)):
        if index is not None:
            (missed if kind == DEADLINE_MISSED else met)[months[index]] += n
    return met, missed


def _report_counts(kap12: Kap12, session: Session, answers: list[tuple[str | None, str | None, int]]
                   ) -> ReportCounts:
    """The reports counted by the answers to «Hva slags krenkelse» and «Pågår det fortsatt»
    (each as JSON text, with how many reports gave it), labelled as the newest report form says
    (a report made before these questions existed counts as «Ikke oppgitt»)."""
    declared = {f.name: f for f in kap12.forms.get(cases.REPORT_FORM, session).fields}

    def labelled(name: str, counter: Counter[str]) -> tuple[tuple[str, int], ...]:
        f = declared.get(name)
        order = [(c.value, c.label) for c in f.choices] if f else []
        known = {value for value, _ in order}
        out = [(label, counter[value]) for value, label in order if counter[value]]
        out += [(value, n) for value, n in sorted(counter.items()) if value not in known and value != NOT_GIVEN and n]
        return tuple(out + ([(NOT_GIVEN, counter[NOT_GIVEN])] if counter[NOT_GIVEN] else []))

    kinds: Counter[str] = Counter()
    ongoing: Counter[str] = Counter()
    for kind_text, ongoing_text, n in answers:
        # The same kinds in another order are another group here; a report counts once per kind.
        kind, going = _json_or_none(kind_text), _json_or_none(ongoing_text)
        chosen = {v for v in kind if isinstance(v, str)} if isinstance(kind, list) else set()
        for value in chosen or {NOT_GIVEN}:
            kinds[value] += n
        ongoing[going if isinstance(going, str) and going else NOT_GIVEN] += n
    return ReportCounts(sum(n for *_, n in answers), labelled(KIND_FIELD, kinds), labelled(ONGOING_FIELD, ongoing))


def _unkept_answers(session: Session, case_ids: Select[Any]) -> list[Any]:
    """The two answers of these cases' reports, from the history: cases reported by the release
    before 0017 while the database was already upgraded (between ``kap12 init`` and the workers'
    restart: the upgrade copied the answers of the reports made before it, not of those after)."""
    kind_answer = cast(HistoryEvent.data[("report", KIND_FIELD)], Text)
    ongoing_answer = cast(HistoryEvent.data[("report", ONGOING_FIELD)], Text)
    return list(session.execute(
        select(kind_answer, ongoing_answer, func.count())
        .where(HistoryEvent.case_id.in_(case_ids), HistoryEvent.kind == REPORTED)
        .group_by(kind_answer, ongoing_answer)))


def _json_or_none(text: str | None) -> Any:
    return json.loads(text) if text is not None else None
