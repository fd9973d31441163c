"""The access policy itself (engine/access.py), without HTTP: every demo role against a case of
each procedure, as reporter, accused or unrelated. The web tests check the same matrix through
the pages; here a wrong rule is found in the one place it is written."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import access
from engine.store.models import Case, OpenTask, School
from engine.write.demo import ensure_directory, report_data

NORDLI, SORBAKKEN = "Nordli videregående skole", "Sørbakken videregående skole"
USERS = ["ansatt", "ansatt2", "avdelingsleder", "rektor", "rektor2", "ansatt3", "skoleeier", "prosesseier",
         "revisor", "admin"]
# ansatt reports every case; ansatt2 is accused in B, avdelingsleder in C; ansatt3 and rektor2
# work at the other school; the county roles see what their role gives them.
F, S, N = access.FULL, access.STATUS, None
LEVEL = {
    "A": {"ansatt": S, "ansatt2": N, "avdelingsleder": F, "rektor": F, "rektor2": N, "ansatt3": N,
          "skoleeier": N, "prosesseier": N, "revisor": F, "admin": N},
    "B": {"ansatt": S, "ansatt2": N, "avdelingsleder": N, "rektor": F, "rektor2": N, "ansatt3": N,
          "skoleeier": F, "prosesseier": N, "revisor": F, "admin": N},
    "C": {"ansatt": S, "ansatt2": N, "avdelingsleder": N, "rektor": N, "rektor2": N, "ansatt3": N,
          "skoleeier": F, "prosesseier": N, "revisor": F, "admin": N},
}
# Who may do the case's first task (receiving the report).
WORKS = {"A": {"avdelingsleder", "rektor"}, "B": {"rektor"}, "C": {"skoleeier"}}
# Who leads the case in its procedure (archives it, sees its read log, exports it), given that
# they see it in full at all; out of B and C only the school owner reclassifies.
LEADS = {"A": {"avdelingsleder", "rektor"}, "B": {"rektor", "skoleeier"}, "C": {"skoleeier"}}
RECLASSIFIES = {"A": {"avdelingsleder", "rektor"}, "B": {"skoleeier"}, "C": {"skoleeier"}}
READ_LOG = {p: LEADS[p] | {"revisor"} for p in LEADS}


@pytest.fixture(scope="module")
def world(tmp_path_factory, new_kap12):
    tmp = tmp_path_factory.mktemp("access")
    kap12 = new_kap12(f"sqlite:///{tmp}/kap12.sqlite3", tmp)
    demo = ensure_directory(kap12)
    reporter, nordli = demo.users["ansatt"], demo.schools[NORDLI]
    cases = {
        "A": kap12.report(reporter, nordli, report_data()),
        "B": kap12.report(reporter, nordli, report_data(krenker_type="ansatt", krenker_navn="Per Faglærer",
                                                        anklaget_bruker="ansatt2")),
        "C": kap12.report(reporter, nordli, report_data(krenker_type="ledelse", anklaget_bruker="avdelingsleder")),
    }
    yield kap12, demo, {p: c.id for p, c in cases.items()}
    kap12.close()


@pytest.mark.parametrize("procedure", ["A", "B", "C"])
@pytest.mark.parametrize("user", USERS)
def test_case_access_matrix(world, procedure, user):
    kap12, demo, case_ids = world
    viewer, case_id = demo.users[user], case_ids[procedure]
    with kap12.db.reading() as session:
        level = access.access_level(session, viewer, case_id)
        listed = case_id in set(session.scalars(select(access.visible_cases(viewer).subquery().c.id)))
        in_full = case_id in set(session.scalars(
            select(Case.id).where(access.full_access_clause(viewer), access.not_accused(viewer))))
        # A page that found the viewer's cases once (``with_reach``) lists and reads the same.
        remembered = access.with_reach(session, viewer)
        listed_remembered = case_id in set(session.scalars(select(access.visible_cases(remembered).subquery().c.id)))
        in_full_remembered = case_id in set(session.scalars(
            select(Case.id).where(access.full_access_clause(remembered), access.not_accused(remembered))))
        # The receipt (in B, «Varsle skoleeier straks» is open beside it from the start).
        task = session.scalars(select(OpenTask).where(OpenTask.case_id == case_id,
                                                      OpenTask.element_id == "Task_motta_melding")).one()
        may_work = access.task_to_work_on(session, viewer, task.id)[1]
        workable = task.id in set(session.scalars(select(access.workable_tasks(viewer).subquery().c.id)))
        case = session.get(Case, case_id)
        assert case is not None
        reclassifies = level == F and access.may_reclassify(viewer, case)
        archives = level == F and access.may_archive(viewer, case)
        read_log = level == F and access.sees_read_log(viewer, case)
        exports = level == F and access.may_export(viewer, case)
    assert level == LEVEL[procedure][user]
    assert listed == (level is not None)  # a case the viewer may not see does not exist for them
    assert in_full == (level == F)
    assert (listed_remembered, in_full_remembered) == (listed, in_full)
    # Found once for all but auditors, who read the whole county: for them it is a condition on the row.
    assert (remembered.reach is None) == (user == "revisor")
    # The auditor reads every task and works none; the accused never reaches one.
    assert may_work == workable == (user in WORKS[procedure])
    assert reclassifies == (user in RECLASSIFIES[procedure])
    assert archives == (user in LEADS[procedure])
    assert read_log == exports == (user in READ_LOG[procedure])


@pytest.mark.parametrize("user", USERS)
def test_roles_without_a_case(world, user):
    kap12, demo, _ = world
    viewer = demo.users[user]
    with kap12.db.reading() as session:
        schools = {session.get(School, i).name for i in
                   session.scalars(select(School.id).where(access.report_schools_clause(viewer)))}
        one_by_one = {s.name for s in session.scalars(select(School)) if access.may_report_at(viewer, s)}
        cycle_schools = {s.name for s in session.scalars(select(School)) if access.may_start_cycle(viewer, s)}
    both = {NORDLI, SORBAKKEN}
    reports_at = {"ansatt": {NORDLI}, "ansatt2": {NORDLI}, "avdelingsleder": {NORDLI}, "rektor": {NORDLI},
                  "rektor2": {SORBAKKEN}, "ansatt3": {SORBAKKEN}, "skoleeier": both, "prosesseier": set(),
                  "revisor": set(), "admin": both}
    assert schools == one_by_one == reports_at[user]
    cycle_at = {"rektor": {NORDLI}, "rektor2": {SORBAKKEN}, "admin": both}.get(user, set())
    assert cycle_schools == cycle_at
    assert access.is_read_only(viewer) == (user == "revisor")
    assert access.may_audit(viewer) == (user == "revisor")
    assert access.may_deploy(viewer) == (user in {"prosesseier", "admin"})
    assert access.may_handle_incidents(viewer) == (user in {"prosesseier", "admin"})
    assert access.may_see_overview(viewer) == (user in {"avdelingsleder", "rektor", "rektor2", "skoleeier"})
    assert bool(access.counties_where(viewer, "skoleeier")) == (user == "skoleeier")
    assert access.may_archive_any(viewer) == (user in {"avdelingsleder", "rektor", "rektor2", "skoleeier"})


ADMIN_OF_1 = access.Viewer(7, "Admin", (("administrator", None, 1),))


@pytest.mark.parametrize("viewer, person, counties, changes, deactivates", [
    (ADMIN_OF_1, 20, {1}, True, True),            # someone only of their county
    (ADMIN_OF_1, 20, {1, 2}, False, False),       # roles in another county too: only the operator
    (ADMIN_OF_1, 20, {2}, False, False),          # another county's person
    (ADMIN_OF_1, 20, set(), False, False),        # no role anywhere: not theirs either
    (ADMIN_OF_1, 7, {1}, True, False),            # themselves: changes yes, out of service no
    (access.Viewer(9, "Rektor", (("rektor", 3, None),)), 20, {1}, False, False),  # no administrator
])
def test_who_an_administrator_may_change_and_deactivate(viewer, person, counties, changes, deactivates):
    assert access.may_change_person(viewer, counties) is changes
    assert access.may_deactivate(viewer, person, counties) is deactivates
