"""Who is calling: a personal API token (``Authorization: Bearer k12_…``) or the log-in session.

A token is never mixed with the session: a request that sends one is judged by the token alone,
and a wrong token is 401 even with a valid session cookie. A browser cannot add that header to
a cross-site request, so token writes need no CSRF token; session writes send the session's
token in ``X-CSRF-Token``. Auditors read and every write they try is refused here, before
anything else is looked at.

A read with the session is refused when the browser says another site sent it
(``Sec-Fetch-Site: cross-site`` or ``same-site``): the SameSite=Lax cookie goes with a link or an
image from anywhere, and each case read is recorded in the reader's name, so any site could
fill a leader's read log. The pages ask first (``security.asks_first_from_elsewhere``); the API
has no page to ask on, and kap12's own pages call it from its own origin."""
from __future__ import annotations

import hmac

from flask import current_app, g, request, session

from engine import access
from engine.store import directory

from .. import security
from . import bp
from .problems import CSRF, ELSEWHERE, READ_ONLY, TOKEN, ApiProblem

BEARER = "bearer "
CHALLENGE = 'Bearer realm="kap12"'
OTHER_SITES = ("cross-site", "same-site")  # what a browser says of a request another site made


def kap12():
    return current_app.extensions["kap12"]


def public(view):
    """Mark a view that answers without authentication (the OpenAPI document)."""
    view.api_public = True
    return view


def _token_viewer(token: str) -> access.Viewer | None:
    k = kap12()
    holder = directory.token_holder(k.db, token, k.clock.now())
    return access.Viewer.holding(holder) if holder is not None else None


@bp.before_request
def authenticate():
    g.api_viewer, g.api_auth = None, None
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "api_public", False):
        return
    header = request.headers.get("Authorization")
    if header is not None:
        if not header[:len(BEARER)].lower() == BEARER:
            raise ApiProblem(401, "Bare «Authorization: Bearer k12_…» støttes.", type=TOKEN,
                             headers={"WWW-Authenticate": CHALLENGE})
        viewer = _token_viewer(header[len(BEARER):].strip())
        if viewer is None:
            raise ApiProblem(401, "API-nøkkelen er ukjent eller trukket tilbake.", type=TOKEN,
                             headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
        g.api_viewer, g.api_auth = viewer, "token"
    elif g.get("viewer") is not None:  # loaded from the session cookie by the app
        if request.headers.get("Sec-Fetch-Site") in OTHER_SITES:
            raise ApiProblem(403, "Et kall med innloggingsøkten fra en annen nettside avvises. Bruk en API-nøkkel, "
                                  "eller åpne adressen direkte.", type=ELSEWHERE, title="Fra en annen nettside")
        g.api_viewer, g.api_auth = g.viewer, "session"

    if g.api_viewer is None:
        if request.url_rule is None:  # an unknown address: 404/405 follow, not 401
            return
        raise ApiProblem(401, headers={"WWW-Authenticate": CHALLENGE})
    if request.method in security.UNSAFE_METHODS:
        if g.api_auth == "session":
            sent = request.headers.get(security.CSRF_HEADER, "")
            expected = session.get("csrf") or ""
            if not expected or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode()):
                raise ApiProblem(403, "En endring med innloggingsøkten må sende CSRF-nøkkelen i "
                                      f"«{security.CSRF_HEADER}» (se GET /api/v1/me).", type=CSRF,
                                 title="CSRF-nøkkel mangler")
        if access.is_read_only(g.api_viewer):
            raise ApiProblem(403, "Revisorer kan lese saker, men ikke endre noe.", type=READ_ONLY,
                             title="Bare lesetilgang")


def viewer() -> access.Viewer:
    return g.api_viewer
