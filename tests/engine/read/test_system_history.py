"""The system chain as auditors read it (``engine/read/system_history.py``): versions published
are every county's, a county's people are its own; paged newest first; the counties of the
events written before the list existed filled in by the migration."""
from __future__ import annotations

from sqlalchemy import delete
from support.migrations import upgrade_from

from engine.read.paging import Page
from engine.read.system_history import EVERY_COUNTY, latest_checkpoint, system_page
from engine.store import history, staff_file
from engine.store.events import DEPLOYED, DIRECTORY_CHANGED
from engine.store.models import SystemEventCounty
from engine.write import staff_directory
from tests.support.counties import person_of_another_county

NORDLI = "Nordli videregående skole"
DEMO = "Innlandet fylkeskommune (demo)"
OTHER = "Et annet fylke"


def _import(kap12, county: str, text: str, **options):
    data = ("brukernavn;navn;epost;skole;roller\n" + text).encode()
    return staff_directory.import_staff(kap12, staff_file.read(data), source="ansatte.csv",
                                        digest=staff_directory.file_digest(data), county=county, **options)


def _all(kap12, viewer, **options) -> list:
    found, cursor = [], None
    while True:
        page: Page = system_page(kap12, viewer, cursor=cursor, limit=2, **options)
        found += page.items
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def _two_counties(kap12, demo):
    """The demo county's list read, the other county's too, and a person of both deactivated."""
    other_auditor = person_of_another_county(kap12, "revisor", "revisor_annet")
    _import(kap12, DEMO, f"nina;Nina Ny;;{NORDLI};ansatt\n")
    _import(kap12, OTHER, "ola;Ola Annen;;;skoleeier\n")
    _import(kap12, OTHER, "nina;Nina Ny;;;prosesseier\n")  # Nina is of both counties now
    staff_directory.deactivate(kap12, "nina", "sluttet 31.12.")
    return kap12.viewer("revisor"), other_auditor


def test_an_auditor_reads_every_counts_versions_and_their_own_countys_people(kap12, demo):
    demo_auditor, other_auditor = _two_counties(kap12, demo)
    mine = _all(kap12, demo_auditor)
    assert [e.seq for e in mine] == sorted((e.seq for e in mine), reverse=True)  # newest first, no repeats
    assert len({e.seq for e in mine}) == len(mine)
    people = [e for e in mine if e.kind == DIRECTORY_CHANGED]
    assert [(e.subject, e.data.get("reason")) for e in people] == [(OTHER + ", " + DEMO, "sluttet 31.12."),
                                                                   (DEMO, None)]
    assert [p.describe() for p in people[0].people] == ["nina (Nina Ny): deaktivert"]
    assert [e.act for e in people] == ["deactivated", "staff_list"]
    assert [p.describe() for p in people[1].people] == [f"nina (Nina Ny): ny, får ansatt ved {NORDLI}"]
    assert people[1].data["source"] == "ansatte.csv" and len(people[1].data["sha256"]) == 64
    versions = [e for e in mine if e.kind in EVERY_COUNTY]
    assert versions and {e.kind for e in versions} == {DEPLOYED}
    assert all(e.subject and e.subject != e.data["process_id"] for e in versions)  # the process's name

    theirs = _all(kap12, other_auditor)
    assert [e.subject for e in theirs if e.kind == DIRECTORY_CHANGED] == [OTHER + ", " + DEMO, OTHER, OTHER]
    assert [e.seq for e in theirs if e.kind in EVERY_COUNTY] == [e.seq for e in versions]

    only_people = _all(kap12, demo_auditor, kinds=(DIRECTORY_CHANGED,))
    assert [e.seq for e in only_people] == [e.seq for e in people]


def test_the_countys_administrator_reads_it_too_and_no_one_else(kap12, demo):
    demo_auditor, _ = _two_counties(kap12, demo)
    assert [e.seq for e in _all(kap12, kap12.viewer("admin"))] == [e.seq for e in _all(kap12, demo_auditor)]
    for username in ("rektor", "skoleeier", "prosesseier", "ansatt"):
        assert system_page(kap12, kap12.viewer(username)) == Page([], None)


def test_the_latest_checkpoint_is_named_with_its_digest(kap12, demo, flow):
    assert latest_checkpoint(kap12) is None
    flow.report()
    written = kap12.write_checkpoint()
    found = latest_checkpoint(kap12)
    assert (found.seq, found.digest) == (written.seq, written.digest)
    assert all(e.kind != "checkpoint" for e in _all(kap12, kap12.viewer("revisor")))


def test_the_upgrade_fills_in_the_counties_of_earlier_directory_changes(kap12, demo):
    demo_auditor, other_auditor = _two_counties(kap12, demo)
    before = [e.seq for e in _all(kap12, other_auditor)]
    with kap12.db.writing() as session:  # as a database written by the release before
        session.execute(delete(SystemEventCounty))
    assert len(_all(kap12, other_auditor)) < len(before)
    upgrade_from(kap12, "0045_checkpoint_heads")
    assert [e.seq for e in _all(kap12, other_auditor)] == before
    assert DEMO in {e.subject for e in _all(kap12, demo_auditor)}


def test_an_event_whose_data_says_little_is_still_listed(kap12, demo):
    with kap12.db.writing() as session:  # as a release before this one could have written it
        history.append(session, history.SYSTEM_CHAIN, kind=DEPLOYED, at=kap12.clock.now(), actor="kap12", data={})
        written = history.append(session, history.SYSTEM_CHAIN, kind=DIRECTORY_CHANGED, at=kap12.clock.now(),
                                 actor="kap12", data={"people": ["not a change", {"username": "kari", "later": 1}]})
        session.add(SystemEventCounty(county_id=demo.county_id, seq=written.seq))
    [bare] = system_page(kap12, kap12.viewer("revisor"), kinds=(DEPLOYED,), limit=1).items
    assert (bare.subject, bare.data) == ("?", {})
    [odd] = system_page(kap12, kap12.viewer("revisor"), kinds=(DIRECTORY_CHANGED,)).items
    assert [p.describe() for p in odd.people] == ["kari (?): "]
