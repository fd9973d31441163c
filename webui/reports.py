"""Ny melding: the report form (meldingsskjema) and its receipt."""
from __future__ import annotations

import secrets

from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for
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
SCHOOL_CHANGED = "_school"  # «Vis ansatte ved skolen»: the form back, with that school's staff
_MAX_REMEMBERED = 20


def _state(values=None, errors=None, post=None) -> formview.FormState:
    form = kap12().forms.get(REPORT_FORM)
    state = formview.from_post(form, post) if post is not None else formview.FormState(form, values or {})
    if errors:
        state.errors = errors
    return state


def _render(state: formview.FormState, school_id: int | None, once: str, message: str | None = None, code=200):
    schools = queries.report_schools(kap12(), g.viewer)
    if school_id is None and len(schools) == 1:
        school_id = schools[0][0]
    if school_id not in {s for s, _ in schools}:
        school_id = None
    # Checked against the viewer's schools above: the staff query needs no second check.
    staff = queries.school_staff(kap12(), [school_id], exclude_user_id=g.viewer.id) if school_id is not None else None
    # The picker lists the chosen school's staff alone; until a school is chosen it waits.
    empty = {"chosen": _("– Ingen valgt / vet ikke –"), "waiting": _("– Velg skolen først –")}
    state.widgets[ACCUSED_FIELD] = {
        "options": staff or [],
        "disabled": staff is None,
        "empty": empty["chosen"] if staff is not None else empty["waiting"],
        "hint": _("Velg bare hvis en ansatt eller noen i ledelsen er den som krenker. "
                  "Den du velger får aldri se saken."),
        "show_when": (OFFENDER_FIELD, ("ansatt", "ledelse")),
    }
    return render_template("report_new.html", state=state, schools=schools, school_id=school_id,
                           once=once, message=message, empty=empty), code


@bp.get("/ny")
@login_required
def new():
    today = kap12().clock.now().date().isoformat()
    return _render(_state({"kjent_dato": today}), bounds.parse_id(request.args.get("skole")), secrets.token_urlsafe(16))


@bp.get("/ansatte")
@login_required
def staff():
    """The accused picker's options for another school, fetched by forms.js when the school is
    changed (without JavaScript, «Vis ansatte ved skolen» sends the form back instead)."""
    school_id = bounds.parse_id(request.args.get("skole"))
    found = queries.report_school_staff(kap12(), g.viewer, school_id) if school_id is not None else None
    if found is None:
        return jsonify({"error": _("Du kan ikke melde saker ved denne skolen.")}), 404
    return jsonify({"options": found})


@bp.post("/ny")
@login_required
def submit():
    once = request.form.get(ONCE_FIELD) or secrets.token_urlsafe(16)
    school_id = bounds.parse_id(request.form.get("school_id"))
    state = _state(post=request.form)
    if formview.wants_row(request.form) or request.form.get(SCHOOL_CHANGED):
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
