"""Tasks past their deadline are said again every working day (engine/write/overdue.py): each
person gets one notice at 08:00 with the tasks that fall to them and those escalated to them, once
a day also with several sweepers, never on a weekend, never to someone outside the case's circle,
and a task that is done is not named again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support.plans import statements_of

from engine.store.models import Case, RoleGrant, User
from engine.write import appointed, notify, overdue
from engine.write.demo import ensure_directory
from processes.deadlines import OSLO


@pytest.fixture
def world(new_kap12, tmp_path):
    engine = new_kap12(f"sqlite:///{tmp_path}/kap12.sqlite3", tmp_path)
    yield engine, ensure_directory(engine)
    engine.close()


def told(kap12, demo, user) -> list:
    return [n for n in kap12.notices_for(demo.users[user]) if n.kind == overdue.KIND]


def test_overdue_tasks_are_said_again_each_working_day_to_whom_they_fall(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    clock = kap12.clock
    monday = clock.now().astimezone(OSLO)  # Monday 30.11.2026 09:00
    a = flow.report()
    b = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    c = flow.report(krenker_type="ledelse", krenker_navn="Anne Avdelingsleder", anklaget_bruker="avdelingsleder")
    clock.set((monday + timedelta(days=1)).replace(hour=7, minute=59))
    kap12.sweep_timers()  # Monday's receipt deadlines are missed, and escalated
    assert kap12.send_overdue_notices() == 0  # not before 08:00
    clock.set(clock.now().replace(hour=8, minute=0))
    sent = kap12.send_overdue_notices()
    assert sent >= 3 and kap12.send_overdue_notices() == 0  # once a day
    appointed._done.clear()  # another sweeper, which has not sent today: it finds today's notices
    assert kap12.send_overdue_notices() == 0

    (rektor,) = told(kap12, demo, "rektor")
    assert a.number in rektor.body and b.number in rektor.body and c.number not in rektor.body  # C bypasses them
    assert "Motta melding" in rektor.body and rektor.link == "/oppgaver"
    (owner,) = told(kap12, demo, "skoleeier")
    own, escalated = owner.body.split("Eskalert til deg")
    assert c.number in own and b.number in escalated and a.number not in owner.body  # B's receipt was escalated
    (leader,) = told(kap12, demo, "avdelingsleder")
    assert a.number in leader.body and b.number not in leader.body and c.number not in leader.body  # accused in C
    assert told(kap12, demo, "ansatt2") == [] and told(kap12, demo, "ansatt") == []  # the accused; the reporter
    assert not any("Emma" in n.body for n in (rektor, owner, leader))  # case numbers and steps, no pupil

    flow.do("avdelingsleder", a.id)  # A's receipt is done now
    clock.set(clock.now() + timedelta(days=1))  # Wednesday 08:00
    kap12.send_overdue_notices()
    newest = max(told(kap12, demo, "rektor"), key=lambda n: n.created_at)
    assert len(told(kap12, demo, "rektor")) == 2 and f"sak {a.number} «Motta og registrere melding»" not in newest.body
    assert b.number in newest.body

    saturday = (monday + timedelta(days=5)).replace(hour=9)
    clock.set(saturday)
    assert kap12.send_overdue_notices() == 0  # not on the county's days off


def test_one_round_of_a_sweeper_writes_the_day_s_notice(flow_on, world):
    """``kap12 timers --once`` runs the round a sweeper runs, so a county that sweeps from a
    scheduler gets the day's notice of tasks past their deadline too."""
    kap12, demo = world
    flow = flow_on(kap12, demo)
    monday = kap12.clock.now().astimezone(OSLO)
    case = flow.report()
    kap12.clock.set((monday + timedelta(days=1)).replace(hour=8, minute=0))
    done = kap12.sweep_round()
    assert done.fired.claimed and done.fired.failures == []  # Monday's receipt deadline, missed
    assert done.notices >= 2 and kap12.sweep_round().notices == 0  # rektor and avdelingsleder; once
    (notice,) = told(kap12, demo, "rektor")
    assert case.number in notice.body


def test_the_notice_costs_the_same_statements_for_one_overdue_task_as_for_many(flow, kap12):
    """Who is told of each overdue task is asked for all of them at once: thousands of overdue
    tasks in a county must not be thousands of queries inside the lock the sweepers share."""
    monday = kap12.clock.now().astimezone(OSLO)
    tuesday = (monday + timedelta(days=1)).replace(hour=8, minute=0)

    def statements(start) -> tuple[int, int]:
        with kap12.db.reading() as session:
            sent = statements_of(kap12.db.engine, lambda: overdue._by_person(session, start))
            return len(sent), sum(len(own) + len(escalated) for own, escalated in overdue._by_person(session, start).values())

    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")  # escalated
    kap12.clock.set(tuesday - timedelta(minutes=1))
    kap12.sweep_timers()
    few, told_few = statements(tuesday)
    for _ in range(3):
        flow.report()
        flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    kap12.clock.set(tuesday + timedelta(days=1) - timedelta(minutes=1))
    kap12.sweep_timers()
    many, told_many = statements(tuesday + timedelta(days=1))
    assert told_many > told_few > 0 and many == few


def test_role_holders_of_many_cases_are_each_case_s_own(flow, kap12, demo):
    """The set-based ``role_holders_of_cases`` answers as ``role_holders`` does, case by case:
    the accused (B, C) and those without the role at the case's school or county left out."""
    flow.report()
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.report(krenker_type="ledelse", krenker_navn="Anne Avdelingsleder", anklaget_bruker="avdelingsleder")
    with kap12.db.reading() as session:
        cases = session.scalars(select(Case)).all()
        roles = sorted(set(session.scalars(select(RoleGrant.role))))
        wanted = {(case.id, role) for case in cases for role in roles}
        many = notify.role_holders_of_cases(session, wanted)
        each = {(case.id, role): set(notify.role_holders(session, case, [role])) for case in cases for role in roles}
    assert {k: v for k, v in many.items() if v} == {k: v for k, v in each.items() if v}
    assert any(demo.users["avdelingsleder"].id in v for v in each.values())  # she holds a role
    accused = [case for case in cases if case.procedure == "C"]
    assert accused and all(demo.users["avdelingsleder"].id not in many.get((case.id, role), set())
                           for case in accused for role in roles)


def test_a_task_someone_has_taken_falls_to_them_while_they_may_be_told(flow, kap12, demo):
    """A taken task is the assignee's (not the role's) in the day's notice, asked in the same
    statement that reads who has it; an assignee who is no longer active is told nothing, and
    the escalation still reaches rektor."""
    monday = kap12.clock.now().astimezone(OSLO)
    case = flow.report()
    leader = demo.users["avdelingsleder"]
    [task] = [t for t in kap12.tasks_for(leader) if t.case_id == case.id]
    kap12.claim(leader, task.id)
    tuesday = (monday + timedelta(days=1)).replace(hour=8, minute=0)
    kap12.clock.set(tuesday - timedelta(minutes=1))
    kap12.sweep_timers()  # the receipt deadline is missed and escalated to rektor

    def notices() -> dict[int, tuple[list[str], list[str]]]:
        with kap12.db.reading() as session:
            return {user: ([o.case_number for o in own], [o.case_number for o in escalated])
                    for user, (own, escalated) in overdue._by_person(session, tuesday).items()}

    assert notices() == {leader.id: ([case.number], []), demo.users["rektor"].id: ([], [case.number])}
    with kap12.db.writing() as session:
        session.get(User, leader.id).active = False
    assert notices() == {demo.users["rektor"].id: ([], [case.number])}
