"""The demo county's cases read like real ones: every report and every completed step is a
written story (no example text), each pupil is marked «(demo)», and the dates fit the stories."""
from __future__ import annotations

from engine.write.demo import load_demo


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
