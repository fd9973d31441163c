"""Varsler: the in-app notices (new tasks, reminders, escalations, reclassifications)."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from . import pager
from .auth import kap12, login_required

bp = Blueprint("notices", __name__, url_prefix="/varsler")


@bp.get("")
@login_required
def index():
    page = kap12().notice_page(g.viewer, cursor=pager.cursor())
    return render_template("notices.html", notices=page.items, next_cursor=page.next_cursor)


@bp.post("/lest")
@login_required
def mark_read():
    kap12().mark_notices_read(g.viewer)
    return redirect(url_for("notices.index"))
