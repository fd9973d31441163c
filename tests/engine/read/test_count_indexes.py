"""Counts that must not grow with all history (migration 0044): the outbox without the notices
given up, and /metrics' open cases by stage from an index alone. Each count is checked against
the rows counted by hand first: the plan of a wrong answer proves nothing."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select, update
from support.plans import answered, plan_on_either

from engine.read import operations
from engine.store.models import MAIL_ATTEMPTS, Case, Notification
from engine.write import outputs


def _give_up_every_other_notice(kap12) -> None:
    with kap12.db.writing() as session:
        ids = session.scalars(select(Notification.id).order_by(Notification.id)).all()
        session.execute(update(Notification).where(Notification.id.in_(ids[::2])).values(mail_attempts=MAIL_ATTEMPTS))


def test_the_counts_leave_out_the_mails_given_up_and_count_open_cases_by_stage(flow, kap12):
    for _ in range(3):
        flow.do("rektor", flow.report().id)
    flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    _give_up_every_other_notice(kap12)
    with kap12.db.reading() as session:
        notices = session.execute(select(Notification.mailed_at, Notification.mail_attempts)).all()
        cases = session.execute(select(Case.kind, Case.procedure, Case.stage_code).where(Case.status == "open")).all()
    waiting = sum(1 for mailed, tries in notices if mailed is None and tries < MAIL_ATTEMPTS)
    assert 0 < waiting < len(notices)

    counts = operations.counts(kap12.db)
    assert counts.mails_waiting == waiting
    assert Counter({(k, p, s): n for k, p, s, n in counts.open_cases}) == Counter(tuple(c) for c in cases)
    assert len({s for _, _, s, _ in counts.open_cases}) >= 2


def test_the_counts_and_the_mail_round_read_their_indexes(flow, kap12):
    flow.do("rektor", flow.report().id)
    _give_up_every_other_notice(kap12)
    _counts, sent = answered(kap12.db.engine, lambda: operations.counts(kap12.db))
    sent_mail, claimed = answered(kap12.db.engine, lambda: outputs.mail_waiting(kap12, lambda batch: [None] * len(batch)))
    assert sent_mail >= 1
    [(by_stage, by_stage_parameters)] = [s for s in sent if "FROM cases" in s[0]]
    [(waiting, waiting_parameters)] = [s for s in sent if "FROM notifications" in s[0]]
    [(claim, claim_parameters)] = [s for s in claimed if "FROM notifications JOIN users" in s[0]]
    engine = kap12.db.engine
    # On PostgreSQL: the plan kept for the statement prepared, which must see from its text alone
    # that the partial index holds its rows.
    stage_plan = plan_on_either(engine, by_stage, by_stage_parameters, "enable_seqscan = off")
    assert "ix_cases_open_by_stage" in stage_plan, stage_plan
    if kap12.db.is_sqlite:
        assert "COVERING INDEX ix_cases_open_by_stage" in stage_plan, stage_plan  # no case row is read
    for statement, parameters in ((waiting, waiting_parameters), (claim, claim_parameters)):
        plan = plan_on_either(engine, statement, parameters, "enable_seqscan = off", "enable_bitmapscan = off")
        assert "ix_notifications_outbox" in plan, plan
