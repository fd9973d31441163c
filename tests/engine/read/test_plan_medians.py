"""The median days to a first plan: taken by PostgreSQL (``percentile_cont``, every month and the
year in one statement) or, on SQLite, here; both must give what ``statistics.median`` gives, with
each plan in its month as Norway's clock has it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, literal, select, union_all

from engine.read import plan_medians

UTC = timezone.utc
REPORTED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
PLANS = [
    # (first plan, report): January, two plans (an even count: the mean of the middle two)
    (REPORTED + timedelta(days=2), REPORTED),
    (REPORTED + timedelta(days=5, hours=12), REPORTED),
    # 23:30 UTC on 31 January is 00:30 on 1 February in Oslo: February's
    (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), datetime(2026, 1, 30, 23, 30, tzinfo=UTC)),
    (datetime(2026, 2, 20, 12, 0, tzinfo=UTC), datetime(2026, 2, 3, 12, 0, tzinfo=UTC)),
    (datetime(2026, 2, 21, 12, 0, tzinfo=UTC), datetime(2026, 2, 20, 12, 0, tzinfo=UTC)),
    # across the change to summer time (29 March), and a plan dated before its report: none
    (datetime(2026, 3, 30, 6, 0, tzinfo=UTC), datetime(2026, 3, 28, 6, 0, tzinfo=UTC)),
    (datetime(2026, 3, 1, 6, 0, tzinfo=UTC), datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
]
EXPECTED = {(2026, 1): (3.75, 2), (2026, 2): (1.0, 3), (2026, 3): (1.0, 2), None: (2.0, 7)}


def _rounded(found):
    return {key: (round(median, 9), plans) for key, (median, plans) in found.items()}


def _first_plans():
    rows = [select(literal(at, DateTime(timezone=True)).label("at"),
                   literal(created, DateTime(timezone=True)).label("created_at")) for at, created in PLANS]
    return union_all(*rows).subquery()


def test_the_median_here_is_statistics_median_in_norways_months():
    assert _rounded(plan_medians._medians_here(PLANS)) == EXPECTED


@pytest.mark.postgres
def test_postgresql_takes_the_same_medians_in_one_statement(pg_server, make_kap12, tmp_path, clock):
    kap12 = make_kap12(pg_server.create_database("plan_medians"), tmp_path, clock)
    try:
        with kap12.db.reading() as session:
            found = plan_medians._medians_in_sql(session, _first_plans())
        assert _rounded(found) == EXPECTED
    finally:
        kap12.close()
