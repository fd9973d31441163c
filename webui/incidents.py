"""Drift: timers that failed too often to retry by themselves (incidents), for administrators
and process owners, who can resolve them once the cause is fixed."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import InvalidInput, NotFound

from . import pager
from .auth import kap12, login_required

bp = Blueprint("incidents", __name__, url_prefix="/drift")


@bp.get("")
@login_required
def index():
    page = kap12().incidents(g.viewer, cursor=pager.cursor())
    return render_template("incidents.html", incidents=page.items, next_cursor=page.next_cursor)


@bp.post("/<timer_id>/prov-igjen")
@login_required
def resolve(timer_id: str):
    try:
        kap12().resolve_incident(g.viewer, timer_id, request.form.get("note", ""))
        flash(_("Tidsfristen prøves igjen ved neste runde."), "success")
    except InvalidInput as err:
        flash(str(err), "warning")
    except NotFound as err:
        flash(str(err), "warning")
    return redirect(url_for("incidents.index"))
