"""Tampering with the history behind the application's back: the database refuses it, and when
someone with the keys to the database removes that guard (here: drops the triggers of a test
database), the hash chain names the case and the event, and re-execution shows what the forged
history would have meant."""
from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from support.migrations import upgrade_from

from engine.audit.replay import verify_case
from engine.service import Kap12
from engine.store import history
from engine.store.checkpoint_digest import digest_of, fold
from engine.store.models import Case, HistoryEvent
from engine.write import checkpoints, first_password
from tests.support.tampering import rehash_system_chain, reword_a_deployment, unguard_history
from webui.cli import main


def _case(flow):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    other = flow.report()  # an untouched neighbour: its chain must stay good
    return case.id, other.id


_unguard = unguard_history


def _event(session, case_id, kind, element=None) -> HistoryEvent:
    query = select(HistoryEvent).where(HistoryEvent.chain == history.case_chain(case_id), HistoryEvent.kind == kind)
    return next(ev for ev in session.scalars(query.order_by(HistoryEvent.seq))
                if element is None or ev.data.get("element") == element)


def _broken(kap12, case_id):
    [result] = kap12.verify([case_id])
    assert not result.ok and result.chain == f"case:{case_id}"
    return result


def test_the_database_refuses_to_change_or_delete_history(flow, kap12, demo):
    case_id, _ = _case(flow)
    for statement in ("UPDATE history_events SET actor = 'x' WHERE case_id = :c",
                      "DELETE FROM history_events WHERE case_id = :c"):
        with pytest.raises(DatabaseError):
            with kap12.db.writing() as session:
                session.execute(text(statement), {"c": case_id})
    assert all(r.ok for r in kap12.verify([case_id]))


def test_a_changed_event_is_named_and_replay_shows_its_effect(flow, kap12, demo):
    case_id, other = _case(flow)
    _unguard(kap12)
    with kap12.db.writing() as session:
        ev = _event(session, case_id, "task_completed", "Task_undersokelse")
        seq = ev.seq
        data = copy.deepcopy(ev.data)
        data["data"]["trygt_skolemiljo"] = "ja"  # "the pupil was safe after all"
        ev.data = data
    result = _broken(kap12, case_id)
    assert result.broken_at == seq and "endret" in result.reason
    assert all(r.ok for r in kap12.verify([other]))
    replay = verify_case(kap12, case_id)
    assert not replay.chain.ok and replay.chain.broken_at == seq
    # Re-run with the forged answer, the case would have closed instead of needing a plan.
    assert not replay.verified and replay.divergences[0].seq == seq + 1
    assert "Task_tiltaksplan" in str(replay.divergences[0].recorded)


def test_a_deleted_event_is_named(flow, kap12, demo):
    case_id, other = _case(flow)
    _unguard(kap12)
    with kap12.db.writing() as session:
        ev = _event(session, case_id, "task_opened", "Task_undersokelse")
        seq = ev.seq
        session.delete(ev)
    result = _broken(kap12, case_id)
    assert result.broken_at == seq + 1 and f"nr. {seq} mangler" in result.reason
    assert all(r.ok for r in kap12.verify([other]))
    assert not verify_case(kap12, case_id).verified  # the task it opened is missing from the record


def test_an_inserted_event_is_named(flow, kap12, demo):
    """A forger who knows the hash recipe inserts a well-formed event in the middle and numbers
    the later events on: the first original event after it no longer fits."""
    case_id, _ = _case(flow)
    _unguard(kap12)
    with kap12.db.writing() as session:
        anchor = _event(session, case_id, "task_opened", "Task_undersokelse")
        later = list(session.scalars(select(HistoryEvent).where(
            HistoryEvent.chain == anchor.chain, HistoryEvent.seq > anchor.seq).order_by(HistoryEvent.seq.desc())))
        for ev in later:  # one by one from the end: (chain, seq) is unique
            ev.seq += 1
            session.flush()
        seq, chain = anchor.seq + 1, anchor.chain
        data = {"view": "case"}
        forged = HistoryEvent(chain=chain, seq=seq, case_id=case_id, at=anchor.at, actor_id=None, actor="Ukjent",
                              kind="case_read", definition_id=None, data=data, prev_hash=anchor.hash,
                              hash=history.event_hash(anchor.hash, chain, seq, anchor.at, None, "Ukjent", "case_read",
                                                      None, data))
        session.add(forged)
    result = _broken(kap12, case_id)
    assert result.broken_at == seq + 1 and "peker ikke" in result.reason


