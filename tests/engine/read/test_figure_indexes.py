"""The year figures' queries read the partial indexes made for them (``counted_events``):
PostgreSQL uses a partial index only when the query's condition contains the index's own, so a
change to one without the other would leave an index kept up on every step and never read — and
a county's Ukeoversikt reading the history row by row again. Asked of the planner itself."""
from __future__ import annotations

import re
from dataclasses import replace

from support.backends import only_postgresql
from support.plans import plan_of, statements_of

from engine.read import overview


@only_postgresql
def test_the_year_figures_read_their_partial_indexes(flow, kap12, demo):
    flow.report(krenkelse_art=["mobbing"])
    # The deadlines are summed from the month tallies, and counted from the history only for
    # the cases the tallies count apart (``year_figures``): here the C case of a rektor who
    # also audits the county, whose tallies then reach the case rektor is accused in.
    flow.report(krenker_type="ledelse", anklaget_bruker="rektor")
    rektor = demo.users["rektor"]
    auditing = replace(rektor, grants=(*rektor.grants, ("revisor", None, demo.county_id)))
    statements = statements_of(kap12.db.engine, lambda: overview.weekly_overview(kap12, auditing))
    deadlines = [s for s in statements if s[0].startswith("SELECT CASE WHEN (history_events.at")]
    plans = [s for s in statements if "percentile_cont" in s[0]]  # the first plans, inside the medians
    assert len(deadlines) == 1 and len(plans) == 1
    for (statement, parameters), index in ((deadlines[0], "ix_history_events_deadlines"),
                                           (plans[0], "ix_history_events_plans")):
        # Asked to use an index, the planner picks the partial one only if the query's
        # condition proves the index's.
        plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off")
        # The counted events themselves (``history_events`` unaliased), not only the
        # "no plan before" test inside, which reads the same index.
        assert re.search(rf"using {index} on history_events\s+\(", plan), plan


@only_postgresql
def test_the_cases_closed_this_week_are_found_by_their_index(flow, kap12, demo):
    """Not among every closed case of the school's or the county's (``ix_cases_closed``): both
    the week's count and its page."""
    flow.report()
    for viewer in ("rektor", "skoleeier"):
        statements = statements_of(kap12.db.engine,
                                   lambda viewer=viewer: overview.weekly_overview(kap12, demo.users[viewer]))
        closed = [s for s in statements if "cases.closed_at >=" in s[0]]
        assert len(closed) == 2 and any("count(" in statement for statement, _ in closed)
        for statement, parameters in closed:
            # A handful of closed cases fit the indexes of a school's cases (by procedure and
            # status; in the list's order), which the planner then reads and filters, as it may;
            # a school has thousands, and at 100,000 cases the planner takes ``ix_cases_closed``
            # (3 rows read for rektor's week, with both there). Asked without them (the drops
            # are rolled back).
            plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off",
                           before=lambda c: c.exec_driver_sql(
                               "DROP INDEX ix_cases_school_procedure; DROP INDEX ix_cases_school_created"))
            assert "ix_cases_closed" in plan, plan


@only_postgresql
def test_a_stage_page_can_read_its_cases_in_the_pages_order(flow, kap12, demo):
    """The stage pages' order (``overview.STAGE_ORDER``) is the open-stage index's own
    (``ix_cases_open_stage_order``): asked not to sort, the planner walks the index — which it can
    only if the two list the same keys in the same directions."""
    flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")  # a B case: the school owner's
    owner = demo.users["skoleeier"]
    statements = statements_of(kap12.db.engine, lambda: overview.weekly_overview(kap12, owner))
    pages = [s for s in statements if "ORDER BY cases.deadline_missed DESC" in s[0]]
    assert pages
    for statement, parameters in pages:
        plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off", "enable_sort = off",
                       "enable_bitmapscan = off")
        assert "ix_cases_open_stage_order" in plan and "Sort" not in plan, plan
