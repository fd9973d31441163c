"""The access policy's "work done" branch asks for a person's work outside the places their roles
reach (``access._work_done``) as ranges of an index of their rows: the rows inside are never
read. As a NOT IN, every row of theirs was read and dropped on every page — the school owner's
16,000 at 100,000 cases, a rektor's 2,000, more with every year. Asked of the planner itself, as
``test_bypassed_index`` does: on a handful of rows it would read the table."""
from __future__ import annotations

import pytest
from support.backends import only_postgresql
from support.plans import plan_of, statements_of

from engine import access


@only_postgresql
@pytest.mark.parametrize("person", ["rektor", "skoleeier"])
def test_a_leaders_work_outside_their_roles_is_found_by_index_ranges(flow, kap12, demo, person):
    b_case = flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")
    flow.do("rektor", b_case.id, "Motta melding")
    flow.do("rektor", b_case.id, "Varsle skoleeier straks")
    flow.do("skoleeier", b_case.id)
    viewer = demo.users[person]

    def ask() -> None:
        with kap12.db.reading() as session:
            assert session.scalars(access._work_done(viewer)).all() == []  # their role reaches the case

    [(statement, parameters)] = statements_of(kap12.db.engine, ask)
    plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off", "enable_bitmapscan = off")
    scans = [line for line in plan.splitlines() if "Scan" in line]
    assert scans and all("Index Only Scan using ix_case_work_" in line for line in scans), plan
    assert "Filter" not in plan, plan  # nothing read to be dropped: the conditions are the index's
    assert ("school_id <" if person == "rektor" else "county_id <") in plan, plan
