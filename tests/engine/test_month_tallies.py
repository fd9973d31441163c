"""The month tallies (signed rows the database adds as the history records a deadline met or
missed and as a case is made, moved to other dims or deleted) always say what the cases and their
history say, folded or not, made new or upgraded; and the overview's year figures summed from
them are the figures counted from the cases each viewer may read — the accused's case, the
bypassed leadership's, a grant and a task beyond the viewer's roles included."""
from __future__ import annotations

import importlib
import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from support.migrations import upgrade_from

from engine import access
from engine.read import year_figures
from engine.read.overview import _months
from engine.store.counted_events import deadline_counted
from engine.store.models import Case, HistoryEvent, MonthTally
from engine.write import tally_folding, timers
from processes.deadlines import OSLO, school_year_dates, school_year_of

TALLY_MIGRATION = importlib.import_module("engine.store.migrations.versions.0024_month_tallies")
KEY = ("county_id", "school_id", "kind", "procedure", "notified", "month", "measure", "kind_answer", "ongoing_answer")


def _stories(flow, kap12, demo) -> dict[str, int]:
    """Deadlines met and missed across a month's start, a serious case notified to the school
    owner, B and C (rektor accused), a reclassified case, and a case granted to a teacher."""
    kap12.clock.set(datetime(2026, 9, 30, 23, 30, tzinfo=OSLO))  # 30 September in Norway, 21:30 UTC
    late = flow.report(krenkelse_art=["mobbing", "digital"], pagaar="ja")
    kap12.clock.set(datetime(2026, 10, 1, 0, 30, tzinfo=OSLO))  # 1 October, still 30 September in UTC
    serious = flow.report(krenkelse_art=["vold"], pagaar="nei")
    flow.do("avdelingsleder", serious.id, "Motta og registrere melding", alvorlig_sak=True)  # met, in October
    kap12.clock.set(datetime(2026, 10, 20, 9, 0, tzinfo=OSLO))
    kap12.sweep_timers()  # the late one's deadlines missed; the notice of the serious one too
    flow.do("rektor", serious.id, "Varsle skoleeier")  # notified: its rows move to the owner's circle
    b = flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2", krenkelse_art=["seksuell_trakassering"])
    c = flow.report(krenker_type="ledelse", anklaget_bruker="rektor", krenkelse_art=[], pagaar=None)
    moved = flow.report(krenkelse_art=["mobbing"])
    flow.do("avdelingsleder", moved.id, "Motta og registrere melding")  # met, then moved to B
    kap12.reclassify(demo.users["rektor"], moved.id, "ansatt", "Det var en lærer.", accused="ansatt2")
    kap12.clock.set(datetime(2026, 11, 16, 9, 0, tzinfo=OSLO))
    kap12.sweep_timers()
    granted = flow.report(krenkelse_art=["mobbing"], pagaar="vet_ikke")
    kap12.grant_access(demo.users["rektor"], granted.id, "ansatt2", "Kontaktlærer",
                       (kap12.clock.now() + timedelta(days=30)).date())
    kap12.clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=OSLO))
    return {"late": late.id, "serious": serious.id, "b": b.id, "c": c.id, "moved": moved.id, "granted": granted.id}


def _tallied(kap12) -> Counter[tuple]:
    columns = [getattr(MonthTally, name) for name in KEY]
    total = func.sum(MonthTally.n)
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(
            select(*columns, total).group_by(*columns).having(total != 0))})


def _from_cases(kap12) -> Counter[tuple]:
    """The same rows, worked out here from the cases and the history (months by the time zone
    database, answers parsed), for comparing with what the triggers wrote."""
    expected: Counter[tuple] = Counter()
    with kap12.db.reading() as session:
        cases = {c.id: c for c in session.scalars(select(Case))}

        def dims(case):
            return (case.county_id, case.school_id, case.kind, case.procedure, case.owner_notified_at is not None)

        for case_id, at, kind in session.execute(select(HistoryEvent.case_id, HistoryEvent.at, HistoryEvent.kind)
                                                 .where(HistoryEvent.case_id.is_not(None), deadline_counted(HistoryEvent))):
            expected[(*dims(cases[case_id]), at.astimezone(OSLO).strftime("%Y-%m"), kind, None, None)] += 1
        for case in cases.values():
            answers = case.report_answers
            measure = "reported" if answers is not None else "reported_unkept"
            expected[(*dims(case), case.created_at.astimezone(OSLO).strftime("%Y-%m"), measure,
                      _canonical((answers or {}).get("krenkelse_art")) if answers is not None else None,
                      _canonical((answers or {}).get("pagaar")) if answers is not None else None)] += 1
    return +expected


