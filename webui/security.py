"""Session secret, CSRF tokens and security headers (log-in throttling: engine.write.login_throttle).

Kept small and ours rather than pulled from an extension: each piece is a few lines and the
rules are easy to read in one place."""
from __future__ import annotations

import hmac
import os
import secrets
from functools import wraps
from pathlib import Path

from flask import abort, render_template, request, session

CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Only our own files run: scripts from /static (the vendored bpmn-js and our small scripts),
# no inline script. bpmn-js styles its SVG through style attributes, so inline styles are
# allowed; the diagram's "powered by" logo is a data: image.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def secret_key(instance_dir: Path, configured: str | None = None) -> str:
    """The configured key (KAP12_SECRET_KEY), or a random key kept in the instance folder so
    that sessions survive a restart and every worker on the machine agrees on it."""
    if configured:
        return configured
    path = Path(instance_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a name of its own, then linked into place, which fails if another
        # worker starting at the same moment was first: the key is then theirs. (Created in
        # place, a second worker could read the file between its creation and its writing, and
        # sign its sessions with an empty key: 60 of 200 tries of four at once.)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{path} is empty: remove it (a new key is made) or set KAP12_SECRET_KEY")
    return key


# -- CSRF ------------------------------------------------------------------------------------
def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse any state-changing request whose token does not match the session's. The JSON API
    (/api/v1/) checks for itself: a bearer token needs none, a session write sends the header."""
    if request.method not in UNSAFE_METHODS or request.path.startswith("/api/v1/"):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")


def apply_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if not request.path.startswith("/static/"):
        # Pages carry confidential case data: keep them out of shared and back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- a case opened from another site -----------------------------------------------------------
def asks_first_from_elsewhere(view):
    """A page that records a read of the case in the viewer's name (who read it is part of the
    case's record). The session cookie is SameSite=Lax, so a link on another site opens the page
    with the viewer's session: anyone could make a leader's browser read a case, and the record
    would say the leader read it. So a page reached from another site (the browser's
    ``Sec-Fetch-Site: cross-site``) asks first, and the read happens when the person follows the
    link on our own page. A link in a mail program, a bookmark or a typed address comes from no
    site (``none``) and opens at once, as does a browser that does not say."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method == "GET" and request.headers.get("Sec-Fetch-Site") == "cross-site":
            return render_template("open_from_elsewhere.html", target=request.full_path.rstrip("?"))
        return view(*args, **kwargs)
    return wrapped
