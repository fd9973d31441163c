"""A school leader's case list, newest first, is read in its order from the index of a school's
cases (``ix_cases_school_open``, migration 0034) and stops at the page's end: gathering the
school's open cases and sorting them took 2.1 ms at 100,000 cases (500 open), the index 0.3. It
needs the list's condition to be the role's alone when the person's own sets are empty (an
empty ``= ANY('{}')`` arm of the OR kept the planner from the index). Asked of the planner
itself, as ``test_bypassed_index`` does: on a handful of rows it would read the table."""
from __future__ import annotations

import pytest
from support.backends import only_postgresql
from support.plans import answered, plan_of


@only_postgresql
@pytest.mark.parametrize(("status", "index"), [("open", "ix_cases_school_open"), (None, "ix_cases_school_created")])
def test_rektors_cases_are_read_newest_first_from_the_schools_index(flow, kap12, demo, status, index):
    """«Under behandling» from the school's open cases; «Alle» and the API's list from the
    school's cases of every status (``ix_cases_school_created``, migration 0037), not from the
    county's, past every other school's."""
    reported = [flow.report().id for _ in range(3)]
    rektor = demo.users["rektor"]
    page, statements = answered(kap12.db.engine, lambda: kap12.case_page(kap12.with_reach(rektor), status))
    assert page is not None and [c.id for c in page.items] == reported[::-1]
    [(statement, parameters)] = [s for s in statements if "ORDER BY cases.created_at DESC" in s[0]]
    plan = plan_of(kap12.db.engine, statement, parameters,
                   "enable_seqscan = off", "enable_bitmapscan = off", "enable_sort = off")
    assert f"Index Scan Backward using {index} on cases" in plan, plan
    assert "Sort" not in plan, plan