def test_a_forged_step_appended_with_a_valid_hash_is_caught_by_re_execution(flow, kap12, demo):
    """The chain alone cannot tell a well-forged last event (that is why exports carry the
    final hash); re-execution can, when the forged event is an act the stored case never saw."""
    case_id, _ = _case(flow)
    with kap12.db.writing() as session:
        opened = _event(session, case_id, "task_opened", "Task_tiltaksplan")
        history.append(session, opened.chain, kind="task_completed", at=opened.at, actor_id=None, actor="Ukjent",
                       case_id=case_id, definition_id=opened.definition_id,
                       data={"task_id": opened.data["task_id"], "element": "Task_tiltaksplan",
                             "title": opened.data["title"], "form": "tiltaksplan", "data": {"problem": "Forfalsket"}})
    assert all(r.ok for r in kap12.verify([case_id]))
    replay = verify_case(kap12, case_id)
    assert replay.chain.ok and not replay.verified
    assert replay.divergences[0].seq is None or replay.divergences[0].seq > opened.seq


# -- the end of a chain, the checkpoint and the key (issue 11) ------------------------------------
KEY = "nokkel-bare-for-testene-0123456789abcdef"


def _keyed(kap12, key: str = KEY, old: tuple[str, ...] = ()) -> Kap12:
    """The same database seen by a kap12 that has a history key."""
    return Kap12(dataclasses.replace(kap12.settings, history_key=key, history_old_keys=old), clock=kap12.clock)


def _number(kap12, case_id) -> str:
    with kap12.db.reading() as session:
        return session.get(Case, case_id).number


def _cli(kap12, monkeypatch, *args, key: str | None = None):
    """``kap12 verify`` as a county's operator runs it, against this test's database."""
    monkeypatch.setenv("KAP12_DATABASE_URL", kap12.settings.database_url)
    monkeypatch.setenv("KAP12_INSTANCE_DIR", str(kap12.settings.instance_dir))
    if key:
        monkeypatch.setenv("KAP12_HISTORY_KEY", key)
    else:
        monkeypatch.delenv("KAP12_HISTORY_KEY", raising=False)
    result = CliRunner().invoke(main, ["verify", *args], catch_exceptions=False)
    assert "uventet feil" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    return result.exit_code, result.stdout


def _findings(kap12, case_id, **kwargs) -> list[str]:
    [result] = kap12.verify([case_id], **kwargs)
    assert result.label == f"sak {_number(kap12, case_id)}"
    return result.lines()


def _last_events(session, case_id, n):
    return list(session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.case_chain(case_id))
                                .order_by(HistoryEvent.seq.desc()).limit(n)))


def _rewrite_last(session, case_id, *, key: bytes | None = None, key_id=None, move_head: bool = False) -> int:
    """Change the last event's data and recompute its hash the way a forger would."""
    [ev] = _last_events(session, case_id, 1)
    ev.data = {**ev.data, "view": "forfalsket"}
    ev.key_id = key_id
    ev.hash = history.event_hash(ev.prev_hash, ev.chain, ev.seq, ev.at, ev.actor_id, ev.actor, ev.kind,
                                 ev.definition_id, ev.data, key)
    if move_head:
        session.execute(update(Case).where(Case.id == case_id).values(chain_hash=ev.hash))
    return ev.seq


def test_the_case_row_carries_its_chain_head(flow, kap12, demo):
    case_id, other = _case(flow)
    kap12.case(demo.users["avdelingsleder"], case_id)  # a read is an event too, and moves the head
    with kap12.db.reading() as session:
        for cid in (case_id, other):
            case = session.get(Case, cid)
            [last] = _last_events(session, cid, 1)
            assert (case.chain_seq, case.chain_hash) == (last.seq, last.hash)
        assert last.kind == "task_opened"  # the untouched neighbour: its report opened a task
        assert _last_events(session, case_id, 1)[0].kind == "case_read"
    report = kap12.verify_history()
    assert report.ok and [r.label for r in report.chains][0] == "systemkjeden"


