"""The case list's school filter: a school owner chooses among the county's schools, and beyond
the county gets the schools where they may see a case — found from their own roles and cases,
the same whether or not the page found their reach first."""
from __future__ import annotations

from dataclasses import replace

from engine import access
from engine.read import queries
from engine.store import directory
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
