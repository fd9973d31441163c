"""Innlogginger: who is logged in where, for administrators, who can log a person (or everyone
else) out of every browser at once – after a lost laptop, a shared password, or a departure."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from engine import access
from engine.errors import Denied
from engine.read import sessions as live_sessions
from engine.write import sessions as web_sessions

from . import bounds, pager
from .auth import idle_timeout, kap12, login_required, now, session_token

bp = Blueprint("logins", __name__, url_prefix="/drift/innlogginger")


def _administrator_only() -> None:
    if not access.may_end_sessions(g.viewer):
        raise Denied(_("Bare administratorer ser og avslutter innlogginger."))


@bp.get("")
@login_required
def index():
    _administrator_only()
    page = live_sessions.live(kap12().db, now(), idle_timeout(), access.administered_people(g.viewer),
                              cursor=pager.cursor())
    return render_template("logins.html", sessions=page.items, next_cursor=page.next_cursor, own=g.viewer.id,
                           idle_minutes=kap12().settings.session_idle_minutes)


@bp.post("/logg-ut")
@login_required
def end():
    _administrator_only()
    everyone = request.form.get("alle") == "1"
    user_id = bounds.parse_id(request.form.get("user_id"))
    if not everyone and user_id is None:
        flash(_("Velg hvem som skal logges ut."), "warning")
        return redirect(url_for("logins.index"))
    ended = web_sessions.end_everywhere(kap12().db, None if everyone else [user_id], now(),
                                        keep=session_token(), among=access.administered_people(g.viewer))
    g.committed = True
    flash(ngettext("%(num)d innlogging er avsluttet.", "%(num)d innlogginger er avsluttet.", ended), "success")
    return redirect(url_for("logins.index"))