def test_a_deleted_chain_is_reported_with_the_case_number(flow, kap12, demo, monkeypatch):
    case_id, other = _case(flow)
    number = _number(kap12, case_id)
    _unguard(kap12)
    with kap12.db.writing() as session:
        session.execute(delete(HistoryEvent).where(HistoryEvent.case_id == case_id))
    assert any("ingen historikk" in line for line in _findings(kap12, case_id))
    assert all(r.ok for r in kap12.verify([other]))
    replay = verify_case(kap12, case_id)
    assert not replay.ok and not replay.verified and "tom" in replay.summary()
    code, out = _cli(kap12, monkeypatch)
    assert code == 1 and f"sak {number}: saken har ingen historikk" in out and "OK (0 hendelser)" not in out
    code, out = _cli(kap12, monkeypatch, "--reexecute", str(case_id))
    assert code == 1 and number in out and "ingen historikk" in out


def test_a_cut_tail_is_reported(flow, kap12, demo, monkeypatch):
    case_id, _ = _case(flow)
    for _ in range(2):
        kap12.case(demo.users["avdelingsleder"], case_id)  # the read log at the end of the chain
    written = kap12.write_checkpoint()
    _unguard(kap12)
    with kap12.db.writing() as session:
        cut = _last_events(session, case_id, 2)
        for ev in cut:
            session.delete(ev)
    recorded, line = _findings(kap12, case_id)
    assert f"hendelse nr. {cut[0].seq}: var med i kontrollpunkt nr. {written.seq}, men finnes ikke lenger" in recorded
    assert f"slutter ved hendelse nr. {cut[1].seq - 1}" in line and f"nr. {cut[0].seq}" in line and "fjernet" in line
    code, out = _cli(kap12, monkeypatch, str(case_id))
    assert code == 1 and f"sak {_number(kap12, case_id)}: historikken slutter" in out


def test_a_rewritten_last_event_with_a_recomputed_hash_is_reported(flow, kap12, demo, monkeypatch):
    case_id, _ = _case(flow)
    kap12.case(demo.users["avdelingsleder"], case_id)
    _unguard(kap12)
    with kap12.db.writing() as session:
        seq = _rewrite_last(session, case_id)
    [line] = _findings(kap12, case_id)
    assert f"hendelse nr. {seq}: er ikke den siste hendelsen saken viser til" in line
    code, out = _cli(kap12, monkeypatch)
    assert code == 1 and f"hendelse nr. {seq}" in out


def test_a_rewrite_that_also_moves_the_head_is_caught_by_the_checkpoint(flow, kap12, demo, monkeypatch):
    case_id, _ = _case(flow)
    kap12.case(demo.users["avdelingsleder"], case_id)
    written = kap12.write_checkpoint()
    _unguard(kap12)
    with kap12.db.writing() as session:
        seq = _rewrite_last(session, case_id, move_head=True)
    [line] = _findings(kap12, case_id)
    assert f"hendelse nr. {seq}: er ikke den hendelsen kontrollpunkt nr. {written.seq} registrerte" in line
    code, out = _cli(kap12, monkeypatch, "--checkpoint", written.digest)
    assert code == 1 and f"sammendrag {written.digest}" in out and f"hendelse nr. {seq}" in out


def test_with_the_key_a_recomputed_hash_is_reported(flow_on, kap12, demo, monkeypatch):
    keyed = _keyed(kap12)
    try:
        case_id, other = _case(flow_on(keyed, demo))
        keyed.case(demo.users["avdelingsleder"], case_id)
        assert keyed.verify_history().ok
        with keyed.db.reading() as session:
            assert {ev.key_id for ev in _last_events(session, case_id, 100)} == {history.key_id(KEY.encode())}
        _unguard(keyed)
        # Without the key, the forger can only make a plain SHA-256 event …
        with keyed.db.writing() as session:
            seq = _rewrite_last(session, case_id, move_head=True)
        assert any(f"nr. {seq}: er skrevet uten historikknøkkel" in line for line in _findings(keyed, case_id))
        # … or one that claims the key but was made with another.
        with keyed.db.writing() as session:
            seq = _rewrite_last(session, case_id, key=b"gjettet", key_id=history.key_id(KEY.encode()), move_head=True)
        assert any(f"nr. {seq}: er endret" in line for line in _findings(keyed, case_id))
        assert all(r.ok for r in keyed.verify([other]))
        code, out = _cli(keyed, monkeypatch, key=KEY)
        assert code == 1 and f"sak {_number(keyed, case_id)}, hendelse nr. {seq}: er endret" in out
        # Without the key nothing signed can be checked: that is a finding, not an "OK".
        code, out = _cli(keyed, monkeypatch, str(other))
        assert code == 1 and "historikknøkkel kap12 ikke har" in out
    finally:
        keyed.close()


