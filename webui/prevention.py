"""Årshjul: the school's yearly prevention cycle (opplæringslova § 12-3). The cycles the viewer
may see, and rektor starting the cycle for a school year; each cycle is shown on its case page."""
from __future__ import annotations

import re

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import Conflict, Denied, NotFound
from engine.read import queries
from processes import deadlines

from . import present
from .auth import kap12, login_required

bp = Blueprint("prevention", __name__, url_prefix="/arshjul")

_YEAR = re.compile(r"^ÅR-(\d{4})-")


def school_year_of(number: str) -> str:
    """«2026/2027» from a cycle's number (engine.write.prevention.cycle_number: ÅR-2026-001)."""
    match = _YEAR.match(number or "")
    return f"{match[1]}/{int(match[1]) + 1}" if match else ""


def _current_school_year() -> int:
    """The school year under way: it begins in August."""
    return deadlines.school_year_of(kap12().clock.now())


def _rektor_schools() -> list[tuple[int, str]]:
    mine = access.cycle_schools(g.viewer)
    return [(sid, name) for sid, name in queries.report_schools(kap12(), g.viewer) if sid in mine]


def _render(values: dict | None = None, code: int = 200):
    cycles = kap12().prevention_cycles(g.viewer)
    names = dict(queries.report_schools(kap12(), g.viewer))
    current = _current_school_year()
    return render_template("prevention.html", cycles=cycles, school_names=names, school_year_of=school_year_of,
                           schools=_rektor_schools(), years=[current, current + 1],
                           values=values or {"skolear": str(current)}, now=kap12().clock.now(),
                           deadline=present.deadline), code


@bp.get("")
@login_required
def index():
    return _render()


@bp.post("")
@login_required
def start():
    values = {k: request.form.get(k, "").strip() for k in ("skole", "skolear")}
    schools = dict(_rektor_schools())
    current = _current_school_year()
    try:
        school_id, school_year = int(values["skole"]), int(values["skolear"])
    except ValueError:
        school_id, school_year = None, None
    if school_id not in schools or school_year not in (current, current + 1):
        flash(_("Velg skole og skoleår."), "warning")
        return _render(values, 422)
    try:
        case = kap12().start_prevention_cycle(g.viewer, school_id, school_year)
    except (Conflict, Denied, NotFound) as err:
        flash(str(err), "warning")
        return _render(values, 409 if isinstance(err, Conflict) else 403)
    g.committed = True
    flash(_("Årshjulet for %(school)s %(year)s er startet (%(number)s).", school=schools[school_id],
            year=school_year_of(case.number), number=case.number), "success")
    return redirect(url_for("cases.show", case_id=case.id))
