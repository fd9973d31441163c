"""Log-in through OpenID Connect in a real Chromium against a real provider started by the test
(oidc-provider-mock): the person clicks «Logg inn med Feide», logs in at the provider and comes
back logged in to kap12 — or to a plain Norwegian page when kap12 must refuse."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.support.browser import serving
from tests.support.chromium import chromium_available
from tests.support.oidc_provider import oidc_provider
from tests.webui.test_oidc import make_env
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with oidc_provider() as provider:
        provider.add_person("kari-sub", "kari@nordli.no", "Kari")
        provider.add_person("ukjent-sub", "per@annenskole.no", "Per")
        kap12, clock = make_env(tmp_path_factory.mktemp("oidc-browser"), provider)
        with serving(create_app(kap12)) as url:
            yield type("World", (), {"url": url, "provider": provider, "clock": clock})
        kap12.close()


@pytest.fixture
def page(browser, world):
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.callbacks = []
    page.on("request", lambda r: page.callbacks.append(r.url) if "/logg-inn/ekstern/tilbake" in r.url else None)
    yield page
    context.close()
    world.provider.fault = None
    world.clock.set(datetime.now(timezone.utc))


def log_in_at_provider(page, world, sub: str) -> None:
    page.goto(f"{world.url}/logg-inn")
    page.click("#login-oidc")
    page.wait_for_url(f"{world.provider.url}/oauth2/authorize**")
    page.fill("input[name=sub]", sub)
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{world.url}/**")
    page.wait_for_load_state()


def test_a_known_person_logs_in(page, world):
    log_in_at_provider(page, world, "kari-sub")
    assert page.url == f"{world.url}/oppgaver"
    assert "Anne Avdelingsleder" in page.inner_text(".who")


def test_an_unknown_person_gets_a_clear_page(page, world):
    log_in_at_provider(page, world, "ukjent-sub")
    assert "Du har ikke tilgang til kap12" in page.inner_text("h1")
    assert "per@annenskole.no" in page.inner_text("main")
    assert page.locator(".who").count() == 0  # not logged in


def test_a_replayed_state_is_refused(page, world):
    log_in_at_provider(page, world, "kari-sub")
    page.click("button:has-text('Logg ut')")
    page.wait_for_url("**/logg-inn**")
    page.goto(page.callbacks[-1])
    assert "Innloggingen kunne ikke fullføres" in page.inner_text("h1")
    assert page.locator(".who").count() == 0


@pytest.mark.parametrize("fault, says", [("tamper", "ikke signert"), ("issuer", "annen utsteder"),
                                         ("expired", "utløpt")])
def test_a_bad_token_is_refused(page, world, fault, says):
    if fault == "expired":
        world.clock.set(datetime.now(timezone.utc) + timedelta(hours=2))  # the token lives one hour
    else:
        world.provider.fault = fault
    log_in_at_provider(page, world, "kari-sub")
    assert "Innloggingen ble ikke godtatt" in page.inner_text("h1")
    assert says in page.inner_text("main")
    assert page.locator(".who").count() == 0
