"""Server-side log-in sessions: log-out, the idle timeout, the day's lifetime, a changed password
and an administrator's "log out everywhere" each end the session in the database, so a copy
of the cookie is worth nothing afterwards. On SQLite and on PostgreSQL."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.read import sessions as live_sessions
from engine.store import directory
from engine.store.models import User, WebSession
from engine.write import demo, login_throttle
from tests.support.web import csrf_of, login
from tests.webui.cli_support import invoker


@pytest.fixture
def clock_back(any_env):
    """The log-ins' own clock (wall time), held still for the test and let go afterwards."""
    clock = any_env.app.extensions["kap12.session_clock"]
    clock.set(clock.now())
    yield clock
    clock.unfreeze()


def _copy(client, app):
    """A second browser holding a copy of the first one's cookie (as an attacker would)."""
    cookie = client.get_cookie("kap12_session")
    thief = app.test_client()
    thief.set_cookie("kap12_session", cookie.value)
    return thief


def _person(any_env, username: str, password: str = "gammelt-passord") -> str:
    with any_env.kap12.db.writing() as session:
        if session.scalars(select(User).where(User.username == username)).first() is None:
            directory.create_user(session, username, username.title(), password=password, email=None,
                                  now=any_env.kap12.clock.now())
    return username


def test_a_cookie_copied_before_log_out_no_longer_works_after_it(any_env):
    client = login(any_env.app, "ansatt")
    thief = _copy(client, any_env.app)
    assert thief.get("/oppgaver").status_code == 200  # the copy works while the session lives
    client.post("/logg-ut", data={"_csrf": csrf_of(client.get("/oppgaver").text)})
    for who in (client, thief):
        response = who.get("/oppgaver")
        assert response.status_code == 302 and "/logg-inn" in response.location
    assert thief.get("/api/v1/me").status_code == 401


def test_the_cookie_holds_only_a_token_whose_hash_is_stored(any_env):
    client = login(any_env.app, "avdelingsleder")
    with client.session_transaction() as session:
        token = session["sid"]
        assert "username" not in session
    with any_env.kap12.db.reading() as session:
        row = session.scalars(select(WebSession).where(
            WebSession.token_hash == hashlib.sha256(token.encode()).hexdigest())).one()
        assert row.user_id == any_env.demo.users["avdelingsleder"].id and row.ended_at is None
        assert session.scalars(select(WebSession).where(WebSession.token_hash == token)).first() is None


def test_each_log_in_is_a_new_session(any_env):
    client = login(any_env.app, "ansatt")
    with client.session_transaction() as session:
        first = session["sid"]
    page = client.get("/logg-inn?next=/saker")
    assert page.status_code == 302  # already logged in
    client.post("/logg-inn", data={"_csrf": csrf_of(client.get("/profil").text), "username": "ansatt",
                                   "password": demo.PASSWORD})
    with client.session_transaction() as session:
        assert session["sid"] != first


def test_moving_the_case_clock_logs_no_one_out(any_env):
    client = login(any_env.app, "avdelingsleder")
    any_env.kap12.clock.advance(timedelta(days=15))
    try:
        assert client.get("/oppgaver").status_code == 200
    finally:
        any_env.kap12.clock.advance(-timedelta(days=15))


def test_the_idle_timeout_ends_a_session(any_env, clock_back):
    idle = timedelta(minutes=any_env.kap12.settings.session_idle_minutes)
    client = login(any_env.app, "rektor")
    # In use every twenty minutes for three hours: still logged in.
    for _ in range(9):
        clock_back.advance(timedelta(minutes=20))
        assert client.get("/oppgaver").status_code == 200
    clock_back.advance(idle + timedelta(minutes=2))
    response = client.get("/oppgaver")
    assert response.status_code == 302 and "/logg-inn" in response.location
    clock_back.advance(-(idle + timedelta(minutes=2)))  # back in time, the row is still refused:
    assert client.get("/oppgaver").status_code == 302  # the cookie was dropped on the way out


def test_a_session_lasts_one_school_day_at_most(any_env, clock_back):
    client = login(any_env.app, "skoleeier")
    half_hours = 0
    while client.get("/oppgaver").status_code == 200:  # in use every half hour
        half_hours += 1
        assert half_hours <= 40, "the session outlived its lifetime"
        clock_back.advance(timedelta(minutes=30))
    assert half_hours * timedelta(minutes=30) == live_sessions.LIFETIME


