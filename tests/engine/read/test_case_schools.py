"""The case list's school filter: a school owner chooses among the county's schools, and beyond
the county gets the schools where they may see a case — found from their own roles and cases,
the same whether or not the page found their reach first."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from support.backends import only_postgresql
from support.plans import generic_plan_of, statements_of

from engine import access
from engine.read import queries
from engine.store import directory
from engine.store.models import School
from engine.write.demo import report_data


def _schools(kap12, viewer) -> tuple[set[str], set[str]]:
    """The filter's schools asked plainly, and as a page that found the viewer's reach first."""
    with kap12.db.reading() as session:
        found = access.with_reach(session, viewer)
    return ({name for _, name in queries.case_schools(kap12, viewer)},
            {name for _, name in queries.case_schools(kap12, found)})


def test_the_owners_school_filter_is_the_county_and_where_else_they_see_a_case(flow, kap12, demo):
    with kap12.db.writing() as session:
        other = directory.get_or_create_school(session, directory.get_or_create_county(session, "Annet fylke"),
                                               "Fjellet skole")
        teacher = directory.user_by_username(session, "ansatt3")
        directory.grant(session, teacher, "ansatt", school=other)
        other_id = other.id
    teacher = replace(demo.users["ansatt3"], grants=demo.users["ansatt3"].grants + (("ansatt", other_id, None),))
    kap12.report(teacher, other_id, report_data())
    flow.report()
    owner = demo.users["skoleeier"]
    county_schools = {name for name in (flow.NORDLI, "Sørbakken videregående skole")}
    plain, found = _schools(kap12, owner)
    assert plain == found and county_schools <= found and "Fjellet skole" not in found
    # The owner who is also rektor at Fjellet (another county) may see its A case: listed.
    also_rektor = replace(owner, grants=owner.grants + (("rektor", other_id, None),))
    plain, found = _schools(kap12, also_rektor)
    assert plain == found and "Fjellet skole" in found
    # The reporter sees her own report there too, either way.
    plain, found = _schools(kap12, teacher)
    assert plain == found and "Fjellet skole" in found


def test_a_reporter_is_offered_the_schools_of_the_reports_they_see(flow, kap12, demo):
    """A school where the teacher has no role is in her filter because she reported a case there
    (summed from her tally of reports), until she is named the accused in it."""
    with kap12.db.writing() as session:
        other = directory.get_or_create_school(session, directory.get_or_create_county(session, "Annet fylke"),
                                               "Fjellet skole")
        directory.grant(session, directory.user_by_username(session, "ansatt3"), "ansatt", school=other)
        directory.grant(session, directory.user_by_username(session, "rektor2"), "rektor", school=other)
        other_id = other.id
        own_school = session.scalars(select(School.id).where(School.name == "Sørbakken videregående skole")).one()
    kap12.report(demo.users["ansatt3"], own_school, report_data())
    there = (("ansatt", other_id, None),)
    case = kap12.report(replace(demo.users["ansatt3"], grants=demo.users["ansatt3"].grants + there), other_id,
                        report_data())
    teacher = demo.users["ansatt3"]  # her role at Fjellet aside: she sees the case as its reporter
    plain, found = _schools(kap12, teacher)
    assert plain == found == {"Sørbakken videregående skole", "Fjellet skole"}
    rektor = replace(demo.users["rektor2"], grants=demo.users["rektor2"].grants + (("rektor", other_id, None),))
    kap12.reclassify(rektor, case.id, "ansatt", "Det gjaldt læreren selv.", accused="ansatt3")
    plain, found = _schools(kap12, teacher)
    assert plain == found == {"Sørbakken videregående skole"}


@only_postgresql
def test_a_persons_own_cases_are_planned_as_the_ids_they_are(flow, kap12, demo):
    """The ids a page found first (``with_reach``) are written into the statement, not sent as one
    array parameter: in the plan the server keeps for a prepared statement, an array parameter's
    length is unknown, and a teacher's 2,500 cases at 100,000 were planned as a few, each case
    row compared with them one by one (175 ms for the school filter). Here the kept plan has the
    ids themselves, as the server had them when it planned. The cases she reported are not among
    them: their schools come from her tally of them."""
    until = (kap12.clock.now() + timedelta(days=30)).date().isoformat()
    for _ in range(3):
        kap12.grant_access(demo.users["rektor"], flow.report().id, "ansatt2", "Kontaktlærer", until)
    flow.report(user="ansatt2")
    with kap12.db.reading() as session:
        found = access.with_reach(session, demo.users["ansatt2"])
    assert found.reach is not None and len(found.reach.full) == 3

    def ask() -> None:
        assert [name for _, name in queries.case_schools(kap12, found)] == ["Nordli videregående skole"]

    statements = statements_of(kap12.db.engine, ask)
    [(statement, parameters)] = [s for s in statements if "FROM schools" in s[0]]
    plan = generic_plan_of(kap12.db.engine, statement, parameters)
    ids = ",".join(str(i) for i in sorted(found.reach.full))
    assert "{" + ids + "}" in plan, plan  # the ids, not an unknown "$n"
    assert not re.search(r"= ANY \(\$\d+\)", plan), plan
    # Once: her roles reach no case themselves, so her school is not asked again for them.
    assert statement.count("{" + ids + "}") == 1, statement
    assert "reported_tallies" in statement
