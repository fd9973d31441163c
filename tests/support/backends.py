"""Which database a test runs on. Most tests take the ``kap12`` fixture on both (``db_url``); a
test that asks PostgreSQL itself — its planner, its locks — takes it on PostgreSQL alone, a
throwaway database of its own that the fixture closes, as every other test's engine."""
from __future__ import annotations

import pytest

only_postgresql = pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                                          indirect=True)
