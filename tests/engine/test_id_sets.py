"""``id_sets.id_in_list``: the ids a caller found are written into the statement, on both
databases, however many there are. SQLite takes at most 32,766 parameters in a statement as
SQLite builds it by default (Debian's takes 250,000), and the daily notice of tasks past their
deadline asks for every overdue case of a county. ``id_sets.ranges_outside``: a NOT IN as the
ranges around its values, the same rows."""
from __future__ import annotations

import sqlite3

from sqlalchemy import Integer, literal, null, or_, select, union_all

from engine.store.id_sets import id_in_list, ranges_outside
from engine.store.models import Case


def test_many_ids_are_written_in_and_find_what_they_name(flow, kap12):
    cases = [flow.report().id for _ in range(2)]
    ids = [*range(cases[-1] + 1, cases[-1] + 40_001), cases[0]]  # 40,000 that name no case, and one that does
    with kap12.db.reading() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":  # as SQLite's own default, not this machine's build
            session.connection().connection.dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
        assert list(session.scalars(select(Case.id).where(id_in_list(Case.id, ids, dialect)))) == [cases[0]]
        assert list(session.scalars(select(Case.id).where(id_in_list(Case.id, [], dialect)))) == []


def test_the_ranges_outside_some_values_hold_for_every_other_value_and_not_for_null(kap12):
    numbers = union_all(*(select(literal(n, Integer).label("n")) for n in range(12)),
                        select(null().cast(Integer).label("n"))).subquery()
    with kap12.db.reading() as session:
        for values in ([5], [3, 4, 7], [0, 11], [2, 2, 9]):  # one; neighbours; at both ends; twice
            found = session.scalars(select(numbers.c.n).where(or_(*ranges_outside(numbers.c.n, values)))).all()
            assert sorted(found) == [n for n in range(12) if n not in values], values