def test_a_rotated_key_still_verifies_what_the_old_key_signed(flow_on, kap12, demo):
    old = _keyed(kap12, key="den-gamle-nokkelen-0123456789")
    try:
        case_id, _ = _case(flow_on(old, demo))
    finally:
        old.close()
    rotated = _keyed(kap12, old=("den-gamle-nokkelen-0123456789",))
    try:
        flow_on(rotated, demo).do("avdelingsleder", case_id)  # continues the chain under the new key
        assert rotated.verify_history().ok
        assert not _keyed(kap12).verify_history().ok  # the old key forgotten: those events are unverifiable
    finally:
        rotated.close()


def test_a_garbled_event_is_a_finding_not_a_crash(flow, kap12, demo, monkeypatch):
    case_id, other = _case(flow)
    number = _number(kap12, case_id)
    _unguard(kap12)
    with kap12.db.writing() as session:
        first, second = sorted(_last_events(session, case_id, 3), key=lambda ev: ev.seq)[:2]
        if kap12.db.is_sqlite:  # SQLite keeps any text: unreadable JSON and an unreadable time
            session.execute(text("UPDATE history_events SET data = '{\"view\": ' WHERE id = :i"), {"i": first.id})
            session.execute(text("UPDATE history_events SET at = 'i går' WHERE id = :i"), {"i": second.id})
        else:  # PostgreSQL refuses invalid JSON and times: the garbling is a readable change
            session.execute(text("UPDATE history_events SET data = '{\"view\": 1}' WHERE id = :i"), {"i": first.id})
            session.execute(text("UPDATE history_events SET at = at + interval '1 day' WHERE id = :i"),
                            {"i": second.id})
    lines = _findings(kap12, case_id)
    expected = "kan ikke leses" if kap12.db.is_sqlite else "er endret"
    assert any(f"nr. {first.seq}: {expected}" in line for line in lines), lines
    assert any(f"nr. {second.seq}: {expected}" in line for line in lines), lines
    assert all(r.ok for r in kap12.verify([other]))
    replay = verify_case(kap12, case_id)
    assert not replay.ok
    code, out = _cli(kap12, monkeypatch)
    assert code == 1 and f"sak {number}, hendelse nr. {first.seq}" in out
    code, out = _cli(kap12, monkeypatch, "--reexecute")
    assert code == 1 and number in out


def test_tampering_with_the_checkpoint_is_reported(flow, kap12, demo, monkeypatch):
    case_id, _ = _case(flow)
    kept = kap12.write_checkpoint()
    assert kap12.verify_history(kept_digest=kept.digest).ok
    code, out = _cli(kap12, monkeypatch, "--checkpoint", kept.digest)
    assert code == 0 and f"sammendrag {kept.digest}" in out and "Alt i orden." in out
    _unguard(kap12)
    # Cut the case's tail, and rewrite the checkpoint (and its hash) to match the shorter chain.
    with kap12.db.writing() as session:
        [last] = _last_events(session, case_id, 1)
        session.delete(last)
        session.flush()
        [prev] = _last_events(session, case_id, 1)
        session.execute(update(Case).where(Case.id == case_id).values(chain_seq=prev.seq, chain_hash=prev.hash))
        checkpoint = session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "checkpoint")).one()
        data = copy.deepcopy(checkpoint.data)
        data["changed"][history.case_chain(case_id)] = [prev.seq, prev.hash]
        checkpoint.data = data
        checkpoint.hash = history.event_hash(checkpoint.prev_hash, checkpoint.chain, checkpoint.seq, checkpoint.at,
                                             None, checkpoint.actor, checkpoint.kind, None, data)
    report = kap12.verify_history()
    assert not report.ok and any("sammendrag stemmer ikke" in line for r in report.chains for line in r.lines())
    # A forger who also recomputes the digest is still caught by the digest kept outside.
    with kap12.db.writing() as session:
        checkpoint = session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "checkpoint")).one()
        data = copy.deepcopy(checkpoint.data)
        data["digest"] = digest_of(fold({}, data), data)
        checkpoint.data = data
        checkpoint.hash = history.event_hash(checkpoint.prev_hash, checkpoint.chain, checkpoint.seq, checkpoint.at,
                                             None, checkpoint.actor, checkpoint.kind, None, data)
    assert kap12.verify_history().ok  # inside the database everything agrees now …
    code, out = _cli(kap12, monkeypatch, "--checkpoint", kept.digest)
    assert code == 1 and f"noe kontrollpunkt med sammendraget {kept.digest}" in out  # … but not with the copy


