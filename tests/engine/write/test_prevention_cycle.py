"""The school's yearly prevention cycle (årshjul, § 12-3): its routines open through a whole
school year on a moved clock, deadlines are kept or recorded as missed, the next school year
follows, and only the school's own leadership sees it."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.audit.replay import verify_case
from engine.errors import Conflict, Denied, NotFound
from processes.deadlines import OSLO

ANSATTE = "Gjøre ansatte kjent med rutinene"
ELEVER = "Gjøre elevene kjent med rutinene"
FORELDREMOTE = "Foreldremøte om skolemiljøet"
ELEVUNDERSOKELSEN = "Elevundersøkelsen gjennomført"
EGEN = "Skolens egen oppfølgingsundersøkelse"
GJENNOMGANG = "Årlig gjennomgang av rutinene"
# The plan's other preventive routines (handlingsplan, "Forebyggende arbeid").
TEMADAG = "Planleggings- eller temadag om mobbing og krenkelser"
KLASSETEAM = "Trivsel og mobbing fast på klasseteamenes ukentlige møter"
KARTLEGGING = "Kontaktlærerne kartlegger trivsel, trygghet og mobbing i klassene"
ELEVRAD = "Elevrådet og skolemiljøutvalget (SMU) tar opp trivsel og miljø"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=OSLO)


def move_to(kap12, when: datetime) -> None:
    kap12.clock.set(when)
    kap12.sweep_timers()


def due(kap12, case_id, title) -> datetime:
    return next(t.due_at for t in kap12.case_tasks(case_id) if t.title == title).astimezone(OSLO)


def record(flow, user, case_id, title, **data) -> None:
    kap12, demo = flow.kap12, flow.demo
    viewer = demo.users[user]
    tasks = [t for t in kap12.tasks_for(viewer) if t.case_id == case_id and t.title == title]
    assert tasks, f"{user} has no task {title!r}; open: {flow.open_titles(case_id)}"
    payload = {"hva_ble_gjort": f"{title}: gjennomført etter planen.",
               "dato": kap12.clock.now().date().isoformat(), "hvem_deltok": "Se referat",
               "oppfolging": "", **data}
    kap12.complete(viewer, tasks[0].id, payload)


def events(kap12, case_id, kind) -> list[dict]:
    return [e.data for e in kap12.case_history(case_id) if e.kind == kind]


@pytest.fixture
def cycle(flow, kap12, demo):
    kap12.clock.set(at(2026, 8, 3, 9, 0))  # Monday, the school's first planning day
    return kap12.start_prevention_cycle(demo.users["rektor"], demo.schools[flow.NORDLI], 2026)


def test_a_whole_school_year_and_the_next_one(flow, kap12, demo, cycle):
    case_id = cycle.id
    assert cycle.number == "ÅR-2026-%03d" % demo.schools[flow.NORDLI] and cycle.kind == "arshjul"
    # Start of the school year: staff (rektor), pupils and the planning or theme day (the
    # leadership), side by side.
    assert flow.open_titles(case_id) == sorted([ANSATTE, ELEVER, TEMADAG])
    assert due(kap12, case_id, ANSATTE) == due(kap12, case_id, ELEVER) == at(2026, 8, 31, 16, 0)
    assert due(kap12, case_id, TEMADAG) == at(2026, 8, 31, 16, 0)
    assert not [t for t in kap12.tasks_for(demo.users["avdelingsleder"]) if t.title == ANSATTE]
    assert not [t for t in kap12.tasks_for(demo.users["ansatt"]) if t.case_id == case_id]
    kap12.clock.set(at(2026, 8, 14, 10, 0))
    record(flow, "rektor", case_id, ANSATTE, hvem_deltok="Alle ansatte, planleggingsdag")
    record(flow, "avdelingsleder", case_id, ELEVER, hvem_deltok="Alle klasser, første skoleuke")
    record(flow, "avdelingsleder", case_id, TEMADAG, hvem_deltok="Alle ansatte, planleggingsdagen 14. august")
    assert flow.open_titles(case_id) == []

    # The autumn's tasks wait for their start dates, so the task list stays short.
    move_to(kap12, at(2026, 8, 17, 9, 0))
    assert flow.open_titles(case_id) == [KLASSETEAM]
    assert due(kap12, case_id, KLASSETEAM) == at(2026, 9, 15, 16, 0)
    record(flow, "avdelingsleder", case_id, KLASSETEAM, hvem_deltok="Alle klasseteam")
    move_to(kap12, at(2026, 8, 31, 23, 0))
    assert flow.open_titles(case_id) == []
    move_to(kap12, at(2026, 9, 1, 9, 0))
    assert flow.open_titles(case_id) == [FORELDREMOTE]
    assert due(kap12, case_id, FORELDREMOTE) == at(2026, 10, 31, 16, 0)
    record(flow, "avdelingsleder", case_id, FORELDREMOTE)
    move_to(kap12, at(2026, 9, 15, 9, 0))
    assert flow.open_titles(case_id) == [KARTLEGGING]
    assert due(kap12, case_id, KARTLEGGING) == at(2026, 10, 15, 16, 0)
    record(flow, "avdelingsleder", case_id, KARTLEGGING, hvem_deltok="Kontaktlærerne")

    move_to(kap12, at(2026, 10, 1, 9, 0))
    assert flow.open_titles(case_id) == sorted([ELEVRAD, ELEVUNDERSOKELSEN])
    assert due(kap12, case_id, ELEVRAD) == at(2026, 11, 30, 16, 0)
    record(flow, "avdelingsleder", case_id, ELEVRAD, hvem_deltok="Elevrådet og SMU")
    assert flow.open_titles(case_id) == [ELEVUNDERSOKELSEN]
    assert due(kap12, case_id, ELEVUNDERSOKELSEN) == at(2026, 12, 15, 16, 0)
    # Not done in time: a reminder three working days before, then the deadline is missed.
    move_to(kap12, at(2026, 12, 10, 9, 0))
    assert len(events(kap12, case_id, "reminder")) == 1 and not events(kap12, case_id, "deadline_missed")
    move_to(kap12, at(2026, 12, 16, 9, 0))
    missed = events(kap12, case_id, "deadline_missed")
    assert [m["element"] for m in missed] == ["Timer_frist_elevundersokelse"]
    assert flow.open_titles(case_id) == [ELEVUNDERSOKELSEN]  # still to be done, and now overdue
    record(flow, "rektor", case_id, ELEVUNDERSOKELSEN)
    late = events(kap12, case_id, "task_completed")[-1]
    assert late["title"] == ELEVUNDERSOKELSEN and late["late_by_seconds"] > 0

    # The school's own survey follows after New Year.
    assert flow.open_titles(case_id) == []
    move_to(kap12, at(2027, 1, 4, 9, 0))
    assert flow.open_titles(case_id) == [EGEN]
    assert due(kap12, case_id, EGEN) == at(2027, 2, 28, 16, 0)
    record(flow, "avdelingsleder", case_id, EGEN)

    # Spring: rektor's yearly review of the routines.
    move_to(kap12, at(2027, 4, 30, 9, 0))
    assert flow.open_titles(case_id) == []
    move_to(kap12, at(2027, 5, 3, 9, 0))
    assert flow.open_titles(case_id) == [GJENNOMGANG]
    assert due(kap12, case_id, GJENNOMGANG) == at(2027, 6, 15, 16, 0)
    assert not [t for t in kap12.tasks_for(demo.users["avdelingsleder"]) if t.case_id == case_id]
    kap12.clock.set(at(2027, 6, 10, 12, 0))
    record(flow, "rektor", case_id, GJENNOMGANG, oppfolging="Nye ansatte får rutinene ved oppstart.")

    # The summer holiday, then the next school year opens in August.
    assert flow.open_titles(case_id) == []
    move_to(kap12, at(2027, 7, 31, 9, 0))
    assert flow.open_titles(case_id) == []
    move_to(kap12, at(2027, 8, 2, 9, 0))
    assert flow.open_titles(case_id) == sorted([ANSATTE, ELEVER, TEMADAG])
    assert due(kap12, case_id, ANSATTE) == at(2027, 8, 31, 16, 0)
    move_to(kap12, at(2027, 9, 1, 9, 0))
    assert sorted(m["element"] for m in events(kap12, case_id, "deadline_missed")) == [
        "Timer_frist_ansatte_kjent", "Timer_frist_elever_kjent", "Timer_frist_elevundersokelse",
        "Timer_frist_temadag"]
    assert flow.open_titles(case_id) == sorted([ANSATTE, ELEVER, TEMADAG, KLASSETEAM, FORELDREMOTE])

    case, level = kap12.case(demo.users["rektor"], case_id)
    assert case.status == "open" and level == "full"
    report = verify_case(kap12, case_id)
    assert report.ok, report


def test_only_the_schools_leadership_sees_the_cycle(kap12, demo, cycle):
    for user in ("rektor", "avdelingsleder"):
        assert kap12.case(demo.users[user], cycle.id)[0].number == cycle.number
        assert [c.id for c in kap12.prevention_cycles(demo.users[user])] == [cycle.id]
    for user in ("rektor2", "ansatt", "ansatt2", "ansatt3"):
        with pytest.raises(NotFound):
            kap12.case(demo.users[user], cycle.id)
        assert kap12.prevention_cycles(demo.users[user]) == []
        assert not [t for t in kap12.tasks_for(demo.users[user]) if t.case_id == cycle.id]
    # Not a chapter 12 case: kept out of the case lists, also the school leadership's.
    for user in ("rektor", "avdelingsleder", "skoleeier", "revisor"):
        assert cycle.id not in [c.id for c in kap12.cases_for(demo.users[user])]


def test_who_may_start_a_cycle(flow, kap12, demo, cycle):
    nordli = demo.schools[flow.NORDLI]
    with pytest.raises(Conflict):
        kap12.start_prevention_cycle(demo.users["rektor"], nordli, 2026)
    for user in ("rektor2", "avdelingsleder", "ansatt"):
        with pytest.raises(Denied):
            kap12.start_prevention_cycle(demo.users[user], nordli, 2027)
    other = kap12.start_prevention_cycle(demo.users["rektor2"], demo.schools["Sørbakken videregående skole"], 2026)
    assert [c.id for c in kap12.prevention_cycles(demo.users["rektor2"])] == [other.id]
    assert verify_case(kap12, other.id).ok


def test_a_cycle_started_late_records_the_deadlines_already_missed(kap12, demo):
    """Deadlines that are past when they are set fire in the same step, and are recorded."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    kap12.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Oslo")))
    school = demo.schools["Nordli videregående skole"]
    cycle = kap12.start_prevention_cycle(demo.users["rektor"], school, 2026)
    kinds = [e.kind for e in kap12.case_history(cycle.id)]
    assert kinds.count("deadline_missed") >= 2  # the two "gjøre kjent med rutinene" tasks (31 August)
    from engine.audit.replay import verify_case

    assert verify_case(kap12, cycle.id).ok
