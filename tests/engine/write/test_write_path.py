"""The one write path: restarts, racing completions, nothing half-written, versions pinned."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from conftest import make_kap12
from sqlalchemy import func, select

from engine.demo import ensure_directory
from engine.errors import Conflict, InvalidInput
from engine.store.models import Case, DefinitionVersion, HistoryEvent, OpenTask
from engine.versions.example_data import example_data
from processes import forms
from tests.engine.flow import do, kinds, open_titles, report, status


def test_case_survives_a_restart(kap12, demo, db_url, tmp_path, clock):
    case = report(kap12, demo)
    do(kap12, demo, "avdelingsleder", case.id, "Motta og registrere melding")
    kap12.close()
    again = make_kap12(db_url, tmp_path, clock)  # a new process: new engine, new caches, same database
    try:
        people = ensure_directory(again)
        assert open_titles(again, case.id) == ["Undersøke saken"]
        do(again, people, "avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
        do(again, people, "avdelingsleder", case.id, "Avslutte og dokumentere saken")
        assert status(again, case.id).status == "closed"
        assert all(r.ok for r in again.verify([case.id]))
    finally:
        again.close()


def test_racing_completions_exactly_one_wins(kap12, demo):
    case = report(kap12, demo)
    task = kap12.tasks_for(demo.users["avdelingsleder"])[0]
    data = example_data(forms.get_form(task.form_key), kap12.clock.now().date())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(user):
        barrier.wait()
        try:
            kap12.complete(demo.users[user], task.id, data)
            outcomes.append("won")
        except Conflict as err:
            outcomes.append(f"conflict: {err}")

    threads = [threading.Thread(target=attempt, args=(u,)) for u in ("avdelingsleder", "rektor")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"], outcomes
    assert kinds(kap12, case.id).count("task_completed") == 1
    assert open_titles(kap12, case.id) == ["Undersøke saken"]
    assert all(r.ok for r in kap12.verify([case.id]))


def test_second_completion_after_the_first_is_a_plain_conflict(kap12, demo):
    case = report(kap12, demo)
    task = kap12.tasks_for(demo.users["avdelingsleder"])[0]
    data = example_data(forms.get_form(task.form_key), kap12.clock.now().date())
    kap12.complete(demo.users["avdelingsleder"], task.id, data)
    with pytest.raises(Conflict, match="allerede utført av Anne Avdelingsleder"):
        kap12.complete(demo.users["rektor"], task.id, data)
    assert kinds(kap12, case.id).count("task_completed") == 1


def test_invalid_form_changes_nothing(kap12, demo):
    case = report(kap12, demo)
    before = status(kap12, case.id)
    task = kap12.tasks_for(demo.users["avdelingsleder"])[0]
    with pytest.raises(InvalidInput) as err:
        kap12.complete(demo.users["avdelingsleder"], task.id, {"mottatt_vurdering": "  ", "ukjent": 1})
    assert "mottatt_vurdering" in err.value.errors and "ukjent" in err.value.errors
    after = status(kap12, case.id)
    assert (after.state, after.lock_version) == (before.state, before.lock_version)
    assert open_titles(kap12, case.id) == ["Motta og registrere melding"]
    assert kinds(kap12, case.id) == ["reported", "task_opened"]


def test_a_crash_inside_the_unit_of_work_writes_nothing(kap12, demo, monkeypatch):
    case = report(kap12, demo)
    before = status(kap12, case.id)
    with kap12.db.reading() as s:
        events_before = s.scalar(select(func.count()).select_from(HistoryEvent))
    from engine.write import unit_of_work
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(unit_of_work.CaseWriter, "_write_projection", staticmethod(explode))
    task = kap12.tasks_for(demo.users["avdelingsleder"])[0]
    with pytest.raises(RuntimeError):
        kap12.complete(demo.users["avdelingsleder"], task.id, example_data(forms.get_form(task.form_key), kap12.clock.now().date()))
    monkeypatch.undo()
    after = status(kap12, case.id)
    assert (after.state, after.lock_version) == (before.state, before.lock_version)
    with kap12.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(HistoryEvent)) == events_before
        assert s.get(OpenTask, task.id) is not None


def test_state_is_stored_without_the_spec(kap12, demo):
    case = report(kap12, demo)
    stored = json.loads(status(kap12, case.id).state)
    assert "spec" not in stored and "subprocess_specs" not in stored
    # Subprocesses name their spec; the spec itself lives once, in the definition version.
    assert all(isinstance(sp["spec"], str) for sp in stored["subprocesses"].values())


def _renamed_receive_task(kap12) -> bytes:
    xml = (kap12.settings.bpmn_dir / "prosedyre_a.bpmn").read_text(encoding="utf-8")
    assert 'name="Motta og registrere melding"' in xml
    return xml.replace('name="Motta og registrere melding"', 'name="Motta, registrere og vurdere melding"').encode()


def test_running_case_stays_on_its_version(kap12, demo):
    old = report(kap12, demo)
    results = kap12.deploy([("prosedyre_a.bpmn", _renamed_receive_task(kap12))], actor=None, comment="Nytt navn")
    by_process = {r.process_id: r for r in results}
    # The procedure and the routing that calls it get new versions; oppfolging is untouched.
    assert by_process["prosedyre_a"].version == 2 and by_process["prosedyre_a"].created
    assert by_process["kap12_sak"].version == 2
    assert "oppfolging" not in by_process
    new = report(kap12, demo)
    assert open_titles(kap12, old.id) == ["Motta og registrere melding"]
    assert open_titles(kap12, new.id) == ["Motta, registrere og vurdere melding"]
    do(kap12, demo, "avdelingsleder", old.id, "Motta og registrere melding")
    do(kap12, demo, "avdelingsleder", old.id, "Undersøke saken", trygt_skolemiljo="ja")
    do(kap12, demo, "avdelingsleder", old.id, "Avslutte og dokumentere saken")
    with kap12.db.reading() as s:
        versions = {c.id: s.get(DefinitionVersion, c.definition_id).version for c in s.scalars(select(Case))}
    assert versions == {old.id: 1, new.id: 2}
    assert status(kap12, old.id).status == "closed"


def test_deploying_the_same_content_twice_is_a_no_op(kap12):
    again = kap12.init()
    assert again and not any(r.created for r in again)
    bundled = len(list(kap12.settings.bpmn_dir.glob("*.bpmn")))
    with kap12.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(DefinitionVersion)) == bundled
    deploys = [e for e in kap12.verify() if e.chain == "system"]
    assert deploys[0].events == bundled and deploys[0].ok


def test_timers_are_rebuilt_identically_from_the_workflow(kap12, demo):
    """The timer and task rows are projections: rebuilding them from the stored workflow gives
    the same rows."""
    from engine.write.projection import snapshot

    case = report(kap12, demo)
    kap12.clock.advance(timedelta(hours=3))
    kap12.sweep_timers()
    with kap12.db.reading() as s:
        row = s.get(Case, case.id)
        snap = snapshot(kap12.writer.load_workflow(row), row.definition.meta)
    assert sorted(t.id for t in snap.tasks) == sorted(t.id for t in kap12.case_tasks(case.id))
    assert sorted((t.id, t.due_at) for t in snap.timers) == sorted((t.id, t.due_at) for t in kap12.case_timers(case.id))


def test_a_long_follow_up_keeps_its_working_state_small(kap12, demo):
    """Forty evaluation rounds: the stored workflow stops growing, the case still runs to its
    end, and the history keeps every step."""
    case = report(kap12, demo)
    do(kap12, demo, "avdelingsleder", case.id, "Motta og registrere melding")
    do(kap12, demo, "avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    def tomorrow() -> str:  # evaluation dates are never in the past; one round a day
        return (kap12.clock.now() + timedelta(days=1)).date().isoformat()

    do(kap12, demo, "avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato=tomorrow())
    sizes = []
    for _ in range(40):
        do(kap12, demo, "avdelingsleder", case.id, "Gjennomføre tiltak")
        kap12.clock.advance(timedelta(days=1))
        kap12.sweep_timers()
        do(kap12, demo, "avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="fortsette",
           evalueringsdato=tomorrow())
        sizes.append(len(status(kap12, case.id).state))
    assert max(sizes[20:]) <= max(sizes[:20]) * 1.05, sizes  # a sawtooth, not a ramp
    do(kap12, demo, "avdelingsleder", case.id, "Gjennomføre tiltak")
    kap12.clock.advance(timedelta(days=1))
    kap12.sweep_timers()
    do(kap12, demo, "avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="trygt")
    do(kap12, demo, "avdelingsleder", case.id, "Avslutte og dokumentere saken")
    assert status(kap12, case.id).status == "closed"
    assert kinds(kap12, case.id).count("task_completed") == 3 + 80 + 3


def test_reclassified_twice_and_back(kap12, demo):
    case = report(kap12, demo)
    kap12.reclassify(demo.users["rektor"], case.id, "ansatt", "Det var en lærer.", "ansatt2")
    kap12.reclassify(demo.users["skoleeier"], case.id, "elev", "Likevel en elev.")
    assert status(kap12, case.id).procedure == "A"
    do(kap12, demo, "avdelingsleder", case.id, "Motta og registrere melding")
    do(kap12, demo, "avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    do(kap12, demo, "avdelingsleder", case.id, "Avslutte og dokumentere saken")
    assert status(kap12, case.id).status == "closed"
    assert kinds(kap12, case.id).count("reclassified") == 2
