"""Who worked in which case (``case_work``) is the history's task completions, kept by the database
as each is recorded; the access policy's "work done" branch leaves out the rows a role of the
person reaches anyway — which must change no case anyone reaches."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from support.migrations import upgrade_from

from engine import access
from engine.store.events import TASK_COMPLETED
from engine.store.models import Case, CaseWork, HistoryEvent

PEOPLE = ("ansatt", "ansatt2", "avdelingsleder", "rektor", "rektor2", "ansatt3", "skoleeier", "prosesseier",
          "revisor", "admin")


def _stories(flow) -> list[int]:
    """Cases worked by the school's leadership and the school owner, in every procedure."""
    plain = flow.report()
    flow.do("avdelingsleder", plain.id, "Motta og registrere melding")
    serious = flow.report()
    flow.do("avdelingsleder", serious.id, "Motta og registrere melding", alvorlig_sak=True)
    flow.do("rektor", serious.id, "Varsle skoleeier")
    b_case = flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")
    flow.do("rektor", b_case.id, "Motta melding")
    flow.do("rektor", b_case.id, "Varsle skoleeier straks")
    c_case = flow.report(krenker_type="ledelse", anklaget_bruker="rektor")
    flow.do("skoleeier", c_case.id)
    moved = flow.report()  # worked in A by the department head, then moved to B
    flow.do("avdelingsleder", moved.id, "Motta og registrere melding")
    flow.kap12.reclassify(flow.demo.users["rektor"], moved.id, "ansatt", "Det var en lærer.", accused="ansatt2")
    return [plain.id, serious.id, b_case.id, c_case.id, moved.id]


def _work(kap12) -> dict[tuple[int, int], tuple[int, int, bool]]:
    with kap12.db.reading() as session:
        return {(w.user_id, w.case_id): (w.school_id, w.county_id, w.notified)
                for w in session.scalars(select(CaseWork))}


def _completions(kap12) -> set[tuple[int, int]]:
    with kap12.db.reading() as session:
        return {tuple(r) for r in session.execute(select(HistoryEvent.actor_id, HistoryEvent.case_id).where(
            HistoryEvent.kind == TASK_COMPLETED, HistoryEvent.actor_id.is_not(None)))}


def test_the_work_rows_are_the_historys_completions(flow, kap12, demo):
    _stories(flow)
    work = _work(kap12)
    assert set(work) == _completions(kap12) and len(work) >= 6
    with kap12.db.reading() as session:
        cases = {c.id: c for c in session.scalars(select(Case))}
    for (_user, case_id), (school, county, notified) in work.items():
        case = cases[case_id]
        assert (school, county) == (case.school_id, case.county_id)
        assert not notified or case.owner_notified_at is not None  # "notified" is never claimed early


def _reached(kap12, viewer) -> tuple[set[int], dict[int, str | None]]:
    with kap12.db.reading() as session:
        ids = set(session.scalars(access.visible_cases(viewer).with_only_columns(Case.id)))
        every = session.scalars(select(Case.id)).all()
        return ids, {case_id: access.access_level(session, viewer, case_id) for case_id in every}


def test_leaving_out_work_a_role_reaches_changes_no_case_reached(flow, kap12, demo, monkeypatch):
    _stories(flow)
    # Everyone, and the department head as she would be after leaving the school's leadership
    # (her work then counts for itself), moving to another school, or becoming the school owner
    # (who reaches a notified case of the county, not the plain A case she worked in).
    head = demo.users["avdelingsleder"]
    formers = [replace(head, grants=(("skoleeier", None, demo.county_id),)),
               replace(head, grants=()), replace(head, grants=(("avdelingsleder", 999_999, None),))]
    # Her work is asked as the ranges around the places her roles reach (``id_sets.ranges_outside``):
    # her school below them all (above), between two, above one; and as leader and owner at once.
    [school] = {s for _, s, _ in head.grants if s is not None}
    ranged = [replace(head, grants=(("avdelingsleder", school - 3, None), ("avdelingsleder", school + 3, None))),
              replace(head, grants=(("avdelingsleder", school - 3, None),)),
              replace(head, grants=(*head.grants, ("skoleeier", None, demo.county_id)))]
    viewers = [demo.users[p] for p in PEOPLE] + formers + ranged
    with_rows_left_out = [_reached(kap12, v) for v in viewers]
    # Every row of the person's work, none left out; the statements built with the rows left out
    # (kept per person) built again.
    monkeypatch.setattr(access, "_work_done", lambda viewer: select(CaseWork.case_id).where(CaseWork.user_id == viewer.id))
    access._level_of.cache_clear()
    assert with_rows_left_out == [_reached(kap12, v) for v in viewers]
    # And the branch matters: where her roles no longer reach it, she still reads the A case she
    # worked in, through her work alone.
    by_work = formers + ranged[:2]
    for reached in with_rows_left_out[len(PEOPLE):len(PEOPLE) + len(by_work)]:
        assert access.FULL in reached[1].values()


def test_the_work_left_in_is_the_work_outside_the_places_of_the_roles(flow, kap12, demo):
    """``access._work_done`` asks ranges of an index; what it gives is, row for row, the person's
    work less that in their leadership's schools and, for a school owner, less the notified
    cases of their counties (said as NOT IN) — for roles below, between, at and above the places
    of the work, as leader, as owner, and as both."""
    _stories(flow)
    work = _work(kap12)
    schools = sorted({school for school, _, _ in work.values()})
    counties = sorted({county for _, county, _ in work.values()})
    assert {notified for _, _, notified in work.values()} == {False, True}  # both kinds of row
    near_schools = sorted({s + d for s in schools for d in (-3, -1, 0, 1, 3)})
    near_counties = sorted({c + d for c in counties for d in (-3, -1, 0, 1, 3)})
    places = [[], *([p] for p in near_schools), near_schools[::2], [near_schools[0], near_schools[-1]]]
    owned = [[], *([c] for c in near_counties), near_counties[1::2], [near_counties[0], near_counties[-1]]]
    with kap12.db.reading() as session:
        for person in {user_id for user_id, _ in work}:
            viewer = next(v for v in demo.users.values() if v.id == person)
            for led in places:
                for owns in owned:
                    grants = tuple(("avdelingsleder", s, None) for s in led) + tuple(("skoleeier", None, c) for c in owns)
                    asked = replace(viewer, grants=grants)
                    expected = {case_id for (user_id, case_id), (school, county, notified) in work.items()
                                if user_id == person and school not in led and (not notified or county not in owns)}
                    assert set(session.scalars(access._work_done(asked))) == expected, (led, owns)


def test_an_upgraded_database_has_the_work_of_every_completion(flow, kap12, demo):
    _stories(flow)
    before = _work(kap12)
    upgrade_from(kap12, "0018_task_role_order")
    after = _work(kap12)
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    # The copy counts a case notified now as notified: never the other way round.
    assert all(after[k][2] or not v[2] for k, v in before.items())


@pytest.mark.parametrize("user", ["avdelingsleder", "skoleeier"])
def test_a_role_holders_own_work_is_not_looked_up_case_by_case(flow, kap12, demo, user):
    _stories(flow)
    viewer = demo.users[user]
    with kap12.db.reading() as session:
        rows = session.scalars(select(CaseWork.case_id).where(CaseWork.user_id == viewer.id)).all()
        left = session.scalars(access._work_done(viewer)).all()
    assert rows and left == []  # all of it is reached through the role
