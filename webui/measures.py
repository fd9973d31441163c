"""Mine tiltak: the measures of action plans that a colleague is responsible for — the measure,
not the case — and recording whether each was carried out."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, InvalidInput
from engine.read import measures

from . import pager
from .auth import kap12, login_required

bp = Blueprint("measures", __name__, url_prefix="/tiltak")


def _render(errors: dict | None = None, values: dict | None = None, failed: int | None = None, code: int = 200):
    page = measures.owned_page(kap12(), g.viewer, cursor=pager.cursor())
    return render_template("measures.html", rows=page.items, next_cursor=page.next_cursor,
                           total=measures.owned_count(kap12(), g.viewer),
                           statuses=measures.status_labels(kap12()), errors=errors or {}, values=values or {},
                           failed=failed), code


@bp.get("")
@login_required
def index():
    return _render()


@bp.post("/<id:measure_id>")
@login_required
def record(measure_id: int):
    values = {k: request.form.get(k, "").strip() for k in ("status", "merknad")}
    try:
        case = kap12().record_measure(g.viewer, measure_id, values["status"], values["merknad"])
    except InvalidInput as err:
        return _render({"_": [str(err)], **(err.errors or {})}, values, measure_id, 422)
    except Conflict as err:
        flash(str(err), "warning")
        return redirect(url_for("measures.index", etter=pager.cursor()))
    g.committed = True
    flash(_("Registrert for tiltaket i sak %(number)s. Den som leder saken, ser det når tiltakene gjennomgås.",
            number=case.number), "success")
    return redirect(url_for("measures.index", etter=pager.cursor()) + f"#tiltak-{measure_id}")

