"""Drift: failed deadlines for administrators and process owners, and nobody else."""
from __future__ import annotations

from engine.store.models import PendingTimer
from engine.write.demo import report_data
from engine.write.timers import MAX_ATTEMPTS
from tests.support.web import login, token


def _broken_timer(env) -> PendingTimer:
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    with env.kap12.db.writing() as session:
        row = session.query(PendingTimer).filter_by(case_id=case.id).first()
        row.attempts, row.last_error = MAX_ATTEMPTS, "RuntimeError: uttrykket feilet"
        return row


def test_administrator_sees_and_resolves_an_incident(env):
    timer = _broken_timer(env)
    client = login(env.app, "admin")
    page = client.get("/drift").text
    assert "uttrykket feilet" in page and timer.name in page
    answer = client.post(f"/drift/{timer.id}/prov-igjen", data={"_csrf": token(client, "/drift"), "note": "Rettet"})
    assert answer.status_code == 302
    assert timer.id not in client.get("/drift").text
    history = [e.kind for e in env.kap12.case_history(timer.case_id)]
    assert "incident_resolved" in history


def test_a_resolution_needs_a_note(env):
    timer = _broken_timer(env)
    client = login(env.app, "prosesseier")
    client.post(f"/drift/{timer.id}/prov-igjen", data={"_csrf": token(client, "/drift"), "note": " "})
    assert "uttrykket feilet" in client.get("/drift").text


def test_others_are_refused(env):
    for user in ("ansatt", "rektor", "revisor"):
        assert login(env.app, user).get("/drift").status_code == 403
