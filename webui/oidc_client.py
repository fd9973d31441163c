"""The OpenID Connect relying party: the provider's discovery document and keys, the
authorization request (state, nonce, PKCE S256) and the checks an ID token must pass.

Authlib does the protocol work (building the request, exchanging the code, the claim rules of
OpenID Connect Core); this module decides what kap12 accepts. No Flask here: the blueprint in
``oidc.py`` keeps the per-log-in secrets in the session and calls these functions."""
from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from engine.config import OidcSettings

log = logging.getLogger("kap12.oidc")

HTTP_TIMEOUT = 10  # seconds; a provider that hangs must not hold a web worker for long
CACHE_SECONDS = 3600  # discovery document and keys; an unknown key id fetches the keys again
LEEWAY_SECONDS = 60  # clock skew between the provider and us
# Never "none", never a symmetric algorithm keyed with a public secret.
ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered nonsense."""


class Refused(Exception):
    """The provider's answer does not prove who the person is. ``str()`` is a Norwegian sentence
    for the person; ``reason`` a short word for the log."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Pending:
    """What one log-in attempt must remember between the redirect and the callback."""

    state: str
    nonce: str
    code_verifier: str


def new_pending() -> Pending:
    return Pending(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                   code_verifier=secrets.token_urlsafe(64))


class Provider:
    """One configured provider; its discovery document and keys are cached per process."""

    def __init__(self, settings: OidcSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._keys: dict | None = None
        self._fetched = 0.0

    # -- the provider's published facts ---------------------------------------------------------
    def _get_json(self, url: str) -> dict:
        try:
            response = requests.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as err:
            raise ProviderUnavailable(f"{url}: {err}") from err
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"{url}: not a JSON object")
        return data

    def metadata(self) -> dict:
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._fetched < CACHE_SECONDS:
                return self._metadata
        data = self._get_json(self.settings.discovery_url)
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(key), str):
                raise ProviderUnavailable(f"discovery document without {key}")
        # OpenID Connect Discovery § 4.3: the document must name the issuer we were configured
        # with, or it is some other provider's.
        if data["issuer"].rstrip("/") != self.settings.issuer.rstrip("/"):
            raise Refused("Innloggingstjenesten oppga en annen utsteder enn den kap12 er satt opp med.",
                          f"discovery issuer {data['issuer']!r} is not {self.settings.issuer!r}")
        with self._lock:
            self._metadata, self._keys, self._fetched = data, None, time.monotonic()
        return data

    def keys(self, refresh: bool = False) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            cached = None if refresh else self._keys
        if cached is None:
            cached = self._get_json(metadata["jwks_uri"])
            with self._lock:
                self._keys = cached
        try:
            return KeySet.import_key_set(cached)
        except (JoseError, ValueError, TypeError, KeyError) as err:
            raise ProviderUnavailable(f"unusable key set: {err}") from err

    # -- the flow ---------------------------------------------------------------------------------
    def _client(self, redirect_uri: str) -> OAuth2Session:
        s = self.settings
        return OAuth2Session(s.client_id, s.client_secret or None, scope=s.scopes, redirect_uri=redirect_uri,
                             code_challenge_method="S256", token_endpoint_auth_method=(
                                 "client_secret_basic" if s.client_secret else "none"))

    def authorization_url(self, pending: Pending, redirect_uri: str, ui_locale: str = "nb") -> str:
        url, _state = self._client(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"], state=pending.state, code_verifier=pending.code_verifier,
            nonce=pending.nonce, ui_locales=ui_locale)
        return url

    def identify(self, pending: Pending, code: str, redirect_uri: str, now: float) -> tuple[str, dict]:
        """Exchange ``code`` for tokens, check the ID token, and return the value of the
        identifying claim with the checked claims. Raises Refused or ProviderUnavailable."""
        metadata = self.metadata()
        client = self._client(redirect_uri)
        try:
            token = client.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                       code_verifier=pending.code_verifier, timeout=HTTP_TIMEOUT)
        except requests.RequestException as err:
            raise ProviderUnavailable(f"token endpoint: {err}") from err
        except Exception as err:  # noqa: BLE001 - Authlib raises OAuthError and friends for refusals
            raise Refused("Innloggingstjenesten godtok ikke innloggingen. Start på nytt.",
                          f"token request refused: {err}") from err
        raw = token.get("id_token")
        if not raw:
            raise Refused("Innloggingstjenesten sendte ikke noe bevis på hvem du er.", "no id_token")
        claims = self.check_id_token(raw, pending.nonce, token.get("access_token"), now)
        value = claims.get(self.settings.claim)
        if value is None and metadata.get("userinfo_endpoint"):
            value = self._from_userinfo(client, metadata["userinfo_endpoint"], token, claims["sub"])
        if not isinstance(value, str) or not value.strip():
            raise Refused("Innloggingstjenesten oppga ikke hvem du er på den måten kap12 trenger.",
                          f"claim {self.settings.claim} missing")
        return value.strip(), dict(claims)

    def check_id_token(self, raw: str, nonce: str, access_token: str | None, now: float) -> CodeIDToken:
        metadata = self.metadata()
        algorithms = [a for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"] if a in ASYMMETRIC]
        try:
            try:
                decoded = jwt.decode(raw, self.keys(), algorithms=algorithms)
            except InvalidKeyIdError:  # the provider rotated its keys
                decoded = jwt.decode(raw, self.keys(refresh=True), algorithms=algorithms)
        except BadSignatureError as err:
            raise Refused("Beviset fra innloggingstjenesten var ikke signert av den.", "bad signature") from err
        except JoseError as err:
            raise Refused("Beviset fra innloggingstjenesten kunne ikke leses.", f"undecodable: {err}") from err
        claims = CodeIDToken(decoded.claims, decoded.header,
                             {"iss": {"essential": True, "values": [metadata["issuer"]]},
                              "aud": {"essential": True, "values": [self.settings.client_id]},
                              "sub": {"essential": True}},
                             {"nonce": nonce, "client_id": self.settings.client_id, "access_token": access_token})
        try:
            claims.validate(now=int(now), leeway=LEEWAY_SECONDS)
        except ExpiredTokenError as err:
            raise Refused("Beviset fra innloggingstjenesten var utløpt. Start innloggingen på nytt.",
                          "expired") from err
        except InvalidClaimError as err:
            if err.claim == "iss":
                raise Refused("Beviset kom fra en annen utsteder enn den kap12 er satt opp med.",
                              f"issuer {decoded.claims.get('iss')!r}") from err
            if err.claim == "nonce":
                raise Refused("Beviset hørte til en annen innlogging. Start innloggingen på nytt.", "nonce") from err
            raise Refused("Beviset fra innloggingstjenesten var ikke gyldig.", f"claim {err.claim}") from err
        except JoseError as err:
            raise Refused("Beviset fra innloggingstjenesten var ikke gyldig.", f"claims: {err}") from err
        return claims

    def _from_userinfo(self, client: OAuth2Session, url: str, token: dict, subject: str):
        client.token = token
        try:
            response = client.get(url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError) as err:
            raise ProviderUnavailable(f"userinfo: {err}") from err
        # OpenID Connect Core § 5.3.2: userinfo about someone else must not be used.
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise Refused("Innloggingstjenesten svarte om en annen person.", "userinfo sub mismatch")
        return info.get(self.settings.claim)
