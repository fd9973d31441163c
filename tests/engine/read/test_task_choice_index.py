"""Mine oppgaver's procedure filter asks, for each procedure, whether the viewer has a task of it:
for a school owner, of the county's open tasks of their role. For a procedure they have none of,
PostgreSQL read every open task's role rows to be sure (30,000 at 100,000 cases) — until the
index on (role, county, procedure) and the statistics of the three together (migration 0022).
Asked of the planner itself, as ``test_figure_indexes`` does."""
from __future__ import annotations

from sqlalchemy import select
from support.backends import only_postgresql
from support.plans import answered, plan_of

from engine.read import queries
from engine.store.models import OpenTaskRole

COPIES = 2000


@only_postgresql
def test_a_school_owners_procedure_filter_reads_the_procedure_index(flow, kap12, demo):
    # A case in procedure B gives the school owner a task once rektor tells them (none in A).
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.do("rektor", case.id, "Motta melding")
    flow.do("rektor", case.id, "Varsle skoleeier straks")
    owner = demo.users["skoleeier"]
    choices, statements = answered(kap12.db.engine, lambda: queries.task_choices(kap12, owner))
    assert choices is not None and "B" in choices.procedures and "A" not in choices.procedures
    [(statement, parameters)] = [s for s in statements if "open_task_roles.procedure =" in s[0]]
    owner_task = _owner_task(kap12, case.id)
    assert owner_task is not None
    plan = _plan_among_many_tasks(kap12.db.engine, statement, parameters, owner_task=owner_task)
    # Every probe of the owner's role rows, the procedures they have no task in among them.
    probes = plan.count(" on open_task_roles")
    assert probes >= len(queries.PROCEDURE_LABELS), plan
    assert plan.count("using ix_open_task_roles_procedure on open_task_roles") == probes, plan
    # Without the statistics the planner guesses a role's rows spread evenly over the
    # procedures, and reads the table for the first of a procedure that has none.
    with kap12.db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT stxkind FROM pg_statistic_ext WHERE stxname = "
                                          "'open_task_roles_role_procedure'").scalar() == ["m"]


def _owner_task(kap12, case_id: int) -> str | None:
    with kap12.db.reading() as session:
        return session.scalar(select(OpenTaskRole.task_id).where(OpenTaskRole.case_id == case_id,
                                                                 OpenTaskRole.role == "skoleeier"))


def _plan_among_many_tasks(engine, statement: str, parameters: dict, owner_task: str) -> str:
    """The plan with the owner's one task copied into a county's worth of them (all in B; rolled
    back). With a handful of rows every index of the owner's role rows looks as cheap as another,
    and which one the planner takes says nothing; with a county's, reading the county's rows of
    the role for a procedure they have none of costs what it would in production."""
    def copy_task(connection) -> None:
        for table, key in (("open_tasks", "id"), ("open_task_roles", "task_id")):
            # Each row as it is, under a new task id.
            connection.exec_driver_sql(
                f"INSERT INTO {table} SELECT (jsonb_populate_record(NULL::{table}, to_jsonb(t) || "
                f"jsonb_build_object('{key}', 'copy-' || g))).* FROM {table} t, generate_series(1, {COPIES}) g "
                f"WHERE t.{key} = %(task)s", {"task": owner_task})
        connection.exec_driver_sql("ANALYZE open_tasks, open_task_roles")

    return plan_of(engine, statement, parameters, "enable_seqscan = off", before=copy_task)
