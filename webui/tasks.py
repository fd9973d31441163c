"""Mine oppgaver: the task list, claiming and releasing, and the task page with its form."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import Conflict, DiagramFailed, InvalidInput, NotFound
from engine.read import measures, queries

from . import bounds, formview, pager, present, security
from .auth import kap12, login_required
from .local_names import local_name, stage_text

bp = Blueprint("tasks", __name__, url_prefix="/oppgaver")

EVALUATION_FORM = "evaluering"


@bp.get("")
@login_required
def index():
    school = request.args.get("skole", "")
    procedure = request.args.get("prosedyre", "")
    choices = queries.task_choices(kap12(), g.viewer)
    page = queries.task_page(kap12(), g.viewer, school_id=bounds.parse_id(school),
                             procedure=procedure or None, cursor=pager.cursor())
    now = kap12().clock.now()
    return render_template("tasks.html", rows=page.items, next_cursor=page.next_cursor, has_tasks=choices.has_tasks,
                           schools=choices.schools, procedures=choices.procedures, school=school,
                           procedure=procedure, now=now, deadline=present.deadline,
                           read_only=access.is_read_only(g.viewer),
                           owned_measures=measures.owned_count(kap12(), g.viewer))


def _conflict(err: Conflict, task_id: str):
    """A stale page: say so plainly on the task list, with a way to the case."""
    case_id = queries.case_of_task(kap12(), g.viewer, task_id)
    flash({"text": str(err), "link": url_for("cases.show", case_id=case_id) if case_id else None,
           "link_text": _("Se saken")}, "warning")
    return redirect(url_for("tasks.index"))


@bp.post("/<task_id>/ta")
@login_required
def claim(task_id: str):
    try:
        case = kap12().claim(g.viewer, task_id)
    except Conflict as err:
        return _conflict(err, task_id)
    g.committed = True
    flash(_("Oppgaven er din nå (sak %(number)s). Andre ser at du har den.", number=case.number), "info")
    return redirect(_back(task_id))


@bp.post("/<task_id>/legg-tilbake")
@login_required
def release(task_id: str):
    try:
        case = kap12().release(g.viewer, task_id)
    except Conflict as err:
        return _conflict(err, task_id)
    g.committed = True
    flash(_("Oppgaven er lagt tilbake (sak %(number)s). Alle med rollen kan ta den.", number=case.number), "info")
    return redirect(_back(task_id))


def _back(task_id: str) -> str:
    return url_for("tasks.show", task_id=task_id) if request.form.get("from") == "task" else url_for("tasks.index")


# The closing step's "registered in the county's archive": which archive that is comes from the
# configuration (KAP12_ARKIV_NAVN), not from the form, so one form serves every county.
ARCHIVED_FIELD = "arkivert_elements"


# A step that names the accused ("Identifisere den anklagede") picks a person employed at the
# case's school, as the report form does; the engine checks the choice (engine/write/parties.py).
ACCUSED_FIELD = "anklaget_bruker"


def _pickers(state: formview.FormState, case_id: int) -> None:
    """A list to pick a colleague from, for each person field (a measure's owner): the school's
    staff who may be named in the case (never the accused)."""
    people = None
    for f in state.form.fields:
        for sub, name in [(f, f.name)] + [(s, f"{f.name}.{s.name}") for s in f.fields]:
            if sub.type == "user":
                people = people if people is not None else measures.owner_choices(kap12(), case_id)
                state.widgets[name] = {"options": people, "empty": _("– Ingen valgt –")}


def _render(lookup: queries.TaskLookup, state: formview.FormState, code: int = 200):
    names = {f.name for f in state.form.fields}
    if ARCHIVED_FIELD in names:
        state.widgets.setdefault(ARCHIVED_FIELD, {"hint": _(
            "Kryss av når sakens dokumenter er registrert i fylkets arkivsystem (%(archive)s), for eksempel "
            "med arkivuttrekket under «Dokumenter» på saken.", archive=kap12().settings.archive_name)})
    case, level = kap12().case(g.viewer, lookup.case_id, view="task")
    if ACCUSED_FIELD in names:
        state.widgets.setdefault(ACCUSED_FIELD, {
            "options": queries.school_staff(kap12(), [case.school_id], exclude_user_id=g.viewer.id),
            "empty": _("– Velg person –")})
    _pickers(state, case.id)
    steps = queries.case_steps(kap12(), g.viewer, case.id)
    names = queries.display_names(kap12(), [lookup.task.assignee_id])
    may_do = lookup.workable and not access.is_read_only(g.viewer)
    # The evaluation looks at what was actually carried out of the plan, measure by measure.
    carried = measures.current_plan(kap12(), case.id) if lookup.task.form_key == EVALUATION_FORM else []
    return render_template("task.html", task=lookup.task, case=case, steps=steps, state=state, may_do=may_do,
                           carried=carried,
                           assignee=names.get(lookup.task.assignee_id), now=kap12().clock.now(),
                           deadline=present.deadline), code


@bp.get("/<task_id>")
@login_required
@security.asks_first_from_elsewhere
def show(task_id: str):
    try:
        lookup = queries.task_for(kap12(), g.viewer, task_id)
    except Conflict as err:
        return _conflict(err, task_id)
    return _render(lookup, formview.FormState(lookup.form, values=queries.earlier_answers(kap12(), g.viewer, lookup)))


@bp.post("/<task_id>")
@login_required
def submit(task_id: str):
    try:
        lookup = queries.task_for(kap12(), g.viewer, task_id)
    except Conflict as err:
        return _conflict(err, task_id)
    state = formview.from_post(lookup.form, request.form)
    if formview.wants_row(request.form):
        return _render(lookup, state)
    try:
        case = kap12().complete(g.viewer, task_id, state.values)
    except InvalidInput as err:
        state.errors = err.errors or {"_schema": [str(err)]}
        return _render(lookup, state, 422)
    except DiagramFailed as err:  # not the user's doing: keep what they wrote, say who can mend it
        state.errors = {"_schema": [str(err)]}
        return _render(lookup, state, 409)
    except Conflict as err:
        return _conflict(err, task_id)
    except NotFound:
        # Gone between the lookup and the write: for this user the same as a stale page.
        return _conflict(Conflict(_("Oppgaven er ikke lenger åpen. Ingenting ble endret.")), task_id)
    g.committed = True
    following = queries.task_page(kap12(), g.viewer, case_id=case.id, limit=1).items
    flash({"text": _("«%(title)s» er utført for sak %(number)s. Saken står nå på: %(stage)s.",
                     title=local_name(lookup.task.title), number=case.number, stage=stage_text(case.stage)),
           "link": url_for("tasks.show", task_id=following[0].task.id) if following else
           url_for("cases.show", case_id=case.id),
           "link_text": _("Gå videre til «%(title)s»", title=following[0].task.title) if following else
           _("Se saken")}, "success")
    for warning in kap12().form_warnings(lookup.form, state.values):
        flash(warning, "warning")
    return redirect(url_for("tasks.index"))
