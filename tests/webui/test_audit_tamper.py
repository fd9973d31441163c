"""Damaged history on the pages: the auditors' replay page shows what is wrong (case number,
event, what) instead of failing, and the case page says plainly that its history cannot be read.
A module of its own: it damages its database."""
from __future__ import annotations

from sqlalchemy import text

from engine.write.demo import complete_next, report_data
from tests.support.web import login


def test_a_garbled_event_is_shown_as_a_finding_not_a_500(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    complete_next(env.kap12, env.demo.users["avdelingsleder"], case.id)
    with env.kap12.db.writing() as session:  # a throwaway database: lift the guards, then garble
        session.execute(text("DROP TRIGGER history_events_no_update"))
        # SQLite reads a task's data to keep the partial indexes on it (the year figures', the
        # steps done by task), and refuses JSON it cannot parse: a second guard against this edit.
        session.execute(text("DROP INDEX ix_history_events_deadlines"))
        session.execute(text("DROP INDEX ix_history_events_plans"))
        session.execute(text("DROP INDEX ix_history_events_completed_task"))
        seq = session.execute(text("SELECT MIN(seq) FROM history_events WHERE case_id = :c AND kind = "
                                   "'task_completed'"), {"c": case.id}).scalar()
        session.execute(text("UPDATE history_events SET data = '{\"data\": ' WHERE case_id = :c AND seq = :s"),
                        {"c": case.id, "s": seq})
    auditor = login(env.app, "revisor")
    page = auditor.get(f"/revisjon/saker/{case.id}")
    assert page.status_code == 200
    assert "Hashkjede brutt" in page.text
    assert f"sak {case.number}, hendelse nr. {seq}: kan ikke leses: dataene er ødelagt" in page.text
    assert "historikken kan ikke leses" in page.text  # re-execution says why it could not run
    for path in (f"/revisjon/saker/{case.id}/eksport.json", f"/revisjon/prosesser/{case.definition_id}"):
        page = auditor.get(path)
        assert page.status_code == 409 and "Historikken kan ikke leses" in page.text, path
    leader = login(env.app, "avdelingsleder")
    page = leader.get(f"/saker/{case.id}")
    assert page.status_code == 409 and "Historikken kan ikke leses" in page.text
    api = leader.get(f"/api/v1/cases/{case.id}/history")
    assert api.status_code == 409 and api.headers["Content-Type"].startswith("application/problem+json")
    assert "Historikken kan ikke leses" in api.json["detail"]