def test_a_deactivated_person_is_logged_out_at_once(any_env):
    name = _person(any_env, "sluttet")
    client = login(any_env.app, name, "gammelt-passord")
    assert client.get("/oppgaver").status_code == 200
    with any_env.kap12.db.writing() as session:
        session.scalars(select(User).where(User.username == name)).one().active = False
    assert client.get("/oppgaver").status_code == 302


def test_a_changed_password_ends_the_other_sessions(any_env):
    name = _person(any_env, "byttepassord")
    phone = login(any_env.app, name, "gammelt-passord")
    laptop = login(any_env.app, name, "gammelt-passord")
    token = csrf_of(laptop.get("/profil").text)

    wrong = laptop.post("/profil/passord", data={"_csrf": token, "current": "feil", "new": "nytt-passord-1",
                                                 "repeat": "nytt-passord-1"})
    assert wrong.status_code == 422 and "Det nåværende passordet stemmer ikke." in wrong.text
    mismatch = laptop.post("/profil/passord", data={"_csrf": token, "current": "gammelt-passord",
                                                    "new": "nytt-passord-1", "repeat": "nytt-passord-2"})
    assert mismatch.status_code == 422 and "to forskjellige" in mismatch.text
    short = laptop.post("/profil/passord", data={"_csrf": token, "current": "gammelt-passord", "new": "kort",
                                                 "repeat": "kort"})
    assert short.status_code == 422 and "8–200 tegn" in short.text
    assert phone.get("/oppgaver").status_code == 200  # nothing changed yet

    done = laptop.post("/profil/passord", data={"_csrf": token, "current": "gammelt-passord",
                                                "new": "nytt-passord-1", "repeat": "nytt-passord-1"})
    assert done.status_code == 302
    assert "Passordet er endret. 1 annen innlogging ble avsluttet." in laptop.get("/profil").text
    assert phone.get("/oppgaver").status_code == 302  # the other browser is out
    assert laptop.get("/oppgaver").status_code == 200  # this one stays
    fresh = any_env.app.test_client()
    page = fresh.get("/logg-inn")
    old = fresh.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": name, "password": "gammelt-passord"})
    assert old.status_code == 401
    login(any_env.app, name, "nytt-passord-1")


def test_the_current_password_is_guessed_no_faster_than_at_the_log_in(any_env):
    """Someone at a browser left logged in could try current passwords on the profile page
    without end (each an argon2 check) and learn one that outlives the session. Now the page
    counts them as the log-in does: the account's few tries, then a wait; a right one, or a new
    password refused for its own sake, starts the count again."""
    name = _person(any_env, "gjetteren")
    browser = login(any_env.app, name, "gammelt-passord")
    token = csrf_of(browser.get("/profil").text)

    def change(current: str, new: str = "nytt-passord-1"):
        return browser.post("/profil/passord", data={"_csrf": token, "current": current, "new": new, "repeat": new})

    assert change("gammelt-passord", "kort").status_code == 422  # right, the new one refused: not counted
    for n in range(login_throttle.ACCOUNT.free - 1):
        assert change(f"feil-{n}").status_code == 422
    assert change("gammelt-passord", "kort").status_code == 422  # right again: the count starts anew
    for n in range(login_throttle.ACCOUNT.free):
        assert change(f"feil-{n}").status_code == 422
    refused = change("gammelt-passord")
    assert refused.status_code == 429 and "For mange mislykkede forsøk" in refused.text
    assert browser.get("/oppgaver").status_code == 200  # still logged in; nothing changed
    fresh = any_env.app.test_client()
    page = fresh.get("/logg-inn")
    still = fresh.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": name, "password": "gammelt-passord"})
    assert still.status_code == 302  # the log-in's own count is another


