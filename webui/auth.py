"""Log-in and log-out with local accounts, and the ``login_required`` guard every page uses.

A log-in is a row in the database (``engine.read.sessions``, ``engine.write.sessions``): the signed cookie carries
only its random token, and every request checks the row, so log-out, the idle timeout, a
changed password and an administrator's "log out everywhere" take effect at once, in every
worker, for every copy of the cookie. Attempts are counted in the database before the password
is checked (``engine.write.login_throttle``)."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import InvalidInput
from engine.read import queries
from engine.read import sessions as live_sessions
from engine.store import directory
from engine.write import first_password, login_throttle
from engine.write import sessions as web_sessions

from . import bounds, known_devices

bp = Blueprint("auth", __name__)

def kap12():
    return current_app.extensions["kap12"]


@bp.context_processor
def _login_options():
    settings = kap12().settings
    return {"oidc": settings.oidc, "local_login": settings.local_login}


SESSION_TOKEN = "sid"
# Log-in sessions and the throttle run on wall-clock time, never on the case clock that tests
# and replays move: moving a case two weeks ahead must not log anyone out.
SESSION_CLOCK = "kap12.session_clock"


def now() -> datetime:
    return current_app.extensions[SESSION_CLOCK].now()


def idle_timeout() -> timedelta:
    return timedelta(minutes=kap12().settings.session_idle_minutes)


def load_viewer() -> None:
    """The person this request comes from, if its session row is live; else nobody, and the
    cookie's leftovers (an ended session, or one from before sessions were rows) are dropped."""
    g.viewer = None
    token = session.get(SESSION_TOKEN)
    if not token:
        if "username" in session:  # a cookie signed before log-ins were rows: not a log-in
            session.clear()
        return
    holder = live_sessions.holder_of(kap12().db, token, now(), idle_timeout())
    if holder is None:  # logged out, timed out, ended by an administrator, or deactivated
        session.clear()
        return
    g.viewer = access.Viewer.holding(holder)


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
    device = known_devices.device_for(username, lambda: queries.password_hash_for_login(kap12(), username))
    # Counted before the password is looked at, so parallel guesses cannot outrun the count.
    wait = login_throttle.begin_attempt(kap12().db, username, ip, now(), device)
    if wait:
        return render_template("login.html", next=next_url, username=username, error=wait_message(wait)), 429
    user = queries.user_for_login(kap12(), username) if username else None
    if len(password) > directory.PASSWORD_MAX:  # never a password here; argon2 need not read it
        user, password = None, ""
    # As long for every name: the answer time tells no name that exists, nor which cannot log in.
    ok = directory.check_password(user, password)
    if not ok or user is None:
        return render_template("login.html", next=next_url, username=username,
                               error=_("Feil brukernavn eller passord.")), 401
    if user.password_temporary_until is not None:
        chosen = _first_password(user, password, next_url)
        if chosen is not None:  # not yet: the page to choose one's own, or why not
            return chosen
        user = queries.user_for_login(kap12(), username)  # with the password just chosen
    login_throttle.succeeded(kap12().db, username, ip, now(), device)
    log_in(user)
    response = redirect(_safe_next(next_url))
    known_devices.remember(response, username, user.password_hash)
    return response


def _first_password(user, first: str, next_url: str):
    """A first password (``engine/write/first_password.py``) logs in only by choosing one's own
    in the same request; until then no session exists. None: chosen, log in. The first password
    travels back with the page that asks for the new one (never stored anywhere but the page,
    which is not cached), and is checked again as a log-in when it comes back."""
    if first_password.is_expired(user, now()):
        return render_template("login.html", next=next_url, username=user.username,
                               error=_("Førstegangspassordet er utløpt. Be administratoren om et nytt.")), 401
    new = request.form.get("new")
    if new is None:
        return render_template("first_password.html", next=next_url, username=user.username, first=first,
                               errors={})
    if new != request.form.get("repeat", ""):
        errors = {"repeat": [_("Du skrev to forskjellige nye passord.")]}
    else:
        try:
            web_sessions.change_password(kap12().db, user.id, first, new, now())
            g.committed = True
            return None
        except InvalidInput as err:
            errors = err.errors or {"new": [str(err)]}
    return render_template("first_password.html", next=next_url, username=user.username, first=first,
                           errors=errors), 422


def log_in(user) -> None:
    """The one way a person becomes logged in, whether by password or through an identity
    provider: a new session row. A fresh cookie too: nothing planted before it (a fixed
    session id) survives."""
    token = web_sessions.start(kap12().db, user.id, now(), address=request.remote_addr or "",
                               agent=request.user_agent.string or "")
    session.clear()
    session.permanent = True
    session[SESSION_TOKEN] = token


def session_token() -> str | None:
    return session.get(SESSION_TOKEN)


def wait_message(wait: int) -> str:
    """What a person refused by the throttle is told: how long to wait."""
    if wait < 120:
        return _("For mange mislykkede forsøk. Vent %(n)s sekunder og prøv igjen.", n=wait)
    return _("For mange mislykkede forsøk. Vent %(n)s minutter og prøv igjen.", n=(wait + 59) // 60)


@bp.post("/logg-ut")
def logout():
    web_sessions.end(kap12().db, session.get(SESSION_TOKEN), now())
    session.clear()
    return redirect(url_for("auth.login", logged_out=1))