def _canonical(value):
    return None if value is None else repr(value)


def _comparable(tallied: Counter[tuple]) -> Counter[tuple]:
    """The answers' JSON text as the value it says (each database writes JSON its own way)."""
    import json
    out: Counter[tuple] = Counter()
    for key, n in tallied.items():
        *head, kind, going = key
        out[(*head, _canonical(json.loads(kind)) if kind is not None else None,
             _canonical(json.loads(going)) if going is not None else None)] += n
    return out


def test_the_tallies_are_the_cases_and_their_history_folded_or_not(flow, kap12, demo):
    ids = _stories(flow, kap12, demo)
    expected = _from_cases(kap12)
    measures = Counter(key[6] for key in expected.elements())
    assert measures["deadline_missed"] >= 2 and measures["task_completed"] >= 2 and measures["reported"] == 6
    assert _comparable(_tallied(kap12)) == expected
    with kap12.db.reading() as session:
        serious = session.get(Case, ids["serious"])
        assert serious.owner_notified_at is not None
    # The serious case's rows are all notified now, the moved case's all B.
    for key in expected:
        if key[7] == repr(["vold"]):
            assert key[4] is True
    assert tally_folding.fold(kap12.db, MonthTally) == len(_tallied(kap12))
    assert _comparable(_tallied(kap12)) == expected
    flow.report()  # counted on top of the folded rows
    assert _comparable(_tallied(kap12)) == _from_cases(kap12)


def test_a_deleted_case_takes_its_report_row_with_it(flow, kap12, demo):
    _stories(flow, kap12, demo)
    with kap12.db.writing() as session:  # a case row with nothing of its own yet (as a failed report leaves none)
        template = session.scalars(select(Case)).first()
        session.add(Case(number="slettes", school_id=template.school_id, county_id=template.county_id,
                         definition_id=template.definition_id, procedure="A", status="open", stage="", state="{}",
                         created_at=template.created_at, updated_at=template.updated_at, escalated=False))
    assert _comparable(_tallied(kap12)) == _from_cases(kap12)
    with kap12.db.writing() as session:
        session.execute(delete(Case).where(Case.number == "slettes"))
    assert _comparable(_tallied(kap12)) == _from_cases(kap12)


def test_a_report_adds_its_own_row_and_nothing_to_undo(flow, kap12, demo):
    """A case is made with its report's answers, so a report writes the one row of its report:
    answers set after the row was made moved it from "unkept" to its answers, three rows (and
    the trigger's search of the case's events) for each report."""
    def rows() -> int:
        with kap12.db.reading() as session:
            return session.scalar(select(func.count()).select_from(MonthTally))

    before = rows()
    flow.report()
    assert rows() == before + 1
    assert _comparable(_tallied(kap12)) == _from_cases(kap12)


def test_an_upgraded_database_has_the_tallies_of_every_case(flow, kap12, demo):
    _stories(flow, kap12, demo)
    expected = _from_cases(kap12)
    upgrade_from(kap12, "0023_case_marks")
    assert _comparable(_tallied(kap12)) == expected
    with kap12.db.reading() as session:  # the copy is one row per group
        assert session.scalar(select(func.count()).select_from(MonthTally)) == len(expected)


def _counted_from_cases(kap12, viewer, school=None, procedure=None):
    """The figures as they were counted before the tallies: from every case the viewer reads."""
    now = kap12.clock.now()
    months = _months(school_year_dates(school_year_of(now))[0], now)
    starts = year_figures._month_starts(months)
    readable = access.readable_cases(viewer)
    if school:
        readable = readable.where(Case.school_id == school)
    if procedure:
        readable = readable.where(Case.procedure == procedure)
    with kap12.db.reading() as session:
        counts = year_figures._counted(session, readable.with_only_columns(Case.id), starts, months)
        answers = [(kind, going, n) for (kind, going), n in counts.answers.items()]
        if counts.unkept:
            answers += year_figures._unkept_answers(session, readable.where(Case.report_answers.is_(None))
                                                    .with_only_columns(Case.id))
        return +counts.met, +counts.missed, year_figures._report_counts(kap12, session, answers), months


def _summed(kap12, viewer, school_name=None, procedure=None):
    now = kap12.clock.now()
    months = _months(school_year_dates(school_year_of(now))[0], now)
    with kap12.db.reading() as session:
        return year_figures.counted_this_year(kap12, session, access.with_reach(session, viewer), school_name,
                                              procedure, months)


