"""Marking notices read: one statement however many are unread, the viewer's own only, and only
those asked for when ids are given."""
from __future__ import annotations

from support.plans import answered


def _unread(kap12, viewer) -> set[int]:
    return {n.id for n in kap12.notices_for(viewer, unread_only=True, limit=500)}


def test_marking_read_is_one_statement_for_the_viewers_own_notices(flow, kap12, demo):
    for _ in range(3):
        flow.report()
    rektor, leader = demo.users["rektor"], demo.users["avdelingsleder"]
    mine, theirs = sorted(_unread(kap12, rektor)), _unread(kap12, leader)
    assert len(mine) >= 3 and theirs
    kap12.mark_notices_read(rektor, [mine[0], *theirs])  # another's ids mark nothing of theirs
    assert _unread(kap12, rektor) == set(mine[1:]) and _unread(kap12, leader) == theirs
    _, sent = answered(kap12.db.engine, lambda: kap12.mark_notices_read(rektor))
    assert [sql.split(" SET ")[0] for sql, _ in sent if sql.startswith("UPDATE")] == ["UPDATE notifications"]
    assert not any(sql.startswith("SELECT") and "FROM notifications" in sql for sql, _ in sent)
    assert _unread(kap12, rektor) == set() and _unread(kap12, leader) == theirs
