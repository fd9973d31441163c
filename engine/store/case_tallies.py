"""What the case tallies say (``CaseTally``: signed rows the database adds as cases are made,
closed, moved or deleted): the number of cases in each group, summed from a few rows per group
instead of counted from every case ever made. The rows need no folding to be right — folding
(``engine/write/tally_folding.py``) only keeps them few."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from engine.store.models import CaseTally

# What a row counts by (the triggers of migration 0020 write these columns).
GROUP = ("county_id", "definition_id", "kind", "procedure", "status")


def counted(*columns: Any, where: tuple[ColumnElement[bool], ...] = ()) -> Select[Any]:
    """``columns`` and the number of cases with those values, a row for each group that has cases."""
    total = func.sum(CaseTally.n)
    return select(*columns, total).where(*where).group_by(*columns).having(total != 0)