def test_the_year_figures_are_the_cases_each_viewer_reads(flow, kap12, demo, monkeypatch):
    """For the leadership, rektor accused in the C case, the bypassed department head, the school
    owner (with the serious case once notified), a teacher granted one case and given tasks, a
    rektor of another school, and the school owner, rektor and department head each also
    auditing the county (whose tallies then reach the C case outside the latter two's circle)."""
    _stories(flow, kap12, demo)
    viewers = {name: demo.users[name] for name in ("rektor", "avdelingsleder", "skoleeier", "ansatt", "ansatt2",
                                                   "rektor2")}
    audits = ("revisor", None, demo.county_id)
    for name in ("skoleeier", "rektor", "avdelingsleder"):  # the county's tallies, less the case outside the circle
        viewers[f"{name}+revisor"] = replace(demo.users[name], grants=(*demo.users[name].grants, audits))
    seen = {}
    for name, viewer in viewers.items():
        met, missed, reports, _ = _counted_from_cases(kap12, viewer)
        assert _summed(kap12, viewer) == (met, missed, reports), name
        seen[name] = reports.reports
        monkeypatch.setattr(year_figures, "LISTED", 0)  # the cases counted apart asked as a query
        assert _summed(kap12, viewer) == (met, missed, reports), name
        monkeypatch.undo()
    # Not a test that cannot fail: the viewers see different things.
    assert seen == {"rektor": 5, "avdelingsleder": 3,  # A at the school, and B for rektor; never C (bypassed)
                    "skoleeier": 4,  # B, C, the moved B, the serious A once notified
                    "ansatt": 0, "ansatt2": 1,  # a reporter counts nothing; the granted case, not those accused in
                    "rektor2": 0, "skoleeier+revisor": 6,
                    "rektor+revisor": 5, "avdelingsleder+revisor": 5}  # all but the C case (accused; bypassed)
    assert seen["skoleeier"] == 4 and seen["ansatt2"] == 1  # B, C, the notified A, the moved B; the grant
    assert sum(_summed(kap12, viewers["rektor"])[1].values()) >= 1


def test_the_filters_narrow_the_summed_figures_as_the_counted(flow, kap12, demo):
    _stories(flow, kap12, demo)
    for name in ("rektor", "skoleeier"):
        viewer = demo.users[name]
        for procedure in ("A", "B", "C"):
            met, missed, reports, _ = _counted_from_cases(kap12, viewer, procedure=procedure)
            assert _summed(kap12, viewer, procedure=procedure) == (met, missed, reports), (name, procedure)
        met, missed, reports, _ = _counted_from_cases(kap12, viewer, school=demo.schools[flow.NORDLI])
        assert _summed(kap12, viewer, flow.NORDLI) == (met, missed, reports), name


def test_sqlites_month_is_norways_hour_by_hour():
    """SQLite knows no time zones: its month of a time (migration 0024) is checked against the
    time zone database at every hour around every month's start from 2024 to 2031."""
    expression = TALLY_MIGRATION.SQLITE.month("?")
    connection = sqlite3.connect(":memory:")
    checked = 0
    for year in range(2024, 2032):
        for month in range(1, 13):
            start = datetime(year, month, 1, tzinfo=OSLO).astimezone(UTC)
            for hours in range(-30, 30):
                at = start + timedelta(hours=hours, minutes=30)
                stored = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")  # as UTCDateTime
                said = connection.execute(f"SELECT {expression.replace('?', ':at')}", {"at": stored}).fetchone()[0]
                assert said == at.astimezone(OSLO).strftime("%Y-%m"), at
                checked += 1
    assert checked == 8 * 12 * 60


def test_the_sweepers_fold_the_month_tallies_once_grown(flow, kap12, demo, monkeypatch):
    _stories(flow, kap12, demo)
    monkeypatch.setattr(tally_folding, "FOLD_ABOVE", 3)
    expected = _from_cases(kap12)

    def rows() -> int:
        with kap12.db.reading() as session:
            return session.scalar(select(func.count()).select_from(MonthTally))

    assert rows() > len(expected)  # a row for each event counted and each case made or moved
    sweeper = timers.Sweeper(kap12)
    sweeper.sweep_once()  # fires what is due by now, then folds
    expected = _from_cases(kap12)
    assert rows() == sweeper.tally_rows[MonthTally] == len(expected)
    assert _comparable(_tallied(kap12)) == expected
    assert tally_folding.fold_if_grown(kap12.db, rows(), MonthTally) == rows()  # not grown since: left
