"""The code's own values in SQL (``engine.store.code_values``): written into the statement, so
that the plan PostgreSQL keeps for a prepared statement knows them; a person's input never."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from support.plans import statements_of

from engine.read import overview, paging, queries
from engine.read.case_list import STATUSES
from engine.store import events
from engine.store.code_values import chosen, code, codes
from engine.store.models import Case
from processes.measures import PLAN_FORM
from processes.roles import PROCEDURE_LABELS, ROLES
from processes.stages import STAGE_LABELS

# What the code says of a case in its statements: statuses, procedures, roles, a party's
# relation, the kind of case, its stages, the kinds of its history's events, the plan's form.
CODE = {*STATUSES, *PROCEDURE_LABELS, *ROLES, "accused", "reporter", "sak", "arshjul", *STAGE_LABELS, PLAN_FORM,
        *(value for name, value in vars(events).items() if name.isupper() and isinstance(value, str))}


def _sql(statement, dialect) -> str:
    return str(statement.compile(dialect=dialect))


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()], ids=["postgres", "sqlite"])
def test_a_code_value_is_written_into_the_statement(dialect):
    statement = select(Case.id).where(Case.status == code("open"), Case.procedure.in_(codes({"C", "B"})))
    sql = _sql(statement, dialect)
    assert "cases.status = 'open'" in sql
    assert "cases.procedure IN ('B', 'C')" in sql
    assert not statement.compile(dialect=dialect).params


@pytest.mark.parametrize("value", ["", "open'", "x' OR '1'='1", "a b", "Å;", "x" * 41, "open\n"])
def test_only_the_codes_shape_is_written_into_a_statement(value):
    """Anything else is refused, so that no text from outside can become part of the SQL."""
    with pytest.raises(ValueError):
        code(value)


def test_a_persons_choice_is_written_in_only_when_it_is_one_of_the_codes_values():
    assert _sql(select(Case.id).where(Case.status == chosen("closed", STATUSES)), postgresql.dialect()).endswith(
        "cases.status = 'closed'")
    chose_nonsense = select(Case.id).where(Case.procedure == chosen("x' OR '1'='1", PROCEDURE_LABELS))
    compiled = chose_nonsense.compile(dialect=postgresql.dialect())
    assert "'1'" not in str(compiled) and list(compiled.params.values()) == ["x' OR '1'='1"]


def test_statements_that_differ_only_in_a_code_value_are_not_one_in_the_cache(kap12, flow):
    """SQLAlchemy compiles a statement once per shape and sends each run's values beside it; a
    literal is part of the shape, so 'open' and 'closed' are two statements, each answering its own."""
    flow.report()
    with kap12.db.reading() as session:
        opened = session.scalars(select(Case.id).where(Case.status == code("open"))).all()
        closed = session.scalars(select(Case.id).where(Case.status == code("closed"))).all()
    assert len(opened) == 1 and closed == []


def test_the_lists_send_none_of_the_codes_values_as_parameters(kap12, demo, flow):
    """Rektor's task list and its choices, the case list and its counts: a status, relation,
    procedure, role, kind of case or page size sent as a parameter left PostgreSQL's kept plan
    guessing at it — at 100,000 cases it planned the task list's statements anew on every page
    (1.7 ms of planning for 0.3 ms of work in one of them). What is left as parameters are ids,
    times and the like, which a generic plan may take as any."""
    flow.report()
    rektor = demo.users["rektor"]
    calls = {
        "task page": lambda: queries.task_page(kap12, rektor),
        "task page of procedure A": lambda: queries.task_page(kap12, rektor, procedure="A"),
        "task choices": lambda: queries.task_choices(kap12, rektor),
        "open cases": lambda: kap12.case_page(rektor, "open"),
        "all cases of procedure B": lambda: kap12.case_page(rektor, procedure="B"),
        "case counts": lambda: kap12.case_status_counts(rektor),
        "weekly overview": lambda: overview.weekly_overview(kap12, rektor),
        "weekly overview of one stage": lambda: overview.weekly_overview(kap12, rektor, stage="meldt"),
        "weekly overview's export": lambda: overview.weekly_overview(kap12, rektor, everything=True),
        "the school owner's overview": lambda: overview.weekly_overview(kap12, demo.users["skoleeier"]),
    }
    for name, call in calls.items():
        sent = statements_of(kap12.db.engine, call)
        assert sent, name
        # By name on PostgreSQL, by position on SQLite (where a time is sent as text too).
        values = [v for _, parameters in sent for v in (parameters.values() if isinstance(parameters, dict) else parameters)]
        assert [v for v in values if isinstance(v, str) and v in CODE] == [], name
        # Nor a page's size: a LIMIT sent as a parameter is taken by the generic plan as a tenth
        # of the rows, and a school owner's task list then read every open task in the county.
        assert [s for s, _ in sent if re.search(r"LIMIT (%\(|\?)", s)] == [], name


def test_the_page_sizes_kap12_asks_for_are_numbers_and_a_clients_own_is_a_parameter(kap12, demo, flow):
    """A size a client chooses (the API takes 1 to 500) is sent as a parameter: as a number
    written in, each would be a statement of its own, compiled and prepared apart."""
    from webui.api import schemas

    assert {1, paging.DEFAULT_LIMIT, overview.PER_STAGE, overview.STAGE_PAGE,
            schemas.kept(schemas.TaskListQuery).fields["limit"].load_default} <= paging.SIZES
    flow.report()
    rektor = demo.users["rektor"]
    for size, written in ((paging.DEFAULT_LIMIT, True), (1, True), (37, False)):
        [page] = [s for s, _ in statements_of(kap12.db.engine, lambda size=size: queries.task_page(kap12, rektor, limit=size))
                  if "FROM open_tasks JOIN" in s]
        assert (f"LIMIT {size + 1}" in page) is written, (size, page[-200:])
