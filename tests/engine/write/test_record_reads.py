"""Many reads recorded at once (the overview's export with names, an archive extract): each case
gets its read in its own chain, once, in a transaction for each ``READS_PER_TRANSACTION`` cases
rather than one for each case."""
from __future__ import annotations

from sqlalchemy import event, select

from engine.audit import integrity
from engine.store.events import CASE_READ
from engine.store.models import HistoryEvent
from engine.write import cases


def test_each_case_gets_one_read_in_few_transactions(flow, kap12, demo, monkeypatch):
    ids = [flow.report().id for _ in range(5)]
    monkeypatch.setattr(cases, "READS_PER_TRANSACTION", 2)
    commits = []

    def count(_connection) -> None:
        commits.append(1)

    event.listen(kap12.db.engine, "commit", count)
    try:
        cases.record_reads(kap12, demo.users["rektor"], ids[::-1] + ids[:2], "oversikt-eksport")  # in any order, twice
    finally:
        event.remove(kap12.db.engine, "commit", count)
    assert len(commits) == 3  # 5 cases, 2 a transaction
    with kap12.db.reading() as session:
        reads = session.execute(select(HistoryEvent.case_id, HistoryEvent.actor).where(
            HistoryEvent.kind == CASE_READ, HistoryEvent.data["view"].as_string() == "oversikt-eksport")).all()
        assert sorted(reads) == [(i, "Rune Rektor") for i in sorted(ids)]
        for case_id in ids:
            assert integrity.check_case(session, kap12.history_keys, case_id).ok
