"""Tampering with the history behind the application's back: the database refuses it, and when
someone with the keys to the database removes that guard (here: drops the triggers of a test
database), the hash chain names the case and the event, and re-execution shows what the forged
history would have meant."""
from __future__ import annotations

import copy

import pytest
from flow import do, report
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from engine.audit.replay import verify_case
from engine.store import history
from engine.store.models import HistoryEvent


def _case(kap12, demo):
    case = report(kap12, demo)
    do(kap12, demo, "avdelingsleder", case.id, "Motta og registrere melding")
    do(kap12, demo, "avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    other = report(kap12, demo)  # an untouched neighbour: its chain must stay good
    return case.id, other.id


def _unguard(kap12):
    """Only ever on a throwaway test database."""
    with kap12.db.writing() as session:
        for trigger in ("history_events_no_update", "history_events_no_delete"):
            on = "" if kap12.db.is_sqlite else " ON history_events"
            session.execute(text(f"DROP TRIGGER {trigger}{on}"))


def _event(session, case_id, kind, element=None) -> HistoryEvent:
    query = select(HistoryEvent).where(HistoryEvent.chain == history.case_chain(case_id), HistoryEvent.kind == kind)
    return next(ev for ev in session.scalars(query.order_by(HistoryEvent.seq))
                if element is None or ev.data.get("element") == element)


def _broken(kap12, case_id):
    [result] = kap12.verify([case_id])
    assert not result.ok and result.chain == f"case:{case_id}"
    return result


def test_the_database_refuses_to_change_or_delete_history(kap12, demo):
    case_id, _ = _case(kap12, demo)
    for statement in ("UPDATE history_events SET actor = 'x' WHERE case_id = :c",
                      "DELETE FROM history_events WHERE case_id = :c"):
        with pytest.raises(DatabaseError):
            with kap12.db.writing() as session:
                session.execute(text(statement), {"c": case_id})
    assert all(r.ok for r in kap12.verify([case_id]))


def test_a_changed_event_is_named_and_replay_shows_its_effect(kap12, demo):
    case_id, other = _case(kap12, demo)
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


def test_a_deleted_event_is_named(kap12, demo):
    case_id, other = _case(kap12, demo)
    _unguard(kap12)
    with kap12.db.writing() as session:
        ev = _event(session, case_id, "task_opened", "Task_undersokelse")
        seq = ev.seq
        session.delete(ev)
    result = _broken(kap12, case_id)
    assert result.broken_at == seq + 1 and f"nr. {seq} mangler" in result.reason
    assert all(r.ok for r in kap12.verify([other]))
    assert not verify_case(kap12, case_id).verified  # the task it opened is missing from the record


def test_an_inserted_event_is_named(kap12, demo):
    """A forger who knows the hash recipe inserts a well-formed event in the middle and numbers
    the later events on: the first original event after it no longer fits."""
    case_id, _ = _case(kap12, demo)
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


def test_a_forged_step_appended_with_a_valid_hash_is_caught_by_re_execution(kap12, demo):
    """The chain alone cannot tell a well-forged last event (that is why exports carry the
    final hash); re-execution can, when the forged event is an act the stored case never saw."""
    case_id, _ = _case(kap12, demo)
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
