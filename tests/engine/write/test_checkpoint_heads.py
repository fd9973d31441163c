"""The hourly checkpoint reads the heads folded through the latest checkpoint from
``checkpoint_heads`` (migration 0045), not every checkpoint ever written: the same checkpoint as
folding them all, while a checkpoint an older release wrote is folded in once, and a head
damaged in the table makes a checkpoint the audit finds wrong, never one that hides a change."""
from __future__ import annotations

from sqlalchemy import select, update

from engine.audit import integrity
from engine.store import history
from engine.store.checkpoint_digest import CHECKPOINT_KIND, checkpoint_data, fold_into, heads_digest
from engine.store.models import CheckpointHead, HistoryEvent
from engine.write import checkpoints


def _as_every_checkpoint_folded(kap12, older_release: bool = False) -> dict:
    """The next checkpoint's data as it was made before the table: every checkpoint folded (by
    an ``older_release``: without the system chain's own head, the digest over the cases')."""
    with kap12.db.reading() as session:
        heads, previous = {}, None
        for event in session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                                HistoryEvent.kind == CHECKPOINT_KIND)
                                     .order_by(HistoryEvent.seq)):
            heads, previous = fold_into(heads, event.data), event.seq
        last = session.execute(select(HistoryEvent.seq, HistoryEvent.hash)
                               .where(HistoryEvent.chain == history.SYSTEM_CHAIN)
                               .order_by(HistoryEvent.seq.desc()).limit(1)).one()
        current = checkpoints._current_heads(session)
    data = checkpoint_data(heads, current, previous, (last.seq, last.hash))
    if older_release:
        del data["system"]
        data["digest"] = heads_digest({**heads, **current})
    return data


def _written(kap12, seq: int) -> dict:
    with kap12.db.reading() as session:
        return session.scalar(select(HistoryEvent.data).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                              HistoryEvent.seq == seq))


def _write_checked(kap12) -> checkpoints.CheckpointWritten:
    wanted = _as_every_checkpoint_folded(kap12)
    written = checkpoints.write(kap12)
    assert _written(kap12, written.seq) == wanted
    return written


def _folds(monkeypatch) -> list[int]:
    """Counts the checkpoints folded from the history (one call of ``fold_into`` each)."""
    calls: list[int] = []

    def counted(heads, data):
        calls.append(1)
        return fold_into(heads, data)

    monkeypatch.setattr(checkpoints, "fold_into", counted)
    return calls


def test_each_checkpoint_is_the_one_folding_every_checkpoint_gives(flow, kap12, monkeypatch):
    first = flow.report()
    _write_checked(kap12)
    flow.do("rektor", first.id)
    second = flow.report()
    _write_checked(kap12)
    flow.do("rektor", second.id)
    folds = _folds(monkeypatch)
    _write_checked(kap12)
    assert folds == []  # no checkpoint of the history read again
    flow.report()
    _write_checked(kap12)
    assert checkpoints.write(kap12, only_if_changed=True) is None  # nothing grew since
    with kap12.db.reading() as session:
        assert integrity.check(session, kap12.history_keys).ok


def test_a_checkpoint_an_older_release_wrote_is_folded_in_once(flow, kap12, monkeypatch):
    case = flow.report()
    _write_checked(kap12)
    flow.do("rektor", case.id)
    with kap12.db.writing() as session:  # an older release's checkpoint: the table not moved on
        history.take_system_chain(session, True)
        history.append(session, history.SYSTEM_CHAIN, kind=CHECKPOINT_KIND, at=kap12.clock.now(),
                       actor=checkpoints.ACTOR, data=_as_every_checkpoint_folded(kap12, older_release=True))
    flow.report()
    folds = _folds(monkeypatch)
    _write_checked(kap12)
    assert len(folds) == 1
    flow.report()
    _write_checked(kap12)
    assert len(folds) == 1
    with kap12.db.reading() as session:
        assert integrity.check(session, kap12.history_keys).ok


def test_a_head_damaged_in_the_table_gives_a_checkpoint_the_audit_finds_wrong(flow, kap12):
    case = flow.report()
    checkpoints.write(kap12)
    flow.do("rektor", case.id)  # the case's chain grows: the next checkpoint must record it
    with kap12.db.writing() as session:  # the table made to say the case's head is already recorded
        seq, digest = session.execute(select(HistoryEvent.seq, HistoryEvent.hash).where(
            HistoryEvent.chain == history.case_chain(case.id)).order_by(HistoryEvent.seq.desc()).limit(1)).one()
        session.execute(update(CheckpointHead).where(CheckpointHead.chain == history.case_chain(case.id))
                        .values(seq=seq, hash=digest))
    checkpoints.write(kap12)
    with kap12.db.reading() as session:
        report = integrity.check(session, kap12.history_keys)
    assert not report.ok
    assert [f for chain in report.chains if chain.chain == history.SYSTEM_CHAIN for f in chain.findings]
