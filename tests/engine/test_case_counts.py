"""Saker's tabs, summed from the case tallies of the person's roles (less the cases outside
their circle, plus those their own sets reach), are the counts of the cases they see — for the
accused, the bypassed leadership, a teacher who reported or was granted a case, the school
owner, and leaders who also audit the county — with every filter."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import delete, func, select
from support.migrations import upgrade_from

from engine import access
from engine.read import case_counts, case_list
from engine.store.models import Case, StatusTally
from engine.write import tally_folding


def _stories(flow, kap12, demo) -> None:
    closed = flow.report()
    flow.do("avdelingsleder", closed.id, "Motta og registrere melding")
    flow.do("avdelingsleder", closed.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", closed.id, "Avslutte og dokumentere saken")
    serious = flow.report()
    flow.do("avdelingsleder", serious.id, "Motta og registrere melding", alvorlig_sak=True)
    flow.do("rektor", serious.id, "Varsle skoleeier")
    flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")
    flow.report(krenker_type="ledelse", anklaget_bruker="rektor")
    moved = flow.report()
    kap12.reclassify(demo.users["rektor"], moved.id, "ansatt", "Det var en lærer.", accused="ansatt2")
    granted = flow.report(user="ansatt2")
    kap12.grant_access(demo.users["rektor"], granted.id, "ansatt", "Kontaktlærer",
                       (kap12.clock.now() + timedelta(days=30)).date().isoformat())


def _viewers(demo) -> dict[str, access.Viewer]:
    viewers = {name: demo.users[name] for name in ("rektor", "avdelingsleder", "skoleeier", "ansatt", "ansatt2",
                                                   "rektor2", "revisor")}
    audits = ("revisor", None, demo.county_id)
    for name in ("skoleeier", "rektor", "avdelingsleder"):
        viewers[f"{name}+revisor"] = replace(demo.users[name], grants=(*demo.users[name].grants, audits))
    return viewers


def _counted(kap12, viewer, **filters) -> dict[str, int]:
    with kap12.db.reading() as session:
        counted = case_list.status_counts(session, within=access.visible_cases(viewer), **filters)
    return {status: counted.get(status, 0) for status in ("open", "closed")}


def _summed(kap12, viewer, reach: bool, **filters) -> dict[str, int]:
    with kap12.db.reading() as session:
        viewer = access.with_reach(session, viewer) if reach else viewer
        return case_counts.status_counts(session, viewer, **filters)


def test_the_tabs_count_what_each_viewer_sees(flow, kap12, demo):
    _stories(flow, kap12, demo)
    seen = {}
    for name, viewer in _viewers(demo).items():
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
    _stories(flow, kap12, demo)
    for name, viewer in _viewers(demo).items():
        for procedure in ("A", "B", "C"):
            assert _summed(kap12, viewer, True, procedure=procedure) == _counted(kap12, viewer, procedure=procedure)
        for school in (flow.NORDLI, "Sørbakken videregående skole"):
            assert _summed(kap12, viewer, True, school=school) == _counted(kap12, viewer, school=school), name


def test_folded_tallies_count_the_same(flow, kap12, demo):
    _stories(flow, kap12, demo)
    tally_folding.fold(kap12.db)
    flow.report()  # on top of the folded rows
    for name, viewer in _viewers(demo).items():
        assert _summed(kap12, viewer, True) == _counted(kap12, viewer), name


def _cases(kap12) -> Counter[tuple]:
    columns = (Case.county_id, Case.school_id, Case.kind, Case.procedure, Case.owner_notified_at.is_not(None),
               Case.status)
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(
            select(*columns, func.count()).group_by(*columns))})


def _tallied(kap12) -> Counter[tuple]:
    columns = (StatusTally.county_id, StatusTally.school_id, StatusTally.kind, StatusTally.procedure,
               StatusTally.notified, StatusTally.status)
    total = func.sum(StatusTally.n)
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(
            select(*columns, total).group_by(*columns).having(total != 0))})


def test_the_status_tallies_are_the_cases_made_new_upgraded_or_deleted(flow, kap12, demo):
    _stories(flow, kap12, demo)
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
    _stories(flow, kap12, demo)
    rektor = demo.users["rektor"]
    with kap12.db.snapshot() as session:
        before = case_counts.status_counts(session, rektor)
        flow.report()  # committed by another session meanwhile
        assert case_counts.status_counts(session, rektor) == before
    assert _summed(kap12, rektor, False)["open"] == before["open"] + 1
