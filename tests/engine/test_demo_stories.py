"""The demo county's cases read like real ones: every report and every completed step is a
written story (no example text), each pupil is marked «(demo)», and the dates fit the stories."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.write.demo import load_demo
from processes.deadlines import OSLO


def test_every_demo_case_is_a_story_without_placeholders(sqlite_kap12):
    kap12 = sqlite_kap12
    logins = load_demo(kap12)
    cases = kap12.cases_for(kap12.viewer("revisor"))
    assert len(cases) == 5
    for case in cases:
        history = kap12.case_history(case.id)
        assert not [e.kind for e in history if "Eksempeltekst" in str(e.data)], case.number
        report = next(e for e in history if e.kind == "reported").data["report"]
        assert report["berorte_elever"].endswith("(demo)") and report["klasse"]
        assert report["krenkelse_art"] and report["hendelse_dato"] <= kap12.clock.now().date().isoformat()
    # The printout says where each log-in works.
    schools = {u["username"]: u["school"] for u in logins}
    assert schools["rektor2"] == "Sørbakken videregående skole" and schools["ansatt"] == "Nordli videregående skole"


@pytest.mark.parametrize("today", ["2026-08-20", "2026-11-30", "2027-03-10", "2027-06-25", "2027-07-20"])
def test_the_demo_cycle_has_done_what_was_due_before_today(sqlite_kap12, today):
    """The yearly cycle of the demo school, started for the year under way, shows what a school
    midway through it has: each routine whose date has passed done and dated before it, the rest
    still open, and none overdue (a cycle started today read «90 dager på overtid» on the autumn's
    routines, as if the school had done nothing)."""
    from engine.store.events import TASK_COMPLETED

    kap12 = sqlite_kap12
    kap12.clock.set(datetime.fromisoformat(today).replace(hour=9, tzinfo=OSLO))
    load_demo(kap12)
    [cycle] = kap12.prevention_cycles(kap12.viewer("rektor"))
    now = kap12.clock.now()
    assert all(t.due_at is None or t.due_at >= now for t in kap12.case_tasks(cycle.id))
    done = [e.data for e in kap12.case_history(cycle.id) if e.kind == TASK_COMPLETED]
    for data in done:
        assert data["data"]["dato"] < now.date().isoformat() and "Eksempeltekst" not in str(data)
