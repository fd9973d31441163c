"""A first password (``engine/write/first_password.py``): the administrator gives one on
«Personer og roller» and sees it once; it logs the person out everywhere, opens no session by
itself — only the page to choose one's own, after which it no longer works — and expires. And
the denials: other roles, someone of two counties, oneself, a deactivated person, an
installation without password log-in, a missing CSRF token."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from engine.store import directory, events, history
from engine.store.models import County, HistoryEvent, Notification
from engine.write import first_password
from tests.support.counties import person_of_another_county
from tests.support.web import csrf_of, login

GIVEN = re.compile(r'<p class="first-password"><code>([a-z2-9-]+)</code></p>')


def _give(client, username: str):
    token = csrf_of(client.get("/drift/personer").text)
    return client.post("/drift/personer/passord", data={"_csrf": token, "brukernavn": username})


def _log_in(client, username: str, password: str, **more):
    token = csrf_of(client.get("/logg-inn").text)
    return client.post("/logg-inn", data={"_csrf": token, "username": username, "password": password, **more})


def test_the_person_chooses_their_own_at_the_first_log_in_and_the_first_no_longer_works(fresh_env):
    env = fresh_env
    teacher = login(env.app, "ansatt")
    admin = login(env.app, "admin")
    assert "Gi førstegangspassord" in admin.get("/drift/personer").text
    page = _give(admin, "ansatt")
    assert page.status_code == 200 and "Førstegangspassord for Kari Lærer (ansatt)" in page.text
    first = GIVEN.search(page.text)[1]
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", first)
    assert "Passordet vises bare nå" in page.text and first not in admin.get("/drift/personer").text
    assert teacher.get("/oppgaver").status_code == 302  # logged out everywhere
    assert _log_in(env.app.test_client(), "ansatt", "demo1234").status_code == 401  # the old one is gone

    browser = env.app.test_client()
    asked = _log_in(browser, "ansatt", first, next="/saker")
    assert asked.status_code == 200 and "Velg ditt eget passord" in asked.text
    assert browser.get("/oppgaver").status_code == 302  # no session yet
    assert asked.headers["Cache-Control"] == "no-store"  # the page carries the first password
    unlike = _log_in(browser, "ansatt", first, next="/saker", new="et-langt-passord", repeat="et-annet-passord")
    assert unlike.status_code == 422 and "Du skrev to forskjellige nye passord." in unlike.text
    same = _log_in(browser, "ansatt", first, new=first, repeat=first)
    assert same.status_code == 422 and "Det nye passordet må være et annet enn det gamle." in same.text
    done = _log_in(browser, "ansatt", first, next="/saker", new="et-langt-passord", repeat="et-langt-passord")
    assert done.status_code == 302 and done.location.endswith("/saker")
    assert browser.get("/oppgaver").status_code == 200
    assert _log_in(env.app.test_client(), "ansatt", first).status_code == 401
    assert _log_in(env.app.test_client(), "ansatt", "et-langt-passord").status_code == 302

    with env.kap12.db.reading() as session:  # recorded for the county's auditors; never the password
        [event] = session.scalars(select(HistoryEvent).where(HistoryEvent.chain == history.SYSTEM_CHAIN,
                                                             HistoryEvent.kind == events.DIRECTORY_CHANGED))
    assert event.data["people"] == [{"username": "ansatt", "name": "Kari Lærer", "first_password": True}]
    assert event.actor == "Arne Administrator" and first not in str(event.data)
    history_page = login(env.app, "revisor").get("/revisjon/system").text
    assert "ansatt (Kari Lærer): fikk et førstegangspassord" in history_page
    assert "Førstegangspassord gitt i Innlandet fylkeskommune (demo)" in history_page
    assert "Deaktivert i" not in history_page  # the same kind of event as a deactivation, not one
    notices = browser.get("/varsler").text  # she is told, in kap12 and by mail (never the password)
    assert "Nytt førstegangspassord i kap12" in notices and "Arne Administrator har gitt deg et førstegangspassord" in notices
    assert first not in notices


def test_a_first_password_expires(fresh_env):
    env = fresh_env
    wall = env.app.extensions["kap12.session_clock"]  # log-ins go by the wall clock, not the cases'
    wall.set(env.clock.now())
    first = first_password.give(env.kap12, "rektor", now=wall.now()).password
    wall.advance(first_password.VALID_FOR + timedelta(minutes=1))
    refused = _log_in(env.app.test_client(), "rektor", first)
    assert refused.status_code == 401 and "Førstegangspassordet er utløpt. Be administratoren om et nytt." in refused.text
    late = _log_in(env.app.test_client(), "rektor", first, new="et-langt-passord", repeat="et-langt-passord")
    assert late.status_code == 401
    assert _log_in(env.app.test_client(), "rektor", "et-langt-passord").status_code == 401


def test_who_may_give_one(fresh_env):
    env = fresh_env
    for username in ("rektor", "skoleeier", "revisor", "ansatt"):
        assert _give(login(env.app, username), "ansatt2").status_code == 403
    admin = login(env.app, "admin")
    own = _give(admin, "admin")
    assert "Ditt eget passord bytter du under Profil." in admin.get(own.location).text
    person_of_another_county(env.kap12, "revisor", "fremmed")  # only of the other county
    assert _give(admin, "fremmed").status_code == 404  # not theirs to know of
    with env.kap12.db.writing() as session:  # Nordli's rektor is also the other county's process owner
        other = session.scalars(select(County).where(County.name == "Et annet fylke")).one()
        directory.grant(session, directory.user_by_username(session, "rektor"), "prosesseier", county=other)
    both = _give(admin, "rektor")
    assert "bare driften kan gi personen et passord" in admin.get(both.location).text
    token = csrf_of(admin.get("/drift/personer").text)
    admin.post("/drift/personer/deaktiver", data={"_csrf": token, "brukernavn": "ansatt2", "grunn": "sluttet"})
    assert "er deaktivert" in admin.get(_give(admin, "ansatt2").location).text
    assert admin.post("/drift/personer/passord", data={"brukernavn": "ansatt"}).status_code == 400  # no CSRF
    with env.kap12.db.reading() as session:
        recorded = session.scalars(select(HistoryEvent.data).where(HistoryEvent.kind == events.DIRECTORY_CHANGED))
        assert not any(p.get("first_password") for data in recorded for p in data["people"])


def test_none_where_log_in_is_through_the_log_in_service_only(fresh_env):
    env = fresh_env
    admin = login(env.app, "admin")
    env.kap12.settings = replace(env.kap12.settings, local_login=False)
    assert "Gi førstegangspassord" not in admin.get("/drift/personer").text
    refused = _give(admin, "ansatt")
    assert "Innlogging med brukernavn og passord er slått av her" in admin.get(refused.location).text


def _key(env, username: str) -> str:
    with env.kap12.db.writing() as session:
        user = directory.user_by_username(session, username)
        return directory.create_api_token(session, user, "integrasjon", env.kap12.clock.now())[1]


def test_a_first_password_revokes_the_persons_api_keys(fresh_env):
    """A key made by someone who took the account over would outlive the password it replaces."""
    env = fresh_env
    api = env.app.test_client()
    keys = [_key(env, "ansatt"), _key(env, "ansatt")]
    others = _key(env, "ansatt2")
    for key in (*keys, others):
        assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    page = _give(login(env.app, "admin"), "ansatt")
    assert "De 2 API-nøklene personen hadde, er trukket tilbake." in page.text
    for key in keys:
        assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {others}"}).status_code == 200
    with env.kap12.db.reading() as session:
        [event] = session.scalars(select(HistoryEvent).where(HistoryEvent.kind == events.DIRECTORY_CHANGED))
        [notice] = session.scalars(select(Notification).where(Notification.kind == first_password.KIND))
    assert event.data["people"][0]["keys_revoked"] == 2
    assert "API-nøklene dine er trukket tilbake" in notice.body
    assert "ansatt (Kari Lærer): fikk et førstegangspassord, 2 API-nøkler trukket tilbake" in \
        login(env.app, "revisor").get("/revisjon/system").text
    again = first_password.give(env.kap12, "ansatt")  # none left: nothing said of keys
    assert again.keys_revoked == 0
