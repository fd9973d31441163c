"""Log-in and log-out with local accounts, and the ``login_required`` guard every page uses."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.errors import NotFound
from engine.read import queries
from engine.store import directory

from . import bounds

bp = Blueprint("auth", __name__)

# Verifying against a real hash for unknown usernames takes as long as for known ones, so
# the answer time does not tell which usernames exist.
_DUMMY_HASH = directory.hash_password("kap12-not-a-password")


def kap12():
    return current_app.extensions["kap12"]


@bp.context_processor
def _login_options():
    settings = kap12().settings
    return {"oidc": settings.oidc, "local_login": settings.local_login}


def load_viewer() -> None:
    g.viewer = None
    username = session.get("username")
    if not username:
        return
    try:
        g.viewer = kap12().viewer(username)
    except NotFound:  # deactivated or removed since logging in
        session.clear()


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("viewer") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def _safe_next(target: str | None) -> str:
    """Only paths on this site; never an absolute or scheme-relative URL (open redirect), and
    nothing that would break the Location header."""
    if not bounds.is_safe_path(target):
        return url_for("tasks.index")
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else url_for("tasks.index")


@bp.route("/logg-inn", methods=["GET", "POST"])
def login():
    throttle = current_app.extensions["kap12.throttle"]
    next_url = request.values.get("next", "")
    if request.method != "POST":  # GET and HEAD: never count as a log-in attempt
        if g.get("viewer") is not None:
            return redirect(_safe_next(next_url))
        return render_template("login.html", next=next_url, username="")
    if not kap12().settings.local_login:
        return render_template("login.html", next=next_url, username="",
                               error=_("Innlogging med brukernavn og passord er slått av her.")), 403
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    ip = request.remote_addr or "?"
    wait = throttle.wait_seconds(username, ip)
    if wait:
        minutes = (wait + 59) // 60
        message = (_("For mange mislykkede forsøk. Vent %(n)s sekunder og prøv igjen.", n=wait) if wait < 120
                   else _("For mange mislykkede forsøk. Vent %(n)s minutter og prøv igjen.", n=minutes))
        return render_template("login.html", next=next_url, username=username, error=message), 429
    user = queries.user_for_login(kap12(), username) if username else None
    if user is None:
        directory.check_password(_PhantomUser(), password)
        ok = False
    else:
        ok = directory.check_password(user, password)
    if not ok:
        throttle.failed(username, ip)
        return render_template("login.html", next=next_url, username=username,
                               error=_("Feil brukernavn eller passord.")), 401
    throttle.succeeded(username)
    log_in(user.username)
    return redirect(_safe_next(next_url))


def log_in(username: str) -> None:
    """The one way a person becomes logged in, whether by password or through an identity
    provider. A fresh session: nothing planted before it (a fixed session id) survives."""
    session.clear()
    session.permanent = True
    session["username"] = username


@bp.post("/logg-ut")
def logout():
    session.clear()
    return redirect(url_for("auth.login", logged_out=1))


class _PhantomUser:
    password_hash = _DUMMY_HASH
    active = True
