"""Ny melding: the report form (meldingsskjema) and its receipt."""
from __future__ import annotations

import secrets

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.errors import Denied, DiagramFailed, InvalidInput
from engine.read import queries

from . import bounds, formview, security
from .auth import kap12, login_required

bp = Blueprint("reports", __name__, url_prefix="/melding")

REPORT_FORM = "meldingsskjema"
ACCUSED_FIELD = "anklaget_bruker"
OFFENDER_FIELD = "krenker_type"
ONCE_FIELD = "_once"
_MAX_REMEMBERED = 20


def _state(values=None, errors=None, post=None) -> formview.FormState:
    form = kap12().forms.get(REPORT_FORM)
    state = formview.from_post(form, post) if post is not None else formview.FormState(form, values or {})
    if errors:
        state.errors = errors
    return state


def _render(state: formview.FormState, school_id: int | None, once: str, message: str | None = None, code=200):
    viewer = g.viewer
    schools = queries.report_schools(kap12(), viewer)
    if school_id is None and len(schools) == 1:
        school_id = schools[0][0]
    staff = queries.school_staff(kap12(), [s for s, _ in schools], exclude_user_id=viewer.id)
    state.widgets[ACCUSED_FIELD] = {
        "options": staff,
        "empty": _("– Ingen valgt / vet ikke –"),
        "hint": _("Velg bare hvis en ansatt eller noen i ledelsen er den som krenker. "
                  "Den du velger får aldri se saken."),
        "show_when": (OFFENDER_FIELD, ("ansatt", "ledelse")),
    }
    return render_template("report_new.html", state=state, schools=schools, school_id=school_id,
                           once=once, message=message), code


@bp.get("/ny")
@login_required
def new():
    today = kap12().clock.now().date().isoformat()
    return _render(_state({"kjent_dato": today}), None, secrets.token_urlsafe(16))


@bp.post("/ny")
@login_required
def submit():
    once = request.form.get(ONCE_FIELD) or secrets.token_urlsafe(16)
    school_id = bounds.parse_id(request.form.get("school_id"))
    state = _state(post=request.form)
    if formview.wants_row(request.form):
        return _render(state, school_id, once)
    done = session.get("reported", {})
    if once in done:  # the same form sent twice (double click, reload): one case, one receipt
        return redirect(url_for("reports.receipt", case_id=done[once]))
    if school_id is None:
        state.errors = {"school_id": [_("Velg skolen saken gjelder.")]}
        return _render(state, None, once, code=422)
    try:
        case = kap12().report(g.viewer, school_id, state.values)
    except InvalidInput as err:
        state.errors = err.errors or {"_schema": [str(err)]}
        return _render(state, school_id, once, code=422)
    except Denied as err:
        return _render(state, school_id, once, message=str(err), code=403)
    except DiagramFailed as err:
        # The duty to report does not wait for a mended diagram: the text stays in the form,
        # and the reporter is told to go to the leadership in person now.
        message = _("Meldingen ble ikke lagret: %(reason)s Det du skrev, står fortsatt i skjemaet. "
                    "Si fra til ledelsen på skolen direkte nå, muntlig eller på telefon.", reason=str(err))
        return _render(state, school_id, once, message=message, code=409)
    g.committed = True
    done = dict(list(done.items())[-(_MAX_REMEMBERED - 1):])
    done[once] = case.id
    session["reported"] = done
    return redirect(url_for("reports.receipt", case_id=case.id))


@bp.get("/<id:case_id>/kvittering")
@login_required
@security.asks_first_from_elsewhere
def receipt(case_id: int):
    case, _level = kap12().case(g.viewer, case_id, view="receipt")
    tasks = kap12().case_tasks(case_id)
    roles = [r.role for r in tasks[0].roles] if tasks else []
    return render_template("report_receipt.html", case=case, roles=roles, first_task=tasks[0] if tasks else None,
                           owner_contact=kap12().settings.owner_contact)
