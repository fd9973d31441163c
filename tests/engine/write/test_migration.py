"""Migrating running cases to a newer version: the plan says beforehand what is safe and what
will happen; a safe case moves through the one write path and keeps working (tasks, timers);
an unsafe case is refused and left exactly as it was."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import access
from engine.errors import Denied, InvalidInput, NotFound
from engine.read import older_versions
from engine.store import directory
from engine.store.models import Case, CaseParty, County, User
from engine.versions.definition_diff import diff_versions
from engine.write import migration
from tests.support.counties import person_of_another_county
from tests.support.diagrams import NEW_TASK


def version_of(kap12, case_id) -> int:
    with kap12.db.reading() as session:
        return session.get(Case, case_id).definition.version


def test_the_new_task_is_drawn_in_the_diff(flow, kap12, demo):
    flow.deploy_a(new_task=True)
    new = migration.version(kap12, "prosedyre_a", 2)
    old = migration.previous(kap12, new)
    diff = diff_versions(old, new)
    assert [c.element_id for c in diff.of_kind("added")] == ["Task_foresatte", "Flow_foresatte_alvorlig"] or \
        sorted(c.element_id for c in diff.of_kind("added")) == ["Flow_foresatte_alvorlig", "Task_foresatte"]
    changed = {c.element_id: c for c in diff.of_kind("changed")}
    assert set(changed) == {"Flow_Task_motta_melding_Gw_alvorlig"}
    assert ("til", "Gw_alvorlig", "Task_foresatte") in changed["Flow_Task_motta_melding_Gw_alvorlig"].changes
    assert diff.markers("prosedyre_a")["added"] and not diff.of_kind("removed")
    assert "Lagt til" in diff.of_kind("added")[0].sentence()


def test_a_waiting_case_moves_and_meets_the_new_task(flow, kap12, demo, clock):
    case = flow.report()
    due_before = {t.element_id: t.due_at for t in kap12.case_timers(case.id)}
    to = flow.deploy_a(new_task=True)
    # A case started now follows the new version, the old one stays where it was.
    fresh = flow.report()
    assert version_of(kap12, fresh.id) == to
    assert version_of(kap12, case.id) == to - 1

    [older] = older_versions.open_cases_on_older_versions(kap12, demo.users["prosesseier"]).items
    assert older.id == case.id
    # Another county's process owner neither sees nor moves this county's cases.
    stranger = person_of_another_county(kap12, "prosesseier")
    assert older_versions.open_cases_on_older_versions(kap12, stranger).items == []
    assert older_versions.count_open_cases_on_older_versions(kap12, stranger) == 0
    with pytest.raises(NotFound):
        migration.migrate(kap12, stranger, case.id, to, "Ny oppgave i prosedyre A")
    assert version_of(kap12, case.id) == to - 1
    plan = migration.plan(kap12, case.id, to)
    assert plan.safe, plan.problems
    assert plan.reset_tasks == ["«Motta og registrere melding» (prosedyre_a)"]
    assert plan.recreated_timers == []  # the deadlines did not change: they keep their due time

    done = migration.migrate(kap12, demo.users["prosesseier"], case.id, to, "Ny oppgave i prosedyre A")
    assert done.safe and done.reset_tasks
    row = flow.status(case.id)
    assert version_of(kap12, case.id) == to
    migrated = [e for e in kap12.case_history(case.id) if e.kind == "migrated"]
    assert [e.data["from_version"] for e in migrated] == [to - 1] and migrated[0].data["to_version"] == to
    assert migrated[0].data["reason"] == "Ny oppgave i prosedyre A"
    assert migrated[0].definition_id == row.definition_id
    assert {t.element_id: t.due_at for t in kap12.case_timers(case.id)} == due_before
    assert flow.open_titles(case.id) == ["Motta og registrere melding"]

    # The migrated case runs on: the new task comes after «Motta og registrere melding».
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    assert flow.open_titles(case.id) == [NEW_TASK]
    assert kap12.verify([case.id])[0].ok


def test_timers_of_a_migrated_case_still_fire(flow, kap12, demo, clock):
    case = flow.report()
    to = flow.deploy_a(new_task=True)
    migration.migrate(kap12, demo.users["prosesseier"], case.id, to, "Ny oppgave")
    timers = kap12.case_timers(case.id)
    assert {t.element_id for t in timers} >= {"Timer_frist_mottak", "Timer_paminnelse_mottak"}
    clock.advance(timedelta(days=3))
    kap12.sweep_timers()
    history = flow.kinds(case.id)
    assert "reminder" in history and "deadline_missed" in history and "escalated" in history
    assert "Følg opp forsinket mottak" in flow.open_titles(case.id)
    assert kap12.case_timers(case.id) == [] or all(t.element_id not in ("Timer_frist_mottak",) for t in kap12.case_timers(case.id))


def test_a_changed_deadline_is_recreated(flow, kap12, demo, clock):
    case = flow.report()
    to = flow.deploy_a(mottak_frist="arbeidstimer(1)")
    plan = migration.plan(kap12, case.id, to)
    assert plan.safe and len(plan.recreated_timers) == 1 and "Frist: samme arbeidsdag" in plan.recreated_timers[0]
    clock.advance(timedelta(minutes=10))
    migration.migrate(kap12, demo.users["prosesseier"], case.id, to, "Kortere frist")
    due = {t.element_id: t.due_at for t in kap12.case_timers(case.id)}
    assert due["Timer_frist_mottak"] == due["Timer_paminnelse_mottak"] - timedelta(hours=1) + timedelta(minutes=10)


def test_a_case_past_a_changed_task_is_not_migrated(flow, kap12, demo, clock):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    titles = flow.open_titles(case.id)
    to = flow.deploy_a(rename_motta="Ta imot og registrere melding")
    plan = migration.plan(kap12, case.id, to)
    assert not plan.safe
    assert any("«Motta og registrere melding» (prosedyre_a) er utført" in p for p in plan.problems), plan.problems
    before = flow.status(case.id)
    with pytest.raises(InvalidInput, match="kan ikke flyttes trygt"):
        migration.migrate(kap12, demo.users["prosesseier"], case.id, to, "Nytt navn")
    after = flow.status(case.id)
    assert (after.definition_id, after.state, after.lock_version) == (before.definition_id, before.state, before.lock_version)
    assert "migrated" not in flow.kinds(case.id)
    assert flow.open_titles(case.id) == titles


def test_only_process_owners_migrate_and_a_reason_is_required(flow, kap12, demo, clock):
    case = flow.report()
    to = flow.deploy_a(new_task=True)
    with pytest.raises(Denied):
        migration.migrate(kap12, demo.users["avdelingsleder"], case.id, to, "Fordi")
    with pytest.raises(InvalidInput):
        migration.migrate(kap12, demo.users["prosesseier"], case.id, to, "  ")
    assert version_of(kap12, case.id) == to - 1


def test_the_version_list_counts_cases(flow, kap12, demo, clock):
    flow.report()
    flow.deploy_a(new_task=True)
    flow.report()
    rows = migration.versions_with_cases(kap12, demo.users["prosesseier"])
    assert [(r.version, r.open_cases) for r in rows["kap12_sak"]] == [(2, 1), (1, 1)]
    assert [(r.version, r.open_cases) for r in rows["prosedyre_a"]] == [(2, 1), (1, 1)]
    assert [(r.version, r.open_cases) for r in rows["oppfolging"]] == [(1, 2)]
    assert rows["prosedyre_a"][0].deployed_by == demo.users["prosesseier"].name


def test_an_accused_process_owner_neither_sees_nor_moves_their_case(flow, kap12, demo):
    from engine.errors import NotFound

    owner = demo.users["prosesseier"]
    with pytest.raises(InvalidInput):  # a process owner can no longer be named at all
        flow.report(krenker_type="ansatt", anklaget_bruker="prosesseier")
    # A case recorded before that rule: the filter still keeps them out.
    case = flow.report(krenker_type="ansatt")
    with kap12.db.writing() as session:
        session.add(CaseParty(case_id=case.id, user_id=owner.id, relation="accused"))
    to = flow.deploy_a(new_task=True)
    assert case.id not in [c.id for c in older_versions.open_cases_on_older_versions(kap12, owner).items]
    with pytest.raises(NotFound):
        migration.migrate(kap12, owner, case.id, to, "Prøver likevel")


def test_a_rektor_who_is_also_process_owner_neither_sees_nor_moves_a_c_case_of_their_school(flow, kap12, demo):
    """The bypassed leadership sees nothing of a C case, whatever else they hold: «Flytt saker»
    showed its number and stage to a rektor who was also the county's process owner, though the
    case page refused it (an independent review)."""
    with kap12.db.writing() as session:
        user = session.get(User, demo.users["rektor"].id)
        directory.grant(session, user, "prosesseier", county=session.get(County, demo.county_id))
        rektor = access.Viewer.of(user)
    c = flow.report(krenker_type="ledelse", krenker_navn="Avdelingsleder", anklaget_bruker="avdelingsleder")
    a = flow.report()
    to = flow.deploy_a(new_task=True)
    seen = [case.id for case in older_versions.open_cases_on_older_versions(kap12, rektor).items]
    assert a.id in seen and c.id not in seen
    assert older_versions.count_open_cases_on_older_versions(kap12, rektor) == len(seen)
    with pytest.raises(NotFound):
        migration.migrate(kap12, rektor, c.id, to, "Prøver likevel")
    assert version_of(kap12, c.id) == to - 1
    assert c.id in [case.id for case in older_versions.open_cases_on_older_versions(kap12, demo.users["prosesseier"]).items]


def test_the_cases_to_move_come_a_page_at_a_time(flow, kap12, demo):
    cases = [flow.report() for _ in range(3)]
    flow.deploy_a(new_task=True)
    owner = demo.users["prosesseier"]
    first = older_versions.open_cases_on_older_versions(kap12, owner, limit=2)
    second = older_versions.open_cases_on_older_versions(kap12, owner, cursor=first.next_cursor, limit=2)
    assert [c.id for c in first.items + second.items] == [c.id for c in cases] and second.next_cursor is None
    assert older_versions.count_open_cases_on_older_versions(kap12, owner) == 3
