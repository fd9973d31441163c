"""Profil: who you are, and your personal API keys (made here, shown once, revocable)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import InvalidInput, NotFound
from engine.read import queries
from engine.write import accounts

from . import present
from .auth import kap12, login_required

bp = Blueprint("profile", __name__, url_prefix="/profil")


def _keys() -> list[dict]:
    return queries.api_keys(kap12(), g.viewer)


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
