"""Log-in, log-out, throttling, CSRF, cookies and security headers."""
from __future__ import annotations

from engine.read import queries
from engine.store import directory
from engine.write import login_throttle
from tests.support.web import csrf_of, login
from webui import known_devices


def test_pages_need_login(env):
    client = env.app.test_client()
    for url in ("/oppgaver", "/saker", "/melding/ny", "/saker/1"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/logg-inn" in response.location


def test_login_page_and_success(env):
    client = env.app.test_client()
    page = client.get("/logg-inn")
    assert page.status_code == 200 and "Brukernavn" in page.text
    response = client.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": "ansatt",
                                              "password": "demo1234", "next": "/saker"})
    assert response.status_code == 302 and response.location.endswith("/saker")
    assert "Kari Lærer" in client.get("/saker").text


def test_session_cookie_flags(env):
    client = env.app.test_client()
    page = client.get("/logg-inn")
    response = client.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": "ansatt",
                                              "password": "demo1234"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # base_url is http in tests


def test_secure_cookie_when_https(tmp_path):
    from tests.support.web import make_kap12
    from webui.app import create_app

    kap12, _ = make_kap12(tmp_path)
    kap12.settings = type(kap12.settings)(kap12.settings.database_url, tmp_path, kap12.settings.bpmn_dir,
                                          "https://kap12.example.no", secret_key="fixed-for-test")
    app = create_app(kap12)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "fixed-for-test"
    kap12.close()


def test_secret_key_is_persisted_in_instance(env, monkeypatch):
    from webui.app import create_app

    monkeypatch.delenv("KAP12_SECRET_KEY", raising=False)
    key_file = env.kap12.settings.instance_dir / "secret_key"
    assert key_file.exists()
    assert create_app(env.kap12).config["SECRET_KEY"] == key_file.read_text().strip()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def _key_when_told(folder, start, keys) -> None:
    from webui import security

    start.wait()
    keys.put(security.secret_key(folder))