def test_a_rewritten_system_chain_is_caught_by_the_checkpoint_and_the_digest_kept_outside(flow, kap12, demo,
                                                                                          monkeypatch):
    """The system chain records who was given a role and which process version ran: a checkpoint
    records its head too, so the digest kept outside covers it like the cases' chains."""
    _case(flow)
    kept = kap12.write_checkpoint()
    assert kap12.verify_history(kept_digest=kept.digest).ok
    _unguard(kap12)
    with kap12.db.writing() as session:  # a published version's comment rewritten, the chain rehashed
        rehash_system_chain(session, reword_a_deployment(session))
    [system] = [r for r in kap12.verify_history().chains if r.chain == history.SYSTEM_CHAIN]
    assert [f.seq for f in system.findings] == [kept.seq]
    assert "viser til en annen hendelse i systemkjeden" in system.reason
    # A forger who also rewrites the checkpoint's record of it, and its digest …
    with kap12.db.writing() as session:
        checkpoint = session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                                HistoryEvent.seq == kept.seq)).one()
        data = copy.deepcopy(checkpoint.data)
        data["system"] = [kept.seq - 1, checkpoint.prev_hash]
        data["digest"] = digest_of(fold({}, data), data)
        checkpoint.data = data
        rehash_system_chain(session, kept.seq)
    assert kap12.verify_history().ok  # … makes everything inside the database agree,
    code, out = _cli(kap12, monkeypatch, "--checkpoint", kept.digest)
    assert code == 1 and f"noe kontrollpunkt med sammendraget {kept.digest}" in out  # but not with the copy


def test_a_checkpoint_cannot_be_passed_off_as_an_earlier_releases_to_hide_a_rewritten_system_chain(
        flow, kap12, demo, monkeypatch):
    """An earlier release's checkpoint records no system head, so none is checked: a forger who
    moves the kept checkpoint's system head in among the case chains' (where the old digest would
    cover it) and rewrites the system chain must not keep the kept digest."""
    _case(flow)
    kept = kap12.write_checkpoint()
    _unguard(kap12)
    with kap12.db.writing() as session:
        checkpoint = session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                                HistoryEvent.seq == kept.seq)).one()
        data = copy.deepcopy(checkpoint.data)
        data["changed"][history.SYSTEM_CHAIN] = data.pop("system")
        checkpoint.data = data
        rehash_system_chain(session, reword_a_deployment(session))
    report = kap12.verify_history(kept_digest=kept.digest)
    [system] = [r for r in report.chains if r.chain == history.SYSTEM_CHAIN]
    assert not report.ok and {f.seq for f in system.findings} == {kept.seq}
    found = {f.what for f in system.findings}
    assert "kontrollpunktets sammendrag stemmer ikke med kjedehodene det lister" in found  # the digests differ in kind
    assert "kontrollpunktet lister kjeder som ikke er saker (system)" in found
    code, _ = _cli(kap12, monkeypatch, "--checkpoint", kept.digest)
    assert code == 1


def test_a_kept_checkpoint_whose_heads_were_rewritten_is_found_though_not_the_latest(flow, kap12, demo):
    """Only the latest and the kept checkpoint have their digest taken again: the kept one is."""
    case_id, _ = _case(flow)
    kept = kap12.write_checkpoint()
    latest = kap12.write_checkpoint()
    _unguard(kap12)
    with kap12.db.writing() as session:  # the kept checkpoint made to record another head, its digest left
        checkpoint = session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                                HistoryEvent.seq == kept.seq)).one()
        data = copy.deepcopy(checkpoint.data)
        data["changed"][history.case_chain(case_id)] = [1, "0" * 64]
        checkpoint.data = data
        rehash_system_chain(session, kept.seq)
    [system] = [r for r in kap12.verify_history(kept_digest=kept.digest).chains if r.chain == history.SYSTEM_CHAIN]
    found = {(f.seq, f.what) for f in system.findings}
    assert (kept.seq, "kontrollpunktets sammendrag stemmer ikke med kjedehodene det lister") in found
    assert (latest.seq, "kontrollpunktets sammendrag stemmer ikke med kjedehodene det lister") in found


