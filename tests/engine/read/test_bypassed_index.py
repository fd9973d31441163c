"""The school's leadership is bypassed in procedure C: every task list and read of theirs leaves
out the school's open C cases that no grant opens (``access._bypassed``). PostgreSQL found those
by ANDing the school's open cases with every C case the county ever had, from the index on
(county, procedure) without its county — 0.7 ms of a 1.0 ms task list at 100,000 cases, growing
with the county's history — until the index on (school, procedure, status) (migration 0027).
Asked of the planner itself, as ``test_task_choice_index`` does."""
from __future__ import annotations

import re

from support.backends import only_postgresql
from support.plans import answered, plan_of

from engine.read import queries


@only_postgresql
def test_the_leaderships_task_list_finds_the_bypassed_c_cases_by_school_and_procedure(flow, kap12, demo):
    flow.report()  # a task for rektor, in A
    bypassed = flow.report(krenker_type="ledelse", krenker_navn="Anne Avdelingsleder",
                           anklaget_bruker="avdelingsleder")
    rektor = demo.users["rektor"]
    page, statements = answered(kap12.db.engine, lambda: queries.task_page(kap12, rektor))
    assert page is not None and page.items and bypassed.id not in {row.case_id for row in page.items}
    [(statement, parameters)] = [s for s in statements if "FROM open_task_roles" in s[0]
                                 and "cases.procedure =" in s[0]]
    # A handful of cases fit the small indexes of the open cases' stage order and of their
    # counts by stage (/metrics), which the planner then reads and filters; a county has
    # thousands. Asked without them (the drops are rolled back): the plan must find the school's C cases by school, procedure and status —
    # by the index on all three, or by the index of the open cases' counts (migration 0029),
    # which holds the open cases only and begins with the school (at 100,000 cases the
    # planner takes it: 46 C cases read from the index alone, 0.03 ms).
    plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off",
                   before=lambda connection: connection.exec_driver_sql(
                       "DROP INDEX ix_cases_open_stage_order; DROP INDEX ix_cases_open_by_stage"))
    bypassed_scans = [line for line in plan.splitlines() if " on cases cases_" in line]
    assert len(bypassed_scans) >= 2, plan  # the assigned tasks' arm, and each role's
    by_all_three = re.findall(r"Index Cond: \(\(school_id = \d+\) AND \(\(procedure\)::text = 'C'::text\) "
                              r"AND \(\(status\)::text = 'open'::text\)\)", plan)
    by_the_open_counts = re.findall(r"using ix_cases_open_counts on cases cases_\d+ .*\n\s+Index Cond: "
                                    r"\(\(school_id = \d+\) AND \(procedure = 'C'::text\)\)", plan)
    assert len(by_all_three) + len(by_the_open_counts) == len(bypassed_scans), plan
    assert "ix_cases_county_procedure" not in plan, plan