def test_an_administrator_logs_a_person_out_everywhere(any_env):
    admin = login(any_env.app, "admin")
    teacher_a, teacher_b = login(any_env.app, "ansatt"), login(any_env.app, "ansatt")
    principal = login(any_env.app, "rektor")
    page = admin.get("/drift/innlogginger")
    assert page.status_code == 200 and "Kari Lærer (ansatt)" in page.text
    response = admin.post("/drift/innlogginger/logg-ut", data={"_csrf": csrf_of(page.text),
                                                               "user_id": any_env.demo.users["ansatt"].id})
    assert response.status_code == 302
    assert "innlogginger er avsluttet" in admin.get(response.location).text
    assert teacher_a.get("/oppgaver").status_code == 302 and teacher_b.get("/oppgaver").status_code == 302
    assert principal.get("/oppgaver").status_code == 200  # others are untouched

    everyone = admin.post("/drift/innlogginger/logg-ut", data={"_csrf": csrf_of(page.text), "alle": "1"})
    assert everyone.status_code == 302
    assert principal.get("/oppgaver").status_code == 302
    assert admin.get("/drift/innlogginger").status_code == 200  # the administrator's own stays


@pytest.mark.parametrize("who", ["ansatt", "rektor", "prosesseier", "revisor", "skoleeier"])
def test_only_administrators_see_and_end_sessions(any_env, who):
    client = login(any_env.app, who)
    victim = login(any_env.app, "avdelingsleder")
    assert client.get("/drift/innlogginger").status_code == 403
    response = client.post("/drift/innlogginger/logg-ut", data={"_csrf": csrf_of(client.get("/profil").text),
                                                                "alle": "1"})
    assert response.status_code == 403
    assert victim.get("/oppgaver").status_code == 200


def test_log_out_everywhere_from_the_command_line(any_env, monkeypatch):
    monkeypatch.setenv("KAP12_DATABASE_URL", any_env.kap12.settings.database_url)
    monkeypatch.setenv("KAP12_INSTANCE_DIR", str(any_env.kap12.settings.instance_dir))
    run = invoker()
    teacher, principal = login(any_env.app, "ansatt"), login(any_env.app, "rektor")
    code, out, _ = run("logout", "--user", "ansatt", "--json")
    assert code == 0 and json.loads(out)["ended"] >= 1
    assert teacher.get("/oppgaver").status_code == 302 and principal.get("/oppgaver").status_code == 200
    code, _, err = run("logout", "--user", "finnesikke")
    assert code == 4 and "finnes ikke" in err
    code, _, err = run("logout")
    assert code == 2 and "--all" in err
    code, out, _ = run("logout", "--all")
    assert code == 0 and "avsluttet for alle" in out
    assert principal.get("/oppgaver").status_code == 302


def test_an_administrator_sees_and_ends_only_their_own_countys_sessions(any_env):
    """Another county's administrator (one installation for several counties) sees none of
    Nordli's log-ins, and neither one person's «Logg ut overalt» nor «Logg ut alle andre i
    fylket» ends them; Nordli's administrator still sees them all."""
    from tests.support.counties import person_of_another_county

    person_of_another_county(any_env.kap12, "administrator", "admin_annet_fylke", "annet-fylke-1")
    teacher = login(any_env.app, "ansatt")
    other = login(any_env.app, "admin_annet_fylke", "annet-fylke-1")
    page = other.get("/drift/innlogginger")
    assert page.status_code == 200 and "Kari Lærer" not in page.text and "Annen Fylkesperson" in page.text
    token = csrf_of(page.text)
    one = other.post("/drift/innlogginger/logg-ut", data={"_csrf": token, "user_id": any_env.demo.users["ansatt"].id})
    assert "0 innlogginger er avsluttet" in other.get(one.location).text
    everyone = other.post("/drift/innlogginger/logg-ut", data={"_csrf": token, "alle": "1"})
    assert everyone.status_code == 302
    assert teacher.get("/oppgaver").status_code == 200  # still logged in
    assert "Kari Lærer (ansatt)" in login(any_env.app, "admin").get("/drift/innlogginger").text


def test_the_sessions_come_a_page_at_a_time(any_env):
    """Newest seen first, each once, however many are logged in."""
    from engine import access

    clients = [login(any_env.app, "ansatt") for _ in range(3)]
    among = access.administered_people(any_env.kap12.viewer("admin"))
    shown, cursor = [], None
    while True:
        page = live_sessions.live(any_env.kap12.db, any_env.kap12.clock.now(), timedelta(minutes=60), among,
                                  cursor=cursor, limit=2)
        assert len(page.items) <= 2
        shown += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(shown) == len({s.id for s in shown}) >= len(clients)
    assert [(s.last_seen_at, s.id) for s in shown] == sorted(((s.last_seen_at, s.id) for s in shown), reverse=True)