def test_the_sweeper_writes_a_checkpoint_at_most_hourly_and_only_after_changes(flow, kap12, demo):
    case_id, _ = _case(flow)
    first = checkpoints.write_if_due(kap12)
    assert first is not None and first.chains == 2
    assert checkpoints.write_if_due(kap12) is None  # within the hour
    kap12.clock.advance(timedelta(hours=2))
    assert checkpoints.write_if_due(kap12) is None  # nothing changed
    kap12.case(demo.users["avdelingsleder"], case_id)
    kap12.clock.advance(timedelta(hours=2))
    second = checkpoints.write_if_due(kap12)
    assert second is not None and second.changed == 1 and second.digest != first.digest
    report = kap12.verify_history()
    assert report.ok and report.checkpoint.digest == second.digest
    kap12.clock.advance(timedelta(hours=2))
    assert checkpoints.write_if_due(kap12) is None  # nothing changed, not even the checkpoint's own chain
    first_password.give(kap12, "ansatt")  # an act on the system chain alone: the next checkpoint covers it
    assert checkpoints.write_if_due(kap12) is not None


def test_the_migration_fills_in_the_heads_of_existing_chains(flow, kap12, demo):
    case_id, other = _case(flow)
    with kap12.db.reading() as session:
        before = session.execute(select(Case.id, Case.chain_seq, Case.chain_hash).order_by(Case.id)).all()
    upgrade_from(kap12, "0007")
    with kap12.db.reading() as session:
        after = session.execute(select(Case.id, Case.chain_seq, Case.chain_hash).order_by(Case.id)).all()
    assert after == before and all(seq > 1 for _, seq, _ in after)
    assert kap12.verify_history().ok


def test_a_process_without_the_key_is_caught_once_the_key_is_in_use(flow_on, flow, kap12, demo):
    """Events made without the key after the first keyed checkpoint — a worker left without the
    key, or a forger who recomputes plain hashes for a new chain — are findings."""
    keyed = _keyed(kap12)
    try:
        _case(flow_on(keyed, demo))
        keyed.write_checkpoint()
        kap12.clock.advance(timedelta(hours=1))
        unkeyed = flow.report()  # the fixture's kap12 has no key
        lines = _findings(keyed, unkeyed.id)
        assert lines and all("uten historikknøkkel etter at nøkkelen ble tatt i bruk" in line for line in lines)
        assert all(r.ok for r in keyed.verify_history().chains if r.case_id != unkeyed.id)
    finally:
        keyed.close()


def _case_check_as_every_check(kap12, *case_ids) -> list[list[str]]:
    """``integrity.check_case`` (the audit page's, without the whole system chain) finds what
    ``check`` of the same case finds (which folds every checkpoint of the system chain)."""
    from engine.audit import integrity

    found = []
    with kap12.db.reading() as session:
        for case_id in case_ids:
            alone = integrity.check_case(session, kap12.history_keys, case_id).lines()
            assert alone == integrity.check(session, kap12.history_keys, [case_id]).chains[0].lines()
            found.append(alone)
    return found


def test_one_cases_check_finds_what_the_check_of_everything_finds(flow_on, kap12, demo):
    keyed = _keyed(kap12)
    try:
        flow = flow_on(keyed, demo)
        case_id, other = _case(flow)
        keyed.write_checkpoint()
        unrecorded = flow.report().id  # made after the first checkpoint
        keyed.case(demo.users["avdelingsleder"], case_id)
        keyed.clock.advance(timedelta(hours=2))
        keyed.write_checkpoint()
        keyed.case(demo.users["avdelingsleder"], other)  # after the last checkpoint: not yet in one
        assert _case_check_as_every_check(keyed, case_id, other, unrecorded) == [[], [], []]
        _unguard(keyed)
        with keyed.db.writing() as session:
            seq = _rewrite_last(session, case_id, move_head=True)  # caught by the latest checkpoint
            _rewrite_last(session, other, key=b"gjettet", key_id=history.key_id(KEY.encode()), move_head=True)
        found = _case_check_as_every_check(keyed, case_id, other, unrecorded)
        assert any(f"hendelse nr. {seq}" in line for line in found[0]) and found[1] and not found[2]
    finally:
        keyed.close()
