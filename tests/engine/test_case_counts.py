"""Saker's tabs, summed from the case tallies of the person's roles (less the cases outside
their circle, plus those their own sets reach), are the counts of the cases they see — for the
accused, the bypassed leadership, a teacher who reported or was granted a case, the school
owner, and leaders who also audit the county — with every filter."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, func, select
from support.case_stories import outside_their_own_reports, stories, viewers
from support.migrations import upgrade_from

from engine import access
from engine.read import case_counts, case_list
from engine.store.models import Case, CaseParty, ReportedTally, StatusTally
from engine.write import tally_folding


def _counted(kap12, viewer, **filters) -> dict[str, int]:
    with kap12.db.reading() as session:
        counted = case_list.status_counts(session, within=access.visible_cases(viewer), **filters)
    return {status: counted.get(status, 0) for status in ("open", "closed")}


def _summed(kap12, viewer, reach: bool, **filters) -> dict[str, int]:
    with kap12.db.reading() as session:
        viewer = access.with_reach(session, viewer) if reach else viewer
        return case_counts.status_counts(session, viewer, **filters)


def test_the_tabs_count_what_each_viewer_sees(flow, kap12, demo):
    stories(flow, kap12, demo)
    seen = {}
    for name, viewer in viewers(demo).items():
        counted = _counted(kap12, viewer)
        for reach in (True, False):  # the person's sets found once for the page, or in the query
            assert _summed(kap12, viewer, reach) == counted, (name, reach)
        seen[name] = counted
    # Not a test that cannot fail: the viewers see different things.
    assert seen["rektor"] == {"open": 4, "closed": 1}  # A (closed, serious, granted), B twice; never C
    assert seen["avdelingsleder"] == {"open": 2, "closed": 1}  # A only
    assert seen["skoleeier"] == {"open": 4, "closed": 0}  # B twice, C, the serious A once told
    assert seen["ansatt"] == {"open": 5, "closed": 1}  # reported five (status access), granted one
    assert seen["ansatt2"] == {"open": 1, "closed": 0}  # reported the granted one; accused in two B
    assert seen["rektor2"] == {"open": 0, "closed": 0}
    assert seen["revisor"] == seen["skoleeier+revisor"] == {"open": 5, "closed": 1}
    assert seen["rektor+revisor"] == seen["avdelingsleder+revisor"] == {"open": 4, "closed": 1}  # not the C case


def test_the_filters_narrow_the_tabs_as_the_counts(flow, kap12, demo):
    stories(flow, kap12, demo)
    for name, viewer in viewers(demo).items():
        for procedure in ("A", "B", "C"):
            assert _summed(kap12, viewer, True, procedure=procedure) == _counted(kap12, viewer, procedure=procedure)
        for school in (flow.NORDLI, "Sørbakken videregående skole"):
            assert _summed(kap12, viewer, True, school=school) == _counted(kap12, viewer, school=school), name


def test_folded_tallies_count_the_same(flow, kap12, demo):
    stories(flow, kap12, demo)
    tally_folding.fold(kap12.db)
    flow.report()  # on top of the folded rows
    for name, viewer in viewers(demo).items():
        assert _summed(kap12, viewer, True) == _counted(kap12, viewer), name


def _cases(kap12) -> Counter[tuple]:
    columns = (Case.county_id, Case.school_id, Case.kind, Case.procedure, Case.owner_notified_at.is_not(None),
               Case.status)
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(
            select(*columns, func.count()).group_by(*columns))})


def _tallied(kap12, tally=StatusTally, *first) -> Counter[tuple]:
    """The tally's sums by its group (``first``: columns before the dims, as the reporter's)."""
    columns = (*first, tally.county_id, tally.school_id, tally.kind, tally.procedure, tally.notified, tally.status)
    total = func.sum(tally.n)
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(
            select(*columns, total).group_by(*columns).having(total != 0))})


def test_the_status_tallies_are_the_cases_made_new_upgraded_or_deleted(flow, kap12, demo):
    stories(flow, kap12, demo)
    cases = _cases(kap12)
    assert {key[4] for key in cases} == {True, False} and {key[5] for key in cases} == {"open", "closed"}
    assert _tallied(kap12) == cases
    assert tally_folding.fold(kap12.db, StatusTally) == len(cases) and _tallied(kap12) == cases
    with kap12.db.writing() as session:  # a case row with nothing of its own yet (as a failed report leaves none)
        template = session.scalars(select(Case)).first()
        session.add(Case(number="slettes", school_id=template.school_id, county_id=template.county_id,
                         definition_id=template.definition_id, procedure="C", status="open", stage="", state="{}",
                         created_at=template.created_at, updated_at=template.updated_at, escalated=False))
    assert _tallied(kap12) == _cases(kap12) != cases
    with kap12.db.writing() as session:
        session.execute(delete(Case).where(Case.number == "slettes"))
    assert _tallied(kap12) == cases
    upgrade_from(kap12, "0024_month_tallies")
    assert _tallied(kap12) == cases
    with kap12.db.reading() as session:  # the copy is one row per group
        assert session.scalar(select(func.count()).select_from(StatusTally)) == len(cases)


def test_the_tabs_are_counted_in_one_snapshot(flow, kap12, demo):
    """The tallies, the cases outside the circle and those beyond it are read in one snapshot:
    a case made between two of the queries is in all of them or in none."""
    stories(flow, kap12, demo)
    rektor = demo.users["rektor"]
    with kap12.db.snapshot() as session:
        before = case_counts.status_counts(session, rektor)
        flow.report()  # committed by another session meanwhile
        assert case_counts.status_counts(session, rektor) == before
    assert _summed(kap12, rektor, False)["open"] == before["open"] + 1


def test_a_reporter_is_not_counted_the_reports_outside_their_circle(flow, kap12, demo):
    stories(flow, kap12, demo)
    before = {name: _counted(kap12, viewer) for name, viewer in viewers(demo).items()}
    outside_their_own_reports(flow, kap12, demo)
    for name, viewer in viewers(demo).items():
        counted = _counted(kap12, viewer)
        for reach in (True, False):
            assert _summed(kap12, viewer, reach) == counted, (name, reach)
        for procedure in ("A", "B", "C"):
            assert _summed(kap12, viewer, True, procedure=procedure) == _counted(kap12, viewer, procedure=procedure)
    # The two reporters count neither; rektor sees the B case, and the school owner both.
    assert _counted(kap12, demo.users["ansatt2"]) == before["ansatt2"]
    assert _counted(kap12, demo.users["avdelingsleder"]) == before["avdelingsleder"]
    assert _counted(kap12, demo.users["rektor"])["open"] == before["rektor"]["open"] + 1
    assert _counted(kap12, demo.users["skoleeier"])["open"] == before["skoleeier"]["open"] + 2


def _reports(kap12) -> Counter[tuple]:
    columns = (CaseParty.user_id, Case.county_id, Case.school_id, Case.kind, Case.procedure,
               Case.owner_notified_at.is_not(None), Case.status)
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(
            select(*columns, func.count()).join(Case, Case.id == CaseParty.case_id)
            .where(CaseParty.relation == "reporter").group_by(*columns))})


def _reports_tallied(kap12) -> Counter[tuple]:
    return _tallied(kap12, ReportedTally, ReportedTally.user_id)


def test_the_reported_tallies_are_the_reports_made_moved_closed_upgraded_or_deleted(flow, kap12, demo):
    stories(flow, kap12, demo)
    outside_their_own_reports(flow, kap12, demo)
    reports = _reports(kap12)
    # Reported by several people, in A, B and C, open and closed, told the owner and not.
    assert len({key[0] for key in reports}) == 3 and {key[4] for key in reports} == {"A", "B", "C"}
    assert {key[5] for key in reports} == {True, False} and {key[6] for key in reports} == {"open", "closed"}
    assert _reports_tallied(kap12) == reports
    assert tally_folding.fold(kap12.db, ReportedTally) == len(reports) and _reports_tallied(kap12) == reports
    case = flow.report()  # on top of the folded rows, then closed
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", case.id, "Avslutte og dokumentere saken")
    assert _reports_tallied(kap12) == _reports(kap12) != reports
    with kap12.db.writing() as session:  # a party taken away (as no path of kap12 does) is counted away
        session.execute(delete(CaseParty).where(CaseParty.case_id == case.id))
    assert _reports_tallied(kap12) == reports
    upgrade_from(kap12, "0035_task_role_index_cases")
    assert _reports_tallied(kap12) == reports
    with kap12.db.reading() as session:  # the copy is one row per group
        assert session.scalar(select(func.count()).select_from(ReportedTally)) == len(reports)
