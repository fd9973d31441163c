"""The version page survives a stored version that no longer reads (it used to be a 500), and an
administrator withdraws a version that no case uses from it; a process owner cannot, and a
version in use cannot be withdrawn."""
from __future__ import annotations

from sqlalchemy import select

from engine.store import events
from engine.store.models import HistoryEvent
from engine.versions import definitions
from tests.support.web import login, token


def _withdraw(client, process_id: str, number: int, reason: str):
    return client.post(f"/prosesser/{process_id}/versjon/{number}/trekk-tilbake",
                       data={"_csrf": token(client, f"/prosesser/{process_id}/versjon/{number}"), "begrunnelse": reason})


def _withdrawn(env) -> list[dict]:
    with env.kap12.db.reading() as session:
        return [e.data for e in session.scalars(select(HistoryEvent).where(HistoryEvent.kind == events.VERSION_WITHDRAWN))]


def test_a_broken_stored_version_is_shown_and_withdrawn_by_an_administrator(break_stored_version, env):
    broken = break_stored_version(env.kap12, "prosedyre_c")
    owner = login(env.app, "prosesseier")
    page = owner.get(f"/prosesser/prosedyre_c/versjon/{broken.version}")
    assert page.status_code == 200
    assert "kan ikke leses igjen" in page.text
    assert "trekk-tilbake" not in page.text  # a process owner is not offered the act
    assert owner.get("/prosesser").status_code == 200

    denied = _withdraw(owner, "prosedyre_c", broken.version, "vil fjerne den")
    assert denied.status_code == 403
    assert _withdrawn(env) == []

    admin = login(env.app, "admin")
    assert "trekk-tilbake" in admin.get(f"/prosesser/prosedyre_c/versjon/{broken.version}").text
    done = _withdraw(admin, "prosedyre_c", broken.version, "Lagret med en entitet.")
    assert done.status_code == 302 and done.headers["Location"].endswith("/prosesser")
    assert "er trukket tilbake" in admin.get("/prosesser").text
    assert [e["version"] for e in _withdrawn(env)] == [broken.version]
    assert admin.get(f"/prosesser/prosedyre_c/versjon/{broken.version}").status_code == 404


def test_a_version_in_use_is_kept_with_a_plain_message(env):
    from engine.write.demo import report_data

    env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    with env.kap12.db.reading() as session:
        used = definitions.latest_version(session, "kap12_sak").version
    admin = login(env.app, "admin")
    refused = _withdraw(admin, "kap12_sak", used, "prøver")
    assert refused.status_code == 302
    assert "brukes av" in admin.get(refused.headers["Location"]).text
    empty = _withdraw(admin, "kap12_sak", used, " ")
    assert "Skriv en begrunnelse" in admin.get(empty.headers["Location"]).text
    with env.kap12.db.reading() as session:
        assert definitions.latest_version(session, "kap12_sak").version == used
