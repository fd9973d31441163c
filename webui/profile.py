"""Profil: who you are, your password, and your personal API keys (made here, shown once, revocable)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from engine.errors import InvalidInput, NotFound
from engine.read import queries
from engine.write import accounts, login_throttle
from engine.write import sessions as web_sessions

from . import present
from .auth import kap12, login_required, now, session_token, wait_message

bp = Blueprint("profile", __name__, url_prefix="/profil")


def _keys() -> list[dict]:
    return queries.api_keys(kap12(), g.viewer)


def _render(new_token: str | None = None, new_name: str = "", errors: dict | None = None, code: int = 200,
            password_errors: dict | None = None):
    return render_template("profile.html", keys=_keys(), new_token=new_token, new_name=new_name,
                           errors=errors or {}, role_names=present.ROLE_NAMES, password_errors=password_errors or {},
                           local_login=kap12().settings.local_login), code


@bp.get("")
@login_required
def index():
    return _render()


# The throttle's account for the password page: the person by id (a user name may change), apart
# from their log-ins, counted as one known browser is (``login_throttle``): the account's few tries.
_THROTTLE_NAME, _THROTTLE_PLACE = "#%d", "profil"


@bp.post("/passord")
@login_required
def change_password():
    """A new password ends every other session of this person; this browser stays logged in."""
    current, new = request.form.get("current", ""), request.form.get("new", "")
    if new != request.form.get("repeat", ""):
        return _render(password_errors={"repeat": [_("Du skrev to forskjellige nye passord.")]}, code=422)
    # The current password is guessed here as at the log-in (someone at a browser left logged
    # in, to learn a password that outlives the session): counted first, the same few tries.
    ip = request.remote_addr or "?"
    wait = login_throttle.begin_attempt(kap12().db, _THROTTLE_NAME % g.viewer.id, ip, now(), _THROTTLE_PLACE)
    if wait:
        return _render(password_errors={"current": [wait_message(wait)]}, code=429)
    try:
        ended = web_sessions.change_password(kap12().db, g.viewer.id, current, new, now(),
                                          keep_session=session_token())
    except InvalidInput as err:
        if err.errors and "current" not in err.errors:  # the current password was right
            login_throttle.succeeded(kap12().db, _THROTTLE_NAME % g.viewer.id, ip, now(), _THROTTLE_PLACE)
        return _render(password_errors=err.errors or {"current": [str(err)]}, code=422)
    login_throttle.succeeded(kap12().db, _THROTTLE_NAME % g.viewer.id, ip, now(), _THROTTLE_PLACE)
    g.committed = True
    flash(ngettext("Passordet er endret. %(num)d annen innlogging ble avsluttet.",
                   "Passordet er endret. %(num)d andre innlogginger ble avsluttet.", ended)
          if ended else _("Passordet er endret."), "success")
    return redirect(url_for("profile.index"))


@bp.post("/api-nokler")
@login_required
def create_key():
    name = request.form.get("name", "")
    try:
        token = accounts.create_api_key(kap12(), g.viewer, name)
    except InvalidInput as err:
        return _render(new_name=name, errors=err.errors or {"name": [str(err)]}, code=422)
    # Shown in this answer only (never stored in the session cookie, which is signed, not secret).
    return _render(new_token=token, new_name=name.strip())


@bp.post("/api-nokler/<id:key_id>/trekk-tilbake")
@login_required
def revoke_key(key_id: int):
    try:
        accounts.revoke_api_key(kap12(), g.viewer, key_id)
    except NotFound as err:
        flash(str(err), "warning")
        return redirect(url_for("profile.index"))
    flash(_("Nøkkelen er trukket tilbake. Programmer som bruker den, slipper ikke inn lenger."), "success")
    return redirect(url_for("profile.index"))
