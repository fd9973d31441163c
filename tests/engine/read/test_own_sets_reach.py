"""A person's own set whose branch asks nothing of the case — the cases they reported, and their
tasks and grants when no role of theirs reaches anything — is its own ids (``access._reached_ids``):
each id is no longer looked up in the cases only to be found again. The benchmark's teacher, who
reported 2,500 cases, had every one of them looked up on every list of hers the API served (the
ids alone 4 ms at 100,000 cases, against 1.1 from her reports)."""
from __future__ import annotations

from support.backends import only_postgresql
from support.plans import answered, plan_of

from engine import access
from engine.read.case_list import case_summary_page


@only_postgresql
def test_a_reporters_own_sets_are_not_looked_up_in_the_cases(flow, kap12, demo):
    reported = flow.report()
    teacher = demo.users["ansatt"]

    def listed():  # the policy asked within the list (a page finds the reach first: ``with_reach``)
        with kap12.db.reading() as session:
            return case_summary_page(session, access.visible_parts(teacher, None))

    page, statements = answered(kap12.db.engine, listed)
    assert page is not None and [c.id for c in page.items] == [reported.id]
    [(statement, parameters)] = [s for s in statements if "FROM case_parties" in s[0]
                                 and "'reporter'" in s[0] and "ORDER BY" in s[0]]
    plan = plan_of(kap12.db.engine, statement, parameters)
    # Of the teacher's sets only the work done asks something of the case (that it is not in
    # B or C): the one look-up among them. Her tasks, grants and reports were each one more.
    assert plan.count("on cases reached_case") == 1, plan
