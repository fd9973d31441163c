"""Log-in through OpenID Connect against a real provider (oidc-provider-mock on a local port):
the happy path, and every way a log-in must be refused — a forged or replayed state, a token
whose PKCE verifier, nonce, signature, issuer or lifetime is wrong, a person kap12 does not
know, a provider that is down. (The same flows in Chromium: tests/browser/test_oidc_browser.py.)"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from engine.config import PROJECT_ROOT, OidcSettings, Settings
from engine.read import sessions as live_sessions
from engine.runtime.clock import Clock
from engine.service import Kap12
from engine.store import directory, identities
from engine.store.models import User
from engine.write import demo
from tests.support.oidc_provider import oidc_provider
from tests.support.web import csrf_of
from webui.app import create_app


@pytest.fixture(scope="module")
def provider():
    with oidc_provider() as running:
        running.add_person("kari-sub", "kari@nordli.no", "Kari Avdelingsleder")
        running.add_person("ukjent-sub", "per@annenskole.no", "Per Ukjent")
        running.add_person("rektor-sub", "rektor@nordli.no", "Rektor")
        yield running


def make_env(tmp, provider, **oidc_overrides):
    clock = Clock()
    # ID tokens carry real times: the engine's clock is set to now, and moved to show expiry.
    clock.set(datetime.now(timezone.utc))
    oidc = OidcSettings(issuer=provider.issuer, client_id="kap12-test", client_secret="hemmelig",
                        **oidc_overrides)
    kap12 = Kap12(Settings(database_url=f"sqlite:///{tmp}/t.sqlite3", instance_dir=tmp,
                           bpmn_dir=PROJECT_ROOT / "bpmn", base_url="http://127.0.0.1:5000", oidc=oidc),
                  clock=clock)
    kap12.init()
    demo.ensure_directory(kap12)
    with kap12.db.writing() as session:
        identities.link(session, directory.user_by_username(session, "avdelingsleder"), provider.issuer,
                        "kari@nordli.no")
        identities.link(session, directory.user_by_username(session, "rektor"), provider.issuer,
                        "rektor@nordli.no")
    return kap12, clock


@pytest.fixture(scope="module")
def env(tmp_path_factory, provider):
    kap12, clock = make_env(tmp_path_factory.mktemp("oidc"), provider)
    app = create_app(kap12)
    yield type("Env", (), {"kap12": kap12, "clock": clock, "app": app})
    kap12.close()


@pytest.fixture(autouse=True)
def _well_behaved(request):
    yield
    if "provider" in request.fixturenames:
        request.getfixturevalue("provider").fault = None
    if "env" in request.fixturenames:
        request.getfixturevalue("env").clock.set(datetime.now(timezone.utc))


def at_provider(client, sub: str, next_url: str | None = None) -> str:
    """Start a log-in, let the person log in at the provider; returns kap12's callback path."""
    start = client.get("/logg-inn/ekstern" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start.text
    answer = requests.post(start.headers["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/logg-inn/ekstern/tilbake"
    return f"{back.path}?{back.query}"


def logged_in_as(client) -> str | None:
    """Whom the client's session row belongs to, if it is live (the cookie holds only a token)."""
    with client.session_transaction() as session:
        token = session.get("sid")
    kap12, clock = client.application.extensions["kap12"], client.application.extensions["kap12.session_clock"]
    holder = live_sessions.holder_of(kap12.db, token, clock.now(), timedelta(hours=1))
    if holder is None:
        return None
    with kap12.db.reading() as session:
        return session.get(User, holder.user_id).username


def test_the_login_page_offers_the_provider_beside_passwords(env):
    page = env.app.test_client().get("/logg-inn").text
    assert "Logg inn med Feide" in page and 'id="password"' in page


def test_a_known_person_logs_in_with_their_kap12_roles(env, provider):
    client = env.app.test_client()
    response = client.get(at_provider(client, "kari-sub", "/saker"))
    assert response.status_code == 302 and response.headers["Location"] == "/saker"
    assert logged_in_as(client) == "avdelingsleder"
    assert "Anne Avdelingsleder" in client.get("/saker").text  # the name in kap12, not the provider's
    sent = provider.wrapper.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["nonce"] and sent["state"] and "openid" in sent["scope"].split()


def test_an_open_redirect_after_log_in_is_refused(env):
    client = env.app.test_client()
    response = client.get(at_provider(client, "kari-sub", "//evil.example/x"))
    assert response.headers["Location"] == "/oppgaver"


def test_an_unknown_person_gets_a_page_and_no_account(env):
    with env.kap12.db.reading() as session:
        users = session.scalar(select(func.count()).select_from(User))
    client = env.app.test_client()
    response = client.get(at_provider(client, "ukjent-sub"))
    assert response.status_code == 403
    assert "Du har ikke tilgang til kap12" in response.text and "per@annenskole.no" in response.text
    assert "Ingen konto er opprettet" in response.text
    assert logged_in_as(client) is None
    with env.kap12.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(User)) == users


def test_a_deactivated_user_cannot_log_in_through_the_provider(env):
    with env.kap12.db.writing() as session:
        directory.user_by_username(session, "rektor").active = False
    try:
        client = env.app.test_client()
        response = client.get(at_provider(client, "rektor-sub"))
        assert response.status_code == 403 and logged_in_as(client) is None
    finally:
        with env.kap12.db.writing() as session:
            directory.user_by_username(session, "rektor").active = True


def test_a_replayed_callback_is_refused(env):
    client = env.app.test_client()
    callback = at_provider(client, "kari-sub")
    assert client.get(callback).status_code == 302
    client.post("/logg-ut", data={"_csrf": csrf_of(client.get("/oppgaver").text)})
    replay = client.get(callback)
    assert replay.status_code == 400 and "allerede brukt" in replay.text
    assert logged_in_as(client) is None


def test_a_state_that_was_never_issued_is_refused(env):
    client = env.app.test_client()
    callback = at_provider(client, "kari-sub")
    forged = callback.replace("state=", "state=x")
    response = client.get(forged)
    assert response.status_code == 400 and logged_in_as(client) is None
    # Nor does a callback in another browser (no session) work.
    assert env.app.test_client().get(callback).status_code == 400


def test_pkce_the_provider_refuses_a_wrong_verifier(env, provider):
    client = env.app.test_client()
    callback = at_provider(client, "kari-sub")
    with client.session_transaction() as session:
        state = parse_qs(urlsplit(callback).query)["state"][0]
        waiting = session["oidc_pending"]
        waiting[state] = {**waiting[state], "verifier": "x" * 64}
        session["oidc_pending"] = waiting
    refusals = len(provider.wrapper.token_refusals)
    response = client.get(callback)
    assert response.status_code == 403 and logged_in_as(client) is None
    assert provider.wrapper.token_refusals[refusals:] == ["pkce"]


def test_a_token_for_another_log_in_nonce_is_refused(env):
    client = env.app.test_client()
    callback = at_provider(client, "kari-sub")
    with client.session_transaction() as session:
        state = parse_qs(urlsplit(callback).query)["state"][0]
        waiting = session["oidc_pending"]
        waiting[state] = {**waiting[state], "nonce": "another-log-in"}
        session["oidc_pending"] = waiting
    response = client.get(callback)
    assert response.status_code == 403 and "annen innlogging" in response.text
    assert logged_in_as(client) is None


def test_a_tampered_token_is_refused(env, provider):
    provider.fault = "tamper"  # kari's token rewritten to say she is rektor
    client = env.app.test_client()
    response = client.get(at_provider(client, "kari-sub"))
    assert response.status_code == 403 and "ikke signert" in response.text
    assert logged_in_as(client) is None


def test_a_token_from_another_issuer_is_refused(env, provider):
    provider.fault = "issuer"
    client = env.app.test_client()
    response = client.get(at_provider(client, "kari-sub"))
    assert response.status_code == 403 and "annen utsteder" in response.text
    assert logged_in_as(client) is None


def test_an_expired_token_is_refused(env):
    client = env.app.test_client()
    callback = at_provider(client, "kari-sub")
    env.clock.set(datetime.now(timezone.utc) + timedelta(hours=2))  # the token lives one hour
    response = client.get(callback)
    assert response.status_code == 403 and "utløpt" in response.text
    assert logged_in_as(client) is None


def test_a_provider_naming_another_issuer_is_refused_before_any_redirect(tmp_path, provider):
    kap12, _clock = make_env(tmp_path, provider)
    settings = kap12.settings.oidc
    # Configured for "localhost", but the document fetched says "127.0.0.1": another provider.
    from dataclasses import replace

    kap12.settings = replace(kap12.settings, oidc=replace(settings, issuer=provider.url.replace(
        "127.0.0.1", "localhost"), metadata_url=f"{provider.url}/.well-known/openid-configuration"))
    response = create_app(kap12).test_client().get("/logg-inn/ekstern")
    kap12.close()
    assert response.status_code == 403 and "annen utsteder" in response.text


def test_a_provider_that_is_down_gives_a_plain_page(tmp_path, provider):
    kap12, _clock = make_env(tmp_path, provider)
    from dataclasses import replace

    kap12.settings = replace(kap12.settings, oidc=replace(kap12.settings.oidc, issuer="http://127.0.0.1:9"))
    response = create_app(kap12).test_client().get("/logg-inn/ekstern")
    kap12.close()
    assert response.status_code == 502 and "svarer ikke" in response.text


def test_without_a_provider_there_is_no_provider_log_in(tmp_path):
    from tests.support.web import make_kap12

    kap12, _ = make_kap12(tmp_path)
    client = create_app(kap12).test_client()
    assert "Logg inn med" not in client.get("/logg-inn").text
    assert client.get("/logg-inn/ekstern").status_code == 404
    assert client.get("/logg-inn/ekstern/tilbake?state=x&code=y").status_code == 404
    kap12.close()


def test_local_passwords_can_be_switched_off(tmp_path, provider):
    from dataclasses import replace

    kap12, _clock = make_env(tmp_path, provider)
    kap12.settings = replace(kap12.settings, local_login=False)
    client = create_app(kap12).test_client()
    page = client.get("/logg-inn").text
    assert "Logg inn med Feide" in page and 'id="password"' not in page
    with client.session_transaction() as session:
        session["csrf"] = "token"
    response = client.post("/logg-inn", data={"_csrf": "token", "username": "rektor",
                                              "password": demo.PASSWORD})
    assert response.status_code == 403 and "slått av" in response.text
    assert logged_in_as(client) is None
    kap12.close()
