"""Mine oppgaver is read one way in at a time (assigned; each role and place) from the open tasks'
role rows, which carry the task's place and order: the list is every workable task once, in
order, whatever the ways in share; its filter choices are the schools and procedures that have
a task; role rows an older release wrote without their place are filled by the next sweep; an
upgraded database has them filled; and on PostgreSQL each arm reads its index in the list's
order instead of sorting all of a viewer's tasks."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import or_, select, update
from support.backends import only_postgresql
from support.migrations import upgrade_from
from support.plans import generic_plan_of, plan_of, statements_of

from engine import access
from engine.read import queries
from engine.store.models import Case, OpenTask, OpenTaskRole
from engine.store.task_order import NEVER_DUE
from processes.roles import OWNER_ROLE


def _all_pages(kap12, viewer, **filters) -> list:
    rows, cursor = [], None
    while True:
        page = queries.task_page(kap12, viewer, cursor=cursor, limit=2, **filters)
        rows += page.items
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def _order(row) -> tuple:
    return (row.task.due_at or NEVER_DUE, row.task.opened_at, row.task.id)


def _role_rows(kap12) -> list[tuple]:
    with kap12.db.reading() as session:
        return sorted(tuple(r) for r in session.execute(select(
            OpenTaskRole.task_id, OpenTaskRole.role, OpenTaskRole.case_id, OpenTaskRole.school_id,
            OpenTaskRole.county_id, OpenTaskRole.procedure, OpenTaskRole.due_order, OpenTaskRole.opened_at)))


def test_the_list_is_every_workable_task_once_in_order_across_ways_in(flow, kap12, demo, clock):
    rektor = demo.users["rektor"]
    cases = []
    for _ in range(5):
        clock.advance(timedelta(minutes=11))
        cases.append(flow.report().id)
    claimed = next(t for t in kap12.tasks_for(rektor) if t.case_id == cases[2])
    kap12.claim(rektor, claimed.id)  # now in the assigned arm, not the role arms
    nordli = demo.schools[flow.NORDLI]
    # Two roles at the same school whose arms both hold the school leadership's tasks.
    both = replace(rektor, grants=rektor.grants + (("avdelingsleder", nordli, None),))
    rows = _all_pages(kap12, both)
    ids = [r.task.id for r in rows]
    assert len(ids) == len(set(ids)), "a task open to two of the viewer's roles is listed once"
    assert set(ids) == {t.id for t in kap12.tasks_for(both)} and claimed.id in ids
    assert [_order(r) for r in rows] == sorted(_order(r) for r in rows)
    assert any(r.task.due_at is None for r in rows) or all(r.task.due_at for r in rows)


def test_filter_choices_are_what_has_a_task_and_the_accused_sees_none_of_it(flow, kap12, demo):
    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")  # B: rektor's
    nordli = demo.schools[flow.NORDLI]
    choices = queries.task_choices(kap12, demo.users["rektor"])
    assert choices.has_tasks and choices.schools == [(nordli, flow.NORDLI)]
    assert choices.procedures == ["A", "B"]
    only_b = _all_pages(kap12, demo.users["rektor"], procedure="B")
    assert only_b and {r.procedure for r in only_b} == {"B"}
    assert _all_pages(kap12, demo.users["rektor"], school_id=nordli + 1000) == []
    # The department head does A, never B; the accused teacher has no task and no choice at all.
    assert queries.task_choices(kap12, demo.users["avdelingsleder"]).procedures == ["A"]
    accused = queries.task_choices(kap12, demo.users["ansatt2"])
    assert (accused.has_tasks, accused.schools, accused.procedures) == (False, [], [])


def test_role_rows_an_older_release_wrote_are_filled_by_the_next_sweep(flow, kap12, demo):
    case = flow.report()
    rektor = demo.users["rektor"]
    listed = {r.task.id for r in _all_pages(kap12, rektor)}
    written = _role_rows(kap12)
    with kap12.db.writing() as session:  # as the release before writes them: task and role only
        session.execute(update(OpenTaskRole).values(case_id=None, school_id=None, county_id=None, procedure=None,
                                                    due_order=None, opened_at=None))
    assert not any(r.case_id == case.id for r in _all_pages(kap12, rektor))
    kap12.sweep_timers()
    assert _role_rows(kap12) == written
    assert {r.task.id for r in _all_pages(kap12, rektor)} == listed
    # A role the old release added to a task whose deadline it moved: the new row has no place,
    # its sibling the old deadline. The sweep writes both again, so the task is listed once.
    with kap12.db.writing() as session:
        task_id, role = session.execute(select(OpenTaskRole.task_id, OpenTaskRole.role)
                                        .where(OpenTaskRole.case_id == case.id)).first()
        session.execute(update(OpenTaskRole).where(OpenTaskRole.task_id == task_id)
                        .values(due_order=NEVER_DUE - timedelta(days=1)))
        session.execute(update(OpenTaskRole).where(OpenTaskRole.task_id == task_id, OpenTaskRole.role == role)
                        .values(county_id=None))
    kap12.sweep_timers()
    assert _role_rows(kap12) == written


def test_an_upgraded_database_has_its_role_rows_placed_and_ordered(flow, kap12, demo):
    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    written = _role_rows(kap12)
    assert written and all(None not in row for row in written)
    upgrade_from(kap12, "0017_report_answers")
    assert _role_rows(kap12) == written


def test_a_step_moves_a_tasks_role_rows_with_its_case(flow, kap12, demo):
    # Reclassified to B, the case's open tasks (and so their role rows) are the new procedure's.
    case = flow.report()
    kap12.reclassify(demo.users["rektor"], case.id, "ansatt", "Det var en lærer.", accused="ansatt2")
    with kap12.db.reading() as session:
        procedure = session.scalar(select(Case.procedure).where(Case.id == case.id))
        rows = session.execute(select(OpenTaskRole.procedure, OpenTask.due_at, OpenTaskRole.due_order)
                               .join(OpenTask, OpenTask.id == OpenTaskRole.task_id)
                               .where(OpenTaskRole.case_id == case.id)).all()
    assert procedure == "B" and rows
    assert all(p == "B" and order == (due or NEVER_DUE) for p, due, order in rows)


@only_postgresql
def test_each_way_in_reads_its_role_index_in_the_lists_order(flow, kap12, demo):
    flow.report()
    statements = statements_of(kap12.db.engine, lambda: queries.task_page(kap12, demo.users["rektor"]))
    statement, parameters = next(s for s in statements if "open_task_roles.due_order" in s[0])
    # Asked not to read the table or sort, the planner can give the arms' order only from
    # the role index; and with each row's case in it (migration 0035), it asks whether the
    # person may work in that case from the index alone. Without, at 100,000 cases it
    # gathered all 629 rows of rektor's role from the table and sorted them for a page.
    plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off", "enable_sort = off",
                   "enable_bitmapscan = off")
    assert re.search(r"Index Only Scan using ix_open_task_roles_school on open_task_roles", plan), plan
    assert "Sort Key: open_task_roles.due_order" not in plan, plan  # read in order, not sorted
    # The reach of rektor's tasks asks the same rows whether her roles reach their procedure
    # anyway (the case's procedure is in the index too). Vacuumed, as autovacuum keeps a
    # county's tables (before, no page is known to be all visible, and reading the index
    # alone is not cheaper); and asked without the county's index (the drop is rolled back),
    # which on a handful of rows costs the planner the same (at 100,000 cases it reads the
    # school's, from the index alone).
    with kap12.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE open_task_roles")
    with kap12.db.reading() as session:
        reach = statements_of(kap12.db.engine, lambda: access.with_reach(session, demo.users["rektor"]))
    statement, parameters = next(s for s in reach if "open_task_roles.procedure" in s[0])
    plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off", "enable_bitmapscan = off",
                   before=lambda c: c.exec_driver_sql("DROP INDEX ix_open_task_roles_county"))
    role_scans = [line for line in plan.splitlines() if " on open_task_roles" in line]
    assert len(role_scans) >= 2, plan  # rektor's role and the staff's, at the school
    assert all("Index Only Scan using ix_open_task_roles_school on" in scan for scan in role_scans), plan


@only_postgresql
def test_a_task_page_looks_its_task_up_in_each_way_in_even_prepared(flow, kap12, demo):
    """Opening a task asks whether the viewer may do it: each way in is cut to the task before
    anything else. As all the viewer's workable tasks, and then a look for the one among them,
    each run's own plan was good, but the plan PostgreSQL keeps once psycopg prepares the
    statement (after five runs on a connection) gathered every task open to rektor's role at
    the school: 10 ms a task page under load, against 1."""
    flow.report()
    rektor = demo.users["rektor"]
    task_id = queries.task_page(kap12, rektor).items[0].task.id
    statements = statements_of(kap12.db.engine, lambda: queries.task_for(kap12, rektor, task_id))
    [(statement, parameters)] = [s for s in statements if "FROM open_task_roles" in s[0] and "task_id" in s[1]]
    plan = generic_plan_of(kap12.db.engine, statement, parameters)
    role_scans = plan.count(" on open_task_roles")
    assert role_scans >= 2, plan  # rektor's role and the staff's, at the school
    assert len(re.findall(r"\(task_id\)::text = \(\$\d+\)::text", plan)) == role_scans, plan
    # Nothing gathered before the task is found: the one list found first is of the few cases
    # the viewer is accused in (``access.not_accused``).
    found_first = re.findall(r"InitPlan \d+ \(returns \$\d+\)\n\s*->  ([^\n]*)\n\s*([^\n]*)", plan)
    assert all(" on case_parties" in scan and "'accused'" in condition for scan, condition in found_first), plan


def test_the_cases_reached_through_tasks_leave_out_only_those_a_role_reaches_anyway(flow, kap12, demo):
    """A person's cases reached through their tasks (``access._task_ids``) leave out, by the role
    rows' own place and procedure, those a role of theirs reaches anyway: the same cases, checked
    against each case's own columns — after a reclassification too, whose step writes the rows again."""
    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.report(krenker_type="ledelse", anklaget_bruker="avdelingsleder")
    moved = flow.report()
    kap12.reclassify(demo.users["rektor"], moved.id, "ansatt", "Det var en lærer.", accused="ansatt2")
    left_out_by_someone = False
    with kap12.db.reading() as session:
        for viewer in demo.users.values():
            every = set(session.scalars(access._open_to(viewer, lambda arm: arm.case_id, skip_role=OWNER_ROLE)))
            kept = set(session.scalars(access._task_ids(viewer)))
            roles = access._role_conditions(viewer)
            by_role = set(session.scalars(select(Case.id).where(
                Case.id.in_(every), or_(*(role(access.case_dims(Case)) for role in roles))))) if roles else set()
            assert kept == every - by_role, viewer.username
            left_out_by_someone |= bool(by_role)
    assert left_out_by_someone  # rektor's role rows of the school's A and B cases


def test_a_task_someone_has_taken_leaves_the_others_lists_and_reach_and_comes_back(flow, kap12, demo):
    """A role's tasks are the ones nobody has taken: taken by rektor, the department head's list,
    filter and the cases her tasks reach lose it; put back, it is hers to take again."""
    case = flow.report()
    rektor, head = demo.users["rektor"], demo.users["avdelingsleder"]
    task = next(t for t in kap12.tasks_for(head) if t.case_id == case.id)

    def heads() -> tuple[set[str], bool, bool]:
        with kap12.db.reading() as session:
            # Every case her role's tasks lead to (``_task_ids`` leaves out those her role reaches
            # anyway, as it does this A case of her school).
            reached = case.id in set(session.scalars(access._open_to(head, lambda arm: arm.case_id)))
        return ({r.task.id for r in _all_pages(kap12, head)}, queries.task_choices(kap12, head).has_tasks, reached)

    assert heads() == ({task.id}, True, True)
    kap12.claim(rektor, task.id)
    assert heads() == (set(), False, False)
    assert task.id in {r.task.id for r in _all_pages(kap12, rektor)}
    kap12.release(rektor, task.id)
    assert heads() == ({task.id}, True, True)
