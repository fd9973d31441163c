"""What the log-in page tells someone probing it: a refused try (the throttle's, which is not
counted, so it can be asked without end) does the same work for an account that exists as for
one that does not; and no cookie, however made, breaks the page."""
from __future__ import annotations

from sqlalchemy import event

from engine.write import login_throttle
from tests.support.web import csrf_of
from webui import known_devices


def _statements_of_refused_try(env, client, token: str, username: str) -> tuple[int, int]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(env.kap12.db.engine, "before_cursor_execute", count)
    try:
        response = client.post("/logg-inn", data={"_csrf": token, "username": username, "password": "x"})
    finally:
        event.remove(env.kap12.db.engine, "before_cursor_execute", count)
    return response.status_code, len([s for s in seen if "FROM users" in s or "FROM role_grants" in s])


def test_a_refused_try_does_not_tell_whether_the_account_exists(any_env):
    """Once its address is locked, every try is refused (429) and not counted. Reading the
    account for the known-browser check before the throttle made a real name cost two more
    statements than a made-up one (reviewed); it is read only for a browser that names it."""
    client = any_env.app.test_client()
    token = csrf_of(client.get("/logg-inn").text)
    for n in range(login_throttle.ADDRESS.free):
        client.post("/logg-inn", data={"_csrf": token, "username": f"ingen{n}", "password": "x"})
    real = _statements_of_refused_try(any_env, client, token, "rektor")
    made_up = _statements_of_refused_try(any_env, client, token, "finnes-ikke")
    assert real == made_up == (429, 0)


def test_odd_cookies_count_as_none(env):
    """An earlier release's cookie (names alone), and any other shape signed with the key."""
    payloads = [{"d": "x", "u": ["ansatt"]}, {"d": "x", "u": [["ansatt"]]}, {"d": "x", "u": [[1, 2]]},
                {"d": "x", "u": [None, {}, "ansatt", ["ansatt", "a", "b"]]}, {"d": "x", "u": [["ansatt", None]]},
                {"d": 1, "u": []}, {"d": "x"}, ["x"], "x", None, 5, {"d": "x", "u": {"ansatt": 1}}]
    for payload in payloads:
        with env.app.test_request_context("/logg-inn"):
            value = known_devices._serializer().dumps(payload)
            assert known_devices.device_for("ansatt", lambda: "hash") is None
        for password, status in (("x", 401), ("demo1234", 302)):
            client = env.app.test_client()
            client.set_cookie(known_devices.COOKIE, value, path="/logg-inn")
            token = csrf_of(client.get("/logg-inn").text)
            response = client.post("/logg-inn", data={"_csrf": token, "username": "ansatt", "password": password})
            assert response.status_code == status, (payload, response.status_code)


def test_every_name_costs_one_password_check(env, monkeypatch):
    """A deactivated account and one that logs in only through the county's log-in service
    were refused before any hash was checked: 5 ms against 270 for a wrong password, which told
    a prober every such name. Now each try, whoever it names, checks one argon2 hash (the same
    work), and is refused alike."""
    from engine.store import directory

    checked: list[str] = []
    hasher = directory._hasher

    class Counted:  # argon2's hasher has slots: wrapped, not patched
        def verify(self, hash_: str, password: str) -> bool:
            checked.append(hash_)
            return hasher.verify(hash_, password)

        def hash(self, password: str) -> str:
            return hasher.hash(password)

    monkeypatch.setattr(directory, "_hasher", Counted())
    with env.kap12.db.writing() as session:
        from engine.store.models import User

        session.get(User, env.demo.users["ansatt3"].id).active = False
        session.get(User, env.demo.users["ansatt2"].id).password_hash = None  # the log-in service only
    client = env.app.test_client()
    token = csrf_of(client.get("/logg-inn").text)
    for username, password in (("finnes-ikke", "demo1234"), ("ansatt3", "demo1234"), ("ansatt2", "demo1234"),
                               ("rektor", "feil-passord")):
        checked.clear()
        response = client.post("/logg-inn", data={"_csrf": token, "username": username, "password": password})
        assert response.status_code == 401 and "Feil brukernavn eller passord" in response.text, username
        assert len(checked) == 1 and checked[0].startswith("$argon2"), username
