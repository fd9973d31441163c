"""The scale benchmark's bulk path (benchmarks/_bulk.py) makes cases kap12 accepts as its own:
every copied chain verifies, no two cases share a task id, and a copied case can be worked on
through the write path like the case it was copied from."""
from __future__ import annotations

from sqlalchemy import func, select

from benchmarks import _bulk
from engine.store.models import Case, OpenTask


def test_copies_verify_and_can_be_worked_on(flow, kap12, demo):
    reported = flow.report()
    received = flow.report()
    flow.do("avdelingsleder", received.id)
    with kap12.db.reading() as session:
        templates = [_bulk.load_template(session, c.id) for c in (reported, received)]
    _bulk.clone(kap12, templates, 6, [demo.schools[flow.NORDLI]], open_share=1.0, batch=4)

    reports = kap12.verify()
    assert len([r for r in reports if r.case_id]) == 8 and all(r.ok for r in reports), \
        [(r.label, r.findings) for r in reports if not r.ok]
    with kap12.db.reading() as session:
        copies = list(session.scalars(select(Case).where(Case.id > received.id).order_by(Case.id)))
        task_ids = list(session.scalars(select(OpenTask.id)))
        numbers = session.scalar(select(func.count(func.distinct(Case.number))))
    assert len(copies) == 6 and numbers == 8
    assert len(task_ids) == len(set(task_ids)) == 8  # one open task each, none shared
    assert all(c.created_at <= received.created_at and c.chain_seq > 0 for c in copies)

    copy = next(c for c in copies if flow.kinds(c.id) == flow.kinds(received.id))
    before = flow.open_titles(copy.id)
    flow.do("avdelingsleder", copy.id, trygt_skolemiljo="ja")
    assert flow.open_titles(copy.id) != before and flow.open_titles(received.id) == before
    assert all(r.ok for r in kap12.verify([copy.id]))


def test_copies_at_the_templates_times_pass_re_execution(flow, kap12, demo):
    """A copy moved in time has deadlines counted in working days from other days, so
    re-execution finds them changed (it should); one at its template's times is accepted."""
    from engine.audit.replay import verify_case

    received = flow.report()
    flow.do("avdelingsleder", received.id)
    with kap12.db.reading() as session:
        template = _bulk.load_template(session, received.id)
    _bulk.clone(kap12, [template], 1, [demo.schools[flow.NORDLI]], open_share=1.0, spread=False)
    _bulk.clone(kap12, [template], 2, [demo.schools[flow.NORDLI]], open_share=1.0)  # the second moves 7 h
    still, moved = received.id + 1, received.id + 3
    assert verify_case(kap12, still).ok
    assert not verify_case(kap12, moved).ok and all(r.ok for r in kap12.verify([moved]))
