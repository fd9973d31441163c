"""Profil: who you are, and your personal API keys (made here, shown once, revocable)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import InvalidInput, NotFound
from engine.store import directory
from engine.store.models import User

from . import present
from .auth import kap12, login_required

bp = Blueprint("profile", __name__, url_prefix="/profil")


def _keys() -> list[dict]:
    with kap12().db.reading() as session:
        user = session.get(User, g.viewer.id)
        return [{"id": t.id, "name": t.name, "created_at": t.created_at, "last_used_at": t.last_used_at,
                 "revoked_at": t.revoked_at} for t in directory.api_tokens(session, user)]


def _render(new_token: str | None = None, new_name: str = "", errors: dict | None = None, code: int = 200):
    return render_template("profile.html", keys=_keys(), new_token=new_token, new_name=new_name,
                           errors=errors or {}, role_names=present.ROLE_NAMES), code


@bp.get("")
@login_required
def index():
    return _render()


@bp.post("/api-nokler")
@login_required
def create_key():
    name = request.form.get("name", "")
    try:
        with kap12().db.writing() as session:
            user = session.get(User, g.viewer.id)
            _row, token = directory.create_api_token(session, user, name, kap12().clock.now())
    except InvalidInput as err:
        return _render(new_name=name, errors=err.errors or {"name": [str(err)]}, code=422)
    # Shown in this answer only (never stored in the session cookie, which is signed, not secret).
    return _render(new_token=token, new_name=name.strip())


@bp.post("/api-nokler/<id:key_id>/trekk-tilbake")
@login_required
def revoke_key(key_id: int):
    try:
        with kap12().db.writing() as session:
            user = session.get(User, g.viewer.id)
            directory.revoke_api_token(session, user, key_id, kap12().clock.now())
    except NotFound as err:
        flash(str(err), "warning")
        return redirect(url_for("profile.index"))
    flash(_("Nøkkelen er trukket tilbake. Programmer som bruker den, slipper ikke inn lenger."), "success")
    return redirect(url_for("profile.index"))
