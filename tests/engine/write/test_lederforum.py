"""The weekly lederforum as a rhythm: a notice on Monday morning to every leader with the open
cases they may read (never a case they are accused in, never a C case to the bypassed school),
once a week; cases not reviewed for more than 7 days are named in it and marked on the overview.
"Reviewed" is the forum's recorded act, an event in the case's history."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.read.overview import weekly_overview
from engine.write.demo import ensure_directory
from processes.deadlines import OSLO


@pytest.fixture
def world(new_kap12, tmp_path):
    engine = new_kap12(f"sqlite:///{tmp_path}/kap12.sqlite3", tmp_path)
    yield engine, ensure_directory(engine)
    engine.close()


def forum_notices(kap12, demo, user):
    return [n for n in kap12.notices_for(demo.users[user]) if n.kind == "lederforum"]


def test_weekly_notice_lists_each_leaders_own_circle_once_a_week(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    clock = kap12.clock
    monday_9 = clock.now().astimezone(OSLO)
    clock.set(monday_9 - timedelta(days=8))  # the Sunday of the week before
    old = flow.report()
    clock.set(monday_9 - timedelta(days=3))
    reviewed = flow.report()
    b = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    c = flow.report(krenker_type="ledelse", krenker_navn="Anne Avdelingsleder",
               anklaget_bruker="avdelingsleder")
    kap12.record_review(demo.users["rektor"], [reviewed.id])
    clock.set(monday_9.replace(hour=6, minute=59))
    assert kap12.send_lederforum_notices() == 0  # not before Monday 07:00
    clock.set(monday_9)
    sent = kap12.send_lederforum_notices()
    assert sent == 3 and kap12.send_lederforum_notices() == 0  # rektor, avdelingsleder, skoleeier; once
    (rektor,) = forum_notices(kap12, demo, "rektor")
    assert all(case.number in rektor.body for case in (old, reviewed, b))
    assert c.number not in rektor.body  # C bypasses the school's leadership
    assert rektor.link == "/oversikt" and "Emma" not in rektor.body  # case numbers only, no pupil data
    overdue_part = rektor.body.split("Ikke gjennomgått på over 7 dager:")[1]
    assert old.number in overdue_part and reviewed.number not in overdue_part
    (leader,) = forum_notices(kap12, demo, "avdelingsleder")
    assert old.number in leader.body and b.number not in leader.body and c.number not in leader.body  # accused in C
    (owner,) = forum_notices(kap12, demo, "skoleeier")
    assert b.number in owner.body and c.number in owner.body and old.number not in owner.body
    assert not forum_notices(kap12, demo, "ansatt") and not forum_notices(kap12, demo, "revisor")
    clock.set(monday_9 + timedelta(days=7, hours=1))  # the next week: again, once
    assert kap12.send_lederforum_notices() == 3
    assert len(forum_notices(kap12, demo, "rektor")) == 2


def test_the_overview_marks_cases_not_reviewed_for_more_than_a_week(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    clock = kap12.clock
    first, second = flow.report(), flow.report()
    clock.set(clock.now() + timedelta(days=6))
    kap12.record_review(demo.users["avdelingsleder"], [second.id])
    clock.set(clock.now() + timedelta(days=2))  # 8 days after the report, 2 after the review
    view = weekly_overview(kap12, demo.users["rektor"])
    flags = {r.number: r.review_overdue for r in view.open_rows}
    assert flags[first.number] and not flags[second.number] and view.review_overdue_count == 1
    reviewed = [e for e in kap12.case_history(second.id) if e.kind == "reviewed"]
    assert reviewed and reviewed[0].actor_id == demo.users["avdelingsleder"].id  # a recorded act, in the history


def test_a_leaders_cases_are_counted_and_the_first_listed_by_the_database(flow_on, world):
    """Thirty-two open cases: the notice counts all, lists thirty, those not reviewed for a week
    first and oldest first among them, in two statements however many cases there are."""
    from sqlalchemy import select
    from support.plans import answered

    from engine import access
    from engine.store.models import User
    from engine.write import lederforum

    kap12, demo = world
    flow = flow_on(kap12, demo)
    clock = kap12.clock
    start = clock.now()
    made = []
    for n in range(32):
        clock.set(start + timedelta(hours=n))
        made.append(flow.report())
    clock.set(start + timedelta(days=8))  # the first 24 reported over a week ago
    kap12.record_review(demo.users["rektor"], [made[0].id])  # reviewed now: not overdue
    with kap12.db.reading() as session:
        rektor = access.Viewer.of(session.scalars(select(User).where(User.username == "rektor")).one())
        found, sent = answered(kap12.db.engine, lambda: lederforum.cases_for_forum(session, rektor, clock.now()))
    overdue = [c.number for c in made[1:24]]
    assert found.count == 32 and found.overdue == overdue
    assert found.listed == overdue + [c.number for c in (made[0], *made[24:])][:30 - len(overdue)]
    assert len([s for s, _ in sent if s.lstrip().startswith("SELECT")]) == 2
