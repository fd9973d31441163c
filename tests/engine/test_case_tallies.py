"""The case tallies (signed rows the database adds as cases are made, closed, reclassified, moved
to another version or deleted) always sum to the cases themselves, folded or not; the process
list and an auditor's versions, counted from them, are the counts of the cases."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from sqlalchemy import delete, func, select
from support.migrations import upgrade_from

from engine import access
from engine.read import queries
from engine.store import case_tallies
from engine.store.case_tallies import GROUP
from engine.store.models import Case, CaseTally
from engine.write import migration, tally_folding


def _stories(flow) -> None:
    """Cases in every procedure, one closed, one reclassified, one moved to a new version."""
    closed = flow.report()
    flow.do("avdelingsleder", closed.id, "Motta og registrere melding")
    flow.do("avdelingsleder", closed.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", closed.id, "Avslutte og dokumentere saken")
    flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")
    flow.report(krenker_type="ledelse", anklaget_bruker="rektor")
    moved = flow.report()
    flow.kap12.reclassify(flow.demo.users["rektor"], moved.id, "ansatt", "Det var en lærer.", accused="ansatt2")
    waiting = flow.report()
    to = flow.deploy_a(rename_motta="Motta meldingen")
    migration.migrate(flow.kap12, flow.demo.users["prosesseier"], waiting.id, to, "Ny rutine")
    flow.report()  # on the new version


def _cases(kap12) -> Counter[tuple]:
    columns = [getattr(Case, name) for name in GROUP]
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(
            select(*columns, func.count()).group_by(*columns))})


def _tallied(kap12) -> Counter[tuple]:
    columns = [getattr(CaseTally, name) for name in GROUP]
    with kap12.db.reading() as session:
        return Counter({tuple(row[:-1]): row[-1] for row in session.execute(case_tallies.counted(*columns))})


def _rows(kap12) -> int:
    with kap12.db.reading() as session:
        return session.scalar(select(func.count()).select_from(CaseTally))


def test_the_tallies_are_the_cases_folded_or_not(flow, kap12, demo):
    _stories(flow)
    cases = _cases(kap12)
    assert {key[3] for key in cases} == {"A", "B", "C"} and {key[4] for key in cases} == {"open", "closed"}
    assert len({key[1] for key in cases}) == 2  # two versions of the case process
    assert _tallied(kap12) == cases
    assert _rows(kap12) > len(cases)  # a row for every case made and every move
    assert tally_folding.fold(kap12.db) == len(cases)
    assert _rows(kap12) == len(cases) and _tallied(kap12) == cases
    flow.report()  # counted on top of the folded rows
    assert _tallied(kap12) == _cases(kap12)


def test_a_deleted_case_leaves_the_tallies(flow, kap12, demo):
    _stories(flow)
    tally_folding.fold(kap12.db)
    with kap12.db.writing() as session:  # a case row with nothing of its own yet (as a failed report leaves none)
        template = session.scalars(select(Case).where(Case.status == "closed")).first()
        bare = Case(number="slettes", school_id=template.school_id, county_id=template.county_id,
                    definition_id=template.definition_id, procedure="A", status="open", stage="", state="{}",
                    created_at=template.created_at, updated_at=template.updated_at, escalated=False)
        session.add(bare)
    assert _tallied(kap12) == _cases(kap12)
    with kap12.db.writing() as session:
        session.execute(delete(Case).where(Case.number == "slettes"))
    assert _tallied(kap12) == _cases(kap12)
    tally_folding.fold(kap12.db)
    assert _tallied(kap12) == _cases(kap12)


def test_folding_waits_until_the_rows_have_grown(flow, kap12, demo, monkeypatch):
    flow.report()
    monkeypatch.setattr(tally_folding, "FOLD_ABOVE", 3)
    rows = _rows(kap12)
    assert rows <= 3 and tally_folding.fold_if_grown(kap12.db, 0) == 0 and _rows(kap12) == rows
    for _ in range(3):
        flow.report()
    left = tally_folding.fold_if_grown(kap12.db, 0)
    assert left == _rows(kap12) == len(_cases(kap12)) < rows + 3
    assert _tallied(kap12) == _cases(kap12)


def test_an_upgraded_database_has_the_tallies_of_every_case(flow, kap12, demo):
    _stories(flow)
    upgrade_from(kap12, "0019_case_work")
    assert _tallied(kap12) == _cases(kap12)
    assert _rows(kap12) == len(_cases(kap12))  # the copy is one row per group


def test_the_process_list_counts_the_cases_on_each_version(flow, kap12, demo):
    _stories(flow)
    listed = {(v.process_id, v.version): (v.open_cases, v.closed_cases)
              for rows in migration.versions_with_cases(kap12, demo.users["prosesseier"]).values() for v in rows}
    with kap12.db.reading() as session:
        on_case_process = Counter((c.definition.version, c.status) for c in session.scalars(select(Case)))
    for number in (1, 2):
        assert listed[("kap12_sak", number)] == (on_case_process[(number, "open")], on_case_process[(number, "closed")])
    assert sum(listed[("kap12_sak", n)][0] + listed[("kap12_sak", n)][1] for n in (1, 2)) == 6


def _direct(kap12, viewer) -> Counter[int]:
    with kap12.db.reading() as session:
        return Counter(dict(session.execute(access.visible_cases(viewer).with_only_columns(
            Case.definition_id, func.count()).group_by(Case.definition_id)).all()))


def test_an_auditors_versions_are_the_cases_they_see(flow, kap12, demo):
    """Counted as the county's tallies less the cases outside the auditor's circle, and the cases
    they see beyond the counties they audit: the same as counting the cases they see, for an
    auditor who is also accused in a case, or also leads a school whose C case is bypassed, or
    audits two counties, or is rektor in a county they do not audit."""
    _stories(flow)
    county = ("revisor", None, demo.county_id)
    rektor, head = demo.users["rektor"], demo.users["avdelingsleder"]
    viewers = [demo.users["revisor"], replace(rektor, grants=(*rektor.grants, county)),
               replace(head, grants=(*head.grants, county)), replace(demo.users["revisor"], grants=(county,
               ("revisor", None, demo.county_id + 1))),
               replace(rektor, grants=(*rektor.grants, ("revisor", None, demo.county_id + 1)))]  # audits elsewhere
    for viewer in viewers:
        counted = {v.id: v.cases for v in queries.versions_in_use(kap12, viewer)}
        assert counted == dict(_direct(kap12, viewer)) and counted
    # The rektor accused in the C case and the bypassed department head see one case fewer.
    assert sum(_direct(kap12, viewers[1]).values()) == sum(_direct(kap12, viewers[0]).values()) - 1
    assert sum(_direct(kap12, viewers[2]).values()) == sum(_direct(kap12, viewers[0]).values()) - 1
