"""A real OpenID Connect provider for tests: ``oidc-provider-mock`` (an Authlib-based provider
with real keys, discovery, JWKS and code flow) served on a free local port, behind a small WSGI
layer that

- enforces PKCE as a real provider does (the mock itself ignores ``code_challenge``): a token
  request whose ``code_verifier`` does not hash to the challenge sent with the authorization
  request is refused, and
- can be told to misbehave, so that tests can show kap12 refusing what it must refuse:
  ``fault = "tamper"`` edits the identifying claim inside the signed ID token (the signature no
  longer matches), ``fault = "issuer"`` makes the provider sign a token naming another issuer.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import requests
from werkzeug.serving import make_server

from engine.config import FEIDE_PRINCIPAL_CLAIM


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FaultyProvider:
    """WSGI wrapper around the mock provider; see the module's docstring."""

    def __init__(self, app):
        self.app = app
        self.fault: str | None = None
        self.tampered_value = "rektor@nordli.no"
        self.authorize_requests: list[dict] = []
        self.token_refusals: list[str] = []
        self._challenges: dict[str, tuple[str, str]] = {}
        self.port = 0

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    def _authorize(self, environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.authorize_requests.append(query)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        body = list(self.app(environ, capture))  # start_response runs while the body is produced
        location = dict(captured.get("headers") or []).get("Location", "")
        code = parse_qs(urlsplit(location).query).get("code", [None])[0]
        if code:
            self._challenges[code] = (query.get("code_challenge", ""), query.get("code_challenge_method", ""))
        return body

    def _token(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        challenge, method = self._challenges.pop(form.get("code", ""), ("", ""))
        verifier = form.get("code_verifier", "")
        if method != "S256" or not verifier or _b64url(hashlib.sha256(verifier.encode()).digest()) != challenge:
            self.token_refusals.append("pkce")
            body = json.dumps({"error": "invalid_grant", "error_description": "PKCE verification failed"}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body)))])
            return [body]
        if self.fault == "issuer":
            # The mock names the issuer after the host it was asked on: another name for the same
            # server gives a correctly signed token from "another" issuer.
            environ["HTTP_HOST"] = f"localhost:{self.port}"
        if self.fault != "tamper":
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        token = json.loads(b"".join(self.app(environ, capture)))
        header, payload, signature = token["id_token"].split(".")
        claims = json.loads(_b64url_decode(payload))
        claims[FEIDE_PRINCIPAL_CLAIM] = self.tampered_value
        token["id_token"] = ".".join([header, _b64url(json.dumps(claims).encode()), signature])
        body = json.dumps(token).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]


class RunningProvider:
    def __init__(self, url: str, wrapper: FaultyProvider):
        self.url = url
        self.issuer = url
        self.wrapper = wrapper

    def add_person(self, sub: str, principal: str | None, name: str = "") -> None:
        """A person the provider knows; ``principal`` is their Feide name (None: the claim is absent)."""
        claims = {"name": name or sub}
        if principal is not None:
            claims[FEIDE_PRINCIPAL_CLAIM] = principal
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=10).raise_for_status()

    @property
    def fault(self) -> str | None:
        return self.wrapper.fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        self.wrapper.fault = value


@contextmanager
def oidc_provider():
    """Start the provider on 127.0.0.1 at a free port; yields a ``RunningProvider``."""
    import oidc_provider_mock

    wrapper = FaultyProvider(oidc_provider_mock.app(require_nonce=True))
    httpd = make_server("127.0.0.1", 0, wrapper, threaded=True)
    wrapper.port = httpd.server_port
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningProvider(f"http://127.0.0.1:{httpd.server_port}", wrapper)
    finally:
        httpd.shutdown()
