"""One installation for several counties: a county's process owner, administrator and auditor act
within their own counties. The diagrams and forms are the installation's, so only one who holds
the role in every county changes them; the process list counts the viewer's counties' cases; a
case's auditor tools are its county's auditors'; a school's yearly cycle is its county's
administrator's to start."""
from __future__ import annotations

import copy
import json

import pytest

from engine.config import PROJECT_ROOT
from engine.errors import Denied, NotFound
from engine.store import directory
from engine.store.models import County, User
from engine.write import migration
from engine.write.demo import complete_next
from tests.support.counties import person_of_another_county
from tests.support.diagrams import prosedyre_a

NORDLI = "Nordli videregående skole"


def _relabelled_form() -> dict:
    declaration = json.loads((PROJECT_ROOT / "processes" / "forms" / "motta_melding.json").read_text())
    changed = copy.deepcopy(declaration)
    changed["fields"][0]["label"] = "Endret av et annet fylke"
    return changed


def _in_both_counties(kap12, username: str, role: str):
    """The demo person of ``username`` given ``role`` in the other county too."""
    with kap12.db.writing() as session:
        other = session.query(County).filter_by(name="Et annet fylke").one()
        directory.grant(session, session.query(User).filter_by(username=username).one(), role, county=other)
    return kap12.viewer(username)


def test_only_one_who_holds_the_role_in_every_county_changes_the_diagrams_and_forms(kap12, demo):
    stranger = person_of_another_county(kap12, "prosesseier")
    owner = demo.users["prosesseier"]  # this county's: now one of two
    for who in (stranger, owner):
        with pytest.raises(Denied, match="alle fylkene"):
            kap12.deploy([("prosedyre_a.bpmn", prosedyre_a(new_task=True))], actor=who, comment="test")
        with pytest.raises(Denied, match="alle fylkene"):
            kap12.publish_form(who, _relabelled_form(), "Endret")
    with pytest.raises(Denied, match="alle fylkene"):
        kap12.withdraw_version(person_of_another_county(kap12, "administrator", "admin_b"), "kap12_sak", 1, "Feil")
    assert [r.version for r in migration.versions_with_cases(kap12, owner)["prosedyre_a"]] == [1]
    both = _in_both_counties(kap12, "prosesseier", "prosesseier")
    results = kap12.deploy([("prosedyre_a.bpmn", prosedyre_a(new_task=True))], actor=both, comment="For alle")
    assert any(r.created for r in results)


def test_the_process_list_counts_only_the_viewers_counties_cases(flow, kap12, demo):
    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    stranger = person_of_another_county(kap12, "prosesseier")
    ours = {pid: rows[0].open_cases for pid, rows in migration.versions_with_cases(kap12, demo.users["prosesseier"]).items()}
    theirs = {pid: rows[0].open_cases for pid, rows in migration.versions_with_cases(kap12, stranger).items()}
    assert (ours["kap12_sak"], ours["prosedyre_a"], ours["prosedyre_b"]) == (2, 1, 1)
    assert set(theirs.values()) == {0}  # how many of another county's cases are against staff: none of theirs


def test_an_auditor_of_another_county_gets_no_auditors_view_of_a_case_worked_on_here(flow, kap12, demo):
    """Avdelingsleder worked the case, then became an auditor in another county: she reads it
    as her work allows, but not who read it, not its accused, and no export."""
    from engine import access
    from engine.audit import export

    case = flow.report()
    complete_next(kap12, demo.users["avdelingsleder"], case.id)
    with kap12.db.writing() as session:
        person = session.query(User).filter_by(username="avdelingsleder").one()
        for grant in list(person.grants):
            session.delete(grant)
    person_of_another_county(kap12, "revisor", "tilfeldig")  # makes the county
    moved = _in_both_counties(kap12, "avdelingsleder", "revisor")
    row, level = kap12.case(moved, case.id)
    assert level == access.FULL and moved.is_auditor  # by the work she did, as an auditor elsewhere
    assert not access.audits(moved, row) and not access.sees_read_log(moved, row)
    with pytest.raises((Denied, NotFound)):
        export.build_export(kap12, moved, case.id)
    assert access.audits(demo.users["revisor"], row)


def test_a_schools_yearly_cycle_is_started_by_its_countys_administrator(kap12, demo):
    school = demo.schools[NORDLI]
    stranger = person_of_another_county(kap12, "administrator")
    with pytest.raises(Denied):
        kap12.start_prevention_cycle(stranger, school, 2026)
    assert kap12.start_prevention_cycle(demo.users["admin"], school, 2026).number.startswith("ÅR-2026-")
