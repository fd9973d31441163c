"""Folding the tallies (``CaseTally``, ``StatusTally``, ``ReportedTally``, ``MonthTally``): their
signed rows (one for each case made, closed or moved, each event counted, added by the
database's triggers) replaced by one row per group with its sum, so that counting stays a read
of a few rows however many cases a county makes. The sweepers do it when the rows have grown
(``fold_if_grown``); the sums are right at every moment, folded or not."""
from __future__ import annotations

from collections import Counter
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select

from engine.store.db import Database
from engine.store.models import CaseTally, MonthTally, ReportedTally, StatusTally

# Fold once the rows are this many, or twice as many as the last fold left.
FOLD_ABOVE = 1000
Tally = type[CaseTally] | type[StatusTally] | type[ReportedTally] | type[MonthTally]
TALLIES: tuple[Tally, ...] = (CaseTally, StatusTally, ReportedTally, MonthTally)


def fold(db: Database, tally: Tally = CaseTally) -> int:
    """Fold every row into its group's sum (a group whose count is back to nothing keeps no
    row); how many rows are left. The rows deleted are exactly those the same statement
    returns, so a row another writer adds meanwhile is summed here or left for the next fold,
    never lost; two sweepers folding at once each sum only what they deleted."""
    table = cast(Table, tally.__table__)
    group = [column.name for column in table.c if column.name not in ("id", "n")]
    with db.writing() as session:
        gone = session.execute(delete(table).returning(*(table.c[name] for name in group), table.c.n)).all()
        sums: Counter[tuple[Any, ...]] = Counter()
        for row in gone:
            sums[tuple(row[:-1])] += row[-1]
        kept = [{**dict(zip(group, values, strict=True)), "n": n} for values, n in sums.items() if n]
        if kept:
            session.execute(insert(table), kept)
    return len(kept)


def fold_if_grown(db: Database, left_last_time: int, tally: Tally = CaseTally) -> int:
    """Fold when the rows have grown past ``FOLD_ABOVE`` or twice what the last fold left (a
    sweeper keeps that number, a tally's each); how many rows there are to compare with next time."""
    limit = max(FOLD_ABOVE, 2 * left_last_time)
    with db.reading() as session:
        rows = session.scalar(select(func.count()).select_from(select(tally.id).limit(limit + 1).subquery()))
    return fold(db, tally) if (rows or 0) > limit else left_last_time
