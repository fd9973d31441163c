"""Tasks past their deadline are said again every working day (engine/write/overdue.py): each
person gets one notice at 08:00 with the tasks that fall to them and those escalated to them, once
a day also with several sweepers, never on a weekend, never to someone outside the case's circle,
and a task that is done is not named again."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.write import appointed, overdue
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
