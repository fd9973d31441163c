"""The one write path: restarts, racing completions, nothing half-written, versions pinned."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import undefer
from support.plans import answered, statements_of

from engine import access
from engine.errors import Conflict, Denied, InvalidInput, NotFound
from engine.store.models import Case, DefinitionVersion, HistoryEvent, OpenTask, OpenTaskRole
from engine.versions.example_data import example_data
from engine.write.demo import ensure_directory
from processes import forms
from processes.messages import Message


def test_case_survives_a_restart(flow, flow_on, make_kap12, kap12, demo, db_url, tmp_path, clock):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    kap12.close()
    again = make_kap12(db_url, tmp_path, clock)  # a new process: new engine, new caches, same database
    try:
        restarted = flow_on(again, ensure_directory(again))
        assert restarted.open_titles(case.id) == ["Undersøke saken"]
        restarted.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
        restarted.do("avdelingsleder", case.id, "Avslutte og dokumentere saken")
        assert restarted.status(case.id).status == "closed"
        assert all(r.ok for r in again.verify([case.id]))
    finally:
        again.close()


def test_racing_completions_exactly_one_wins(flow, kap12, demo):
    case = flow.report()
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
    assert flow.kinds(case.id).count("task_completed") == 1
    assert flow.open_titles(case.id) == ["Undersøke saken"]
    assert all(r.ok for r in kap12.verify([case.id]))


def test_a_report_does_not_wait_for_another_report_still_in_its_step(flow, kap12, demo, monkeypatch):
    """Reports in a county are independent: while one report's step is still open (its case
    row inserted, not yet committed), another report at the same time goes through. On
    PostgreSQL the two run side by side (SQLite has one writer at a time by design)."""
    if kap12.db.is_sqlite:
        pytest.skip("SQLite writes one transaction at a time")
    inside, release = threading.Event(), threading.Event()
    finish = kap12.writer.finish

    def held_open(step):
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(30)
        finish(step)

    monkeypatch.setattr(kap12.writer, "finish", held_open)
    made: dict[str, int] = {}
    first = threading.Thread(target=lambda: made.update(first=flow.report().id), name="first")
    first.start()
    try:
        assert inside.wait(30)
        second = threading.Thread(target=lambda: made.update(second=flow.report().id), name="second")
        second.start()
        second.join(10)
        assert not second.is_alive() and "second" in made, "the second report waited for the first one's commit"
    finally:
        release.set()
        first.join(30)
    numbers = {case_id: flow.status(case_id).number for case_id in made.values()}
    assert len(set(numbers.values())) == 2 and all(n.startswith("20") for n in numbers.values()), numbers
    assert all(r.ok for r in kap12.verify(list(made.values())))


def test_second_completion_after_the_first_is_a_plain_conflict(flow, kap12, demo):
    case = flow.report()
    task = kap12.tasks_for(demo.users["avdelingsleder"])[0]
    data = example_data(forms.get_form(task.form_key), kap12.clock.now().date())
    kap12.complete(demo.users["avdelingsleder"], task.id, data)
    with pytest.raises(Conflict, match="allerede utført av Anne Avdelingsleder"):
        kap12.complete(demo.users["rektor"], task.id, data)
    assert flow.kinds(case.id).count("task_completed") == 1


def test_invalid_form_changes_nothing(flow, kap12, demo):
    case = flow.report()
    before = flow.status(case.id)
    task = kap12.tasks_for(demo.users["avdelingsleder"])[0]
    with pytest.raises(InvalidInput) as err:
        kap12.complete(demo.users["avdelingsleder"], task.id, {"mottatt_vurdering": "  ", "ukjent": 1})
    assert "mottatt_vurdering" in err.value.errors and "ukjent" in err.value.errors
    after = flow.status(case.id)
    assert (after.state, after.lock_version) == (before.state, before.lock_version)
    assert flow.open_titles(case.id) == ["Motta og registrere melding"]
    assert flow.kinds(case.id) == ["reported", "task_opened"]


def test_a_crash_inside_the_unit_of_work_writes_nothing(flow, kap12, demo, monkeypatch):
    case = flow.report()
    before = flow.status(case.id)
    with kap12.db.reading() as s:
        events_before = s.scalar(select(func.count()).select_from(HistoryEvent))
    from engine.write import projection_rows
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(projection_rows, "write", explode)
    task = kap12.tasks_for(demo.users["avdelingsleder"])[0]
    with pytest.raises(RuntimeError):
        kap12.complete(demo.users["avdelingsleder"], task.id, example_data(forms.get_form(task.form_key), kap12.clock.now().date()))
    monkeypatch.undo()
    after = flow.status(case.id)
    assert (after.state, after.lock_version) == (before.state, before.lock_version)
    with kap12.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(HistoryEvent)) == events_before
        assert s.get(OpenTask, task.id) is not None


def test_state_is_stored_without_the_spec(flow, kap12, demo):
    case = flow.report()
    stored = json.loads(flow.status(case.id).state)
    assert "spec" not in stored and "subprocess_specs" not in stored
    # Subprocesses name their spec; the spec itself lives once, in the definition version.
    assert all(isinstance(sp["spec"], str) for sp in stored["subprocesses"].values())


def _renamed_receive_task(kap12) -> bytes:
    xml = (kap12.settings.bpmn_dir / "prosedyre_a.bpmn").read_text(encoding="utf-8")
    assert 'name="Motta og registrere melding"' in xml
    return xml.replace('name="Motta og registrere melding"', 'name="Motta, registrere og vurdere melding"').encode()


def test_running_case_stays_on_its_version(flow, kap12, demo):
    old = flow.report()
    results = kap12.deploy([("prosedyre_a.bpmn", _renamed_receive_task(kap12))], actor=None, comment="Nytt navn")
    by_process = {r.process_id: r for r in results}
    # The procedure and the routing that calls it get new versions; oppfolging is untouched.
    assert by_process["prosedyre_a"].version == 2 and by_process["prosedyre_a"].created
    assert by_process["kap12_sak"].version == 2
    assert "oppfolging" not in by_process
    new = flow.report()
    assert flow.open_titles(old.id) == ["Motta og registrere melding"]
    assert flow.open_titles(new.id) == ["Motta, registrere og vurdere melding"]
    flow.do("avdelingsleder", old.id, "Motta og registrere melding")
    flow.do("avdelingsleder", old.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", old.id, "Avslutte og dokumentere saken")
    with kap12.db.reading() as s:
        versions = {c.id: s.get(DefinitionVersion, c.definition_id).version for c in s.scalars(select(Case))}
    assert versions == {old.id: 1, new.id: 2}
    assert flow.status(old.id).status == "closed"


def test_a_process_reads_a_version_for_its_first_step_on_it_and_never_again(flow, flow_on, make_kap12, kap12,
                                                                            demo, db_url, tmp_path, clock):
    """What a step needs of its case's version (the specs and kap12's reading of the diagram) is
    kept per process by the version's id, not joined into every step's query for the case."""
    first, second = flow.report(), flow.report()
    kap12.close()
    again = make_kap12(db_url, tmp_path, clock)  # a new process: nothing cached
    try:
        restarted = flow_on(again, ensure_directory(again))

        def version_reads(case_id: int) -> list[str]:
            sent = statements_of(again.db.engine, lambda: restarted.do("avdelingsleder", case_id))
            return [sql for sql, _ in sent if "definition_versions" in sql]

        assert len(version_reads(first.id)) == 1
        assert version_reads(second.id) == []
        assert version_reads(first.id) == []
        assert restarted.open_titles(first.id) == ["Avslutte og dokumentere saken"]
    finally:
        again.close()


def test_deploying_the_same_content_twice_is_a_no_op(kap12):
    again = kap12.init()
    assert again and not any(r.created for r in again)
    bundled = len(list(kap12.settings.bpmn_dir.glob("*.bpmn")))
    with kap12.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(DefinitionVersion)) == bundled
    deploys = [e for e in kap12.verify() if e.chain == "system"]
    assert deploys[0].events == bundled and deploys[0].ok


def test_timers_are_rebuilt_identically_from_the_workflow(flow, kap12, demo):
    """The timer and task rows are projections: rebuilding them from the stored workflow gives
    the same rows."""
    from engine.write.projection import snapshot

    case = flow.report()
    kap12.clock.advance(timedelta(hours=3))
    kap12.sweep_timers()
    with kap12.db.reading() as s:
        row = s.get(Case, case.id, options=[undefer(Case.state)])
        snap = snapshot(kap12.writer.load_workflow(row), row.definition.meta)
    assert sorted(t.id for t in snap.tasks) == sorted(t.id for t in kap12.case_tasks(case.id))
    assert sorted((t.id, t.due_at) for t in snap.timers) == sorted((t.id, t.due_at) for t in kap12.case_timers(case.id))


def test_a_new_case_writes_its_rows_without_looking_for_rows_it_cannot_have(flow, kap12, demo):
    """A report makes its case in the same step: the step writes the case's task, role and timer
    rows without first reading which it has (two statements a report), and writes all of them."""
    from engine.write.projection import snapshot

    case, sent = answered(kap12.db.engine, flow.report)
    looked = [sql for sql, _ in sent if sql.startswith("SELECT") and any(
        f"FROM {table}" in sql for table in ("open_tasks", "open_task_roles", "pending_timers"))]
    assert looked == []
    with kap12.db.reading() as s:
        row = s.get(Case, case.id, options=[undefer(Case.state)])
        snap = snapshot(kap12.writer.load_workflow(row), row.definition.meta)
        roles = {(r.task_id, r.role) for r in s.scalars(select(OpenTaskRole).where(OpenTaskRole.case_id == case.id))}
    assert snap.tasks and snap.timers
    assert sorted((t.id, t.element_id) for t in snap.tasks) == sorted(
        (t.id, t.element_id) for t in kap12.case_tasks(case.id))
    assert roles == {(t.id, role) for t in snap.tasks for role in t.roles}
    assert sorted((t.id, t.due_at) for t in snap.timers) == sorted((t.id, t.due_at) for t in kap12.case_timers(case.id))


def test_a_long_follow_up_keeps_its_working_state_small(flow, kap12, demo):
    """Forty evaluation rounds: the stored workflow stops growing, the case still runs to its
    end, and the history keeps every step."""
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    def tomorrow() -> str:  # evaluation dates are never in the past; one round a day
        return (kap12.clock.now() + timedelta(days=1)).date().isoformat()

    flow.do("avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato=tomorrow())
    sizes = []
    for _ in range(40):
        flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
        kap12.clock.advance(timedelta(days=1))
        kap12.sweep_timers()
        flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="fortsette",
           evalueringsdato=tomorrow())
        sizes.append(len(flow.status(case.id).state))
    assert max(sizes[20:]) <= max(sizes[:20]) * 1.05, sizes  # a sawtooth, not a ramp
    flow.do("avdelingsleder", case.id, "Gjennomføre tiltak")
    kap12.clock.advance(timedelta(days=1))
    kap12.sweep_timers()
    flow.do("avdelingsleder", case.id, "Evaluere tiltakene", evaluering_resultat="trygt")
    flow.do("avdelingsleder", case.id, "Avslutte og dokumentere saken")
    assert flow.status(case.id).status == "closed"
    assert flow.kinds(case.id).count("task_completed") == 3 + 80 + 3


def test_reclassified_twice_and_back(flow, kap12, demo):
    case = flow.report()
    kap12.reclassify(demo.users["rektor"], case.id, "ansatt", "Det var en lærer.", "ansatt2")
    kap12.reclassify(demo.users["skoleeier"], case.id, "elev", "Likevel en elev.")
    assert flow.status(case.id).procedure == "A"
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", case.id, "Avslutte og dokumentere saken")
    assert flow.status(case.id).status == "closed"
    assert flow.kinds(case.id).count("reclassified") == 2


def test_a_case_read_checks_access_and_takes_the_lock_in_one_statement(flow, kap12, demo):
    """Opening a case asks the access policy and locks the row whose chain head its read event
    moves on, in one statement; then the event. A person outside the case's circle, or one
    refused this view, leaves no event and locks nothing they may not see."""
    case = flow.report()
    before = len(kap12.case_history(case.id))
    (found, level), sent = answered(kap12.db.engine, lambda: kap12.case(demo.users["rektor"], case.id, view="case"))
    assert (found.id, found.school.name, level) == (case.id, case.school.name, "full")
    reads = [sql for sql, _ in sent if sql.lstrip().startswith("SELECT")]
    assert len(reads) == 1 and "FROM cases" in reads[0]
    if not kap12.db.is_sqlite:
        assert reads[0].rstrip().endswith("FOR UPDATE OF cases")
    written = [sql for sql, _ in sent if not sql.lstrip().startswith(("SELECT", "BEGIN"))]
    assert [sql.split(" SET ")[0].split(" (")[0] for sql in written] == ["INSERT INTO history_events", "UPDATE cases"]

    def refused(_case, _level):
        raise Denied(Message("Ikke for deg."))

    with pytest.raises(NotFound):
        kap12.case(demo.users["rektor2"], case.id)  # another school's rektor
    with pytest.raises(Denied):
        kap12.case(demo.users["rektor"], case.id, view="document", refuse=refused)
    events = kap12.case_history(case.id)
    assert len(events) == before + 1 and events[-1].kind == "case_read" and events[-1].data == {"view": "case"}


def test_reads_of_one_case_at_once_keep_its_chain(flow, kap12, demo):
    """Many people open a case at the same moment: each read is an event of its own, one after
    another in the case's chain, as the lock the access check takes lets them."""
    case = flow.report()
    before = len(kap12.case_history(case.id))
    readers = ["rektor", "avdelingsleder", "revisor", "ansatt"] * 3
    barrier = threading.Barrier(len(readers))
    failed: list[BaseException] = []

    def read(user):
        barrier.wait()
        try:
            kap12.case(demo.users[user], case.id)
        except BaseException as err:  # noqa: BLE001 - the test reports any failure below
            failed.append(err)

    threads = [threading.Thread(target=read, args=(u,)) for u in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == []
    events = kap12.case_history(case.id)
    assert len(events) == before + len(readers)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(r.ok for r in kap12.verify([case.id]))


def test_a_refused_read_locks_nothing(flow, kap12, demo):
    """The access check that locks the case row locks it only for a viewer who may read the case:
    another school's rektor asking for it neither locks it nor waits for a step that holds it."""
    if kap12.db.is_sqlite:
        pytest.skip("SQLite has no row locks: its writing transaction holds the database")
    case = flow.report()

    def locked_elsewhere() -> bool:
        with kap12.db.engine.connect() as other:
            other.exec_driver_sql("BEGIN READ WRITE")
            try:
                other.execute(text("SELECT id FROM cases WHERE id = :id FOR UPDATE NOWAIT"), {"id": case.id})
            except OperationalError:
                return True
            finally:
                other.rollback()
            return False

    for who, may in (("rektor2", False), ("rektor", True)):
        with kap12.db.writing() as session:
            found = access.case_with_level(session, demo.users[who], case.id, lock=True)
            assert (found is not None) == may
            assert locked_elsewhere() == may, who


def _completion_of_the_receipt(kap12, demo, case_id):
    """The statements and transactions of completing the case's first task, as rektor."""
    from sqlalchemy import event

    rektor = demo.users["rektor"]
    [task] = [t for t in kap12.tasks_for(rektor) if t.case_id == case_id]
    payload = example_data(forms.get_form(task.form_key), kap12.clock.now().date())
    began = []

    def count(connection):
        began.append(connection)

    event.listen(kap12.db.engine, "begin", count)
    try:
        _, sent = answered(kap12.db.engine, lambda: kap12.complete(rektor, task.id, payload))
    finally:
        event.remove(kap12.db.engine, "begin", count)
    return [sql for sql, _ in sent if sql != "BEGIN"], len(began)


def test_a_completion_is_one_transaction_whose_statements_do_not_grow_with_the_history(flow, kap12, demo):
    """What ``benchmarks/engine.py`` measures, held here: a task completed in one transaction,
    with as many statements for a case opened a hundred times as for a new one (the step reads
    the chain's head from the case row, never the history)."""
    fresh = flow.report()
    read_often = flow.report()
    for _ in range(100):
        kap12.case(demo.users["rektor"], read_often.id)
    statements, transactions = _completion_of_the_receipt(kap12, demo, fresh.id)
    again, transactions_again = _completion_of_the_receipt(kap12, demo, read_often.id)
    assert transactions == transactions_again == 1
    assert [sql.split("\n")[0] for sql in statements] == [sql.split("\n")[0] for sql in again]
    assert len(statements) <= 20, statements