def test_workers_starting_at_once_agree_on_one_whole_key(tmp_path):
    """Four workers making the instance's key at the same moment: each reads the one key that was
    written whole, never a file another has only created (an empty key, 60 times in 200)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for attempt in range(15):
        folder = tmp_path / str(attempt)
        start, keys = context.Barrier(4), context.Queue()
        workers = [context.Process(target=_key_when_told, args=(folder, start, keys)) for _ in range(4)]
        for worker in workers:
            worker.start()
        found = {keys.get(timeout=30) for _ in workers}
        for worker in workers:
            worker.join(30)
        assert found == {(folder / "secret_key").read_text()} and "" not in found
        assert [p.name for p in folder.iterdir()] == ["secret_key"]  # no half-made key left behind


def test_wrong_password_and_unknown_user_look_the_same(env):
    client = env.app.test_client()
    page = client.get("/logg-inn")
    bad = client.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": "ansatt", "password": "feil"})
    unknown = client.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": "finnesikke",
                                             "password": "feil"})
    assert bad.status_code == unknown.status_code == 401
    assert "Feil brukernavn eller passord." in bad.text and "Feil brukernavn eller passord." in unknown.text


def test_slow_down_after_repeated_failures(env):
    client = env.app.test_client()
    page = client.get("/logg-inn")
    token = csrf_of(page.text)
    for _ in range(login_throttle.ACCOUNT.free):
        assert client.post("/logg-inn", data={"_csrf": token, "username": "rektor", "password": "x"}).status_code == 401
    # Even the right password is refused while the wait lasts.
    response = client.post("/logg-inn", data={"_csrf": token, "username": "rektor", "password": "demo1234"})
    assert response.status_code == 429
    assert "For mange mislykkede forsøk" in response.text


def test_others_guesses_do_not_lock_a_person_out_of_a_browser_they_logged_in_on(env):
    """Thirty wrong passwords from six addresses locked rektor out everywhere (reviewed); the
    browser she logged in on before still lets her in, and only for her."""
    own = env.app.test_client()
    token = csrf_of(own.get("/logg-inn").text)
    assert own.post("/logg-inn", data={"_csrf": token, "username": "rektor", "password": "demo1234"}).status_code == 302
    own.post("/logg-ut", data={"_csrf": csrf_of(own.get("/oppgaver").text)})
    for n in range(login_throttle.ACCOUNT_WIDE.free):
        guesser = env.app.test_client()
        address = {"REMOTE_ADDR": f"203.0.113.{n // 5}"}
        guess = guesser.post("/logg-inn", data={"_csrf": csrf_of(guesser.get("/logg-inn", environ_base=address).text),
                                                "username": "rektor", "password": f"gjett{n}"}, environ_base=address)
        assert guess.status_code == 401
    elsewhere = env.app.test_client()
    token = csrf_of(elsewhere.get("/logg-inn").text)
    assert elsewhere.post("/logg-inn", data={"_csrf": token, "username": "rektor",
                                             "password": "demo1234"}).status_code == 429
    token = csrf_of(own.get("/logg-inn").text)
    back = own.post("/logg-inn", data={"_csrf": token, "username": "rektor", "password": "demo1234"})
    assert back.status_code == 302 and own.get("/oppgaver").status_code == 200
    # A cookie not signed by this server is no cookie.
    forged = env.app.test_client()
    forged.set_cookie(known_devices.COOKIE, "eyJkIjoieCIsInUiOlsicmVrdG9yIl19.forfalsket.signatur", path="/logg-inn")
    token = csrf_of(forged.get("/logg-inn").text)
    assert forged.post("/logg-inn", data={"_csrf": token, "username": "rektor",
                                          "password": "demo1234"}).status_code == 429


def test_post_without_csrf_is_refused(env):
    client = login(env.app, "ansatt")
    response = client.post("/logg-ut")
    assert response.status_code == 400
    assert "Skjemaet kunne ikke sendes" in response.text
    assert client.get("/oppgaver").status_code == 200  # still logged in
    response = client.post("/melding/ny", data={"_csrf": "forged", "school_id": env.nordli})
    assert response.status_code == 400


def test_login_form_needs_csrf_too(env):
    client = env.app.test_client()
    response = client.post("/logg-inn", data={"username": "ansatt", "password": "demo1234"})
    assert response.status_code == 400


def test_logout(env):
    client = login(env.app, "ansatt")
    page = client.get("/oppgaver")
    response = client.post("/logg-ut", data={"_csrf": csrf_of(page.text)})
    assert response.status_code == 302
    assert client.get("/oppgaver").status_code == 302


def test_security_headers(env):
    client = env.app.test_client()
    response = client.get("/logg-inn")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.text


def test_no_open_redirect_after_login(env):
    client = env.app.test_client()
    page = client.get("/logg-inn")
    response = client.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": "ansatt",
                                              "password": "demo1234", "next": "//evil.example/x"})
    assert response.location.endswith("/oppgaver")


def test_unknown_page_is_a_friendly_404(env):
    client = login(env.app, "ansatt")
    response = client.get("/finnes-ikke")
    assert response.status_code == 404 and "Fant ikke siden" in response.text


def test_head_request_is_not_a_failed_login(env):
    client = env.app.test_client()
    for _ in range(5):
        assert client.head("/logg-inn").status_code == 200
    page = client.get("/logg-inn")
    assert page.status_code == 200 and "For mange" not in page.get_data(as_text=True)


def test_a_known_browser_is_known_for_the_accounts_that_logged_in_on_it_only(env):
    client = env.app.test_client()
    token = csrf_of(client.get("/logg-inn").text)
    client.post("/logg-inn", data={"_csrf": token, "username": "rektor", "password": "demo1234"})
    [kept] = [c for c in client._cookies.values() if c.key == known_devices.COOKIE]
    rektor, owner = (lambda name=name: queries.password_hash_for_login(env.kap12, name)
                     for name in ("rektor", "skoleeier"))
    with env.app.test_request_context("/logg-inn", headers={"Cookie": f"{kept.key}={kept.value}"}):
        device = known_devices.device_for("rektor", rektor)
        assert device and known_devices.device_for(" REKTOR ", rektor) == device
        assert known_devices.device_for("skoleeier", owner) is None
        assert known_devices.device_for("rektor", lambda: None) is None  # no such account: no bucket of its own


def _guessed_out(env, username: str) -> None:
    """Wrong passwords for ``username`` from elsewhere until the account is locked everywhere."""
    for n in range(login_throttle.ACCOUNT_WIDE.free):
        guesser = env.app.test_client()
        address = {"REMOTE_ADDR": f"203.0.113.{n // 5}"}
        token = csrf_of(guesser.get("/logg-inn", environ_base=address).text)
        assert guesser.post("/logg-inn", data={"_csrf": token, "username": username, "password": f"gjett{n}"},
                            environ_base=address).status_code == 401


def test_a_browser_known_with_an_old_password_is_not_known_after_it_changed(env):
    """Someone who once logged in with a person's password keeps no bucket of tries of their own
    once she has changed it: their browser is locked out with everyone else's."""
    with env.kap12.db.writing() as session:  # her own account: the module's others keep theirs
        directory.create_user(session, "byttet", "Byttet Passord", password="gammelt-passord", email=None,
                              now=env.kap12.clock.now())

    def logs_in(client, password: str) -> int:
        token = csrf_of(client.get("/logg-inn").text)
        return client.post("/logg-inn", data={"_csrf": token, "username": "byttet", "password": password}).status_code

    earlier = env.app.test_client()  # logged in once with the old password, as another person could
    assert logs_in(earlier, "gammelt-passord") == 302
    own = login(env.app, "byttet", "gammelt-passord")
    changed = own.post("/profil/passord", data={"_csrf": csrf_of(own.get("/profil").text), "current": "gammelt-passord",
                                                "new": "nytt-passord-1", "repeat": "nytt-passord-1"})
    assert changed.status_code == 302
    own.post("/logg-ut", data={"_csrf": csrf_of(own.get("/oppgaver").text)})
    assert logs_in(own, "nytt-passord-1") == 302  # known anew, with the new password
    own.post("/logg-ut", data={"_csrf": csrf_of(own.get("/oppgaver").text)})
    _guessed_out(env, "byttet")
    # The browser that knew only the old password is as anyone's: locked with the account.
    assert logs_in(earlier, "nytt-passord-1") == 429
    # Hers, known with the new one, still lets her in.
    assert logs_in(own, "nytt-passord-1") == 302
