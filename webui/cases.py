"""Saker: the case list, the case page (summary, timeline, diagram, earlier steps) and
reclassification."""
from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import Conflict, InvalidInput
from engine.read import case_list, measures, queries
from engine.write import notes, owner_notice
from processes.deadlines import statsforvalter_from
from processes.roles import OFFENDER_PROCEDURE

from . import bounds, formview, pager, present, security
from .auth import kap12, login_required
from .i18n import lazy_gettext as _l

bp = Blueprint("cases", __name__, url_prefix="/saker")

OFFENDER_WORDS = {"elev": _l("En elev (prosedyre A)"), "ansatt": _l("En ansatt ved skolen (prosedyre B)"),
                  "ledelse": _l("Noen i skolens ledelse (prosedyre C)")}


# Searched by number, the status tabs count up to this many cases and then say "over": the list
# is paged, and counting every case whose number matches would grow with the county's history.
# (Unsearched, the counts are exact and summed from the case tallies.)
COUNTED_UP_TO = 1000


@bp.get("")
@login_required
def index():
    asked = request.args.get("status", "open")
    status = asked if asked in case_list.STATUSES else None  # anything else: every case («alle»)
    procedure = request.args.get("prosedyre", "")
    school = request.args.get("skole", "")
    search = request.args.get("q", "").strip()
    viewer = kap12().with_reach(g.viewer)  # the list, its counts and its schools ask the same cases
    cap = COUNTED_UP_TO if search else None  # unsearched, the counts are exact (summed from tallies)
    page = kap12().case_page(viewer, status,
                             procedure=procedure or None, school=school or None, search=search or None,
                             cursor=pager.cursor())
    schools = [name for _, name in queries.case_schools(kap12(), viewer)]
    counts = kap12().case_status_counts(viewer, procedure=procedure or None, school=school or None,
                                        search=search or None, cap=cap)
    return render_template("cases.html", rows=page.items, next_cursor=page.next_cursor,
                           status=status or "alle", procedure=procedure,
                           school=school, search=search, schools=schools, counts=counts, now=kap12().clock.now(),
                           deadline=present.deadline, cap=cap)


ENDING_FORM = "annen_avslutning"
# The latest openings listed on the case page (the count is of all; the history keeps all).
READS_SHOWN = 50
# A case followed up for a year has hundreds of events and filled-in forms: the page shows the
# latest (and the report), the whole of both one click away («Vis hele historikken»).
TIMELINE_SHOWN = 100
STEPS_SHOWN = 25
WHOLE_ARG = "historikk"


def _latest(items: list, shown: int, keep_first: bool = False) -> list:
    if request.args.get(WHOLE_ARG) == "alle" or len(items) <= shown:
        return items
    return items[:1] + items[len(items) - shown + 1:] if keep_first else items[-shown:]


def _render_case(case_id: int, reclass: dict | None = None, code: int = 200, granting: dict | None = None,
                 naming: dict | None = None, ending: formview.FormState | None = None,
                 evaluating: dict | None = None, noting: dict | None = None, asking: dict | None = None):
    case, level = kap12().case(g.viewer, case_id)
    if level != access.FULL:
        # The reporter: where the case stands, not what the investigation found.
        return render_template("case_status.html", case=case, handled=kap12().case_handled(case)), code
    tasks = kap12().case_tasks(case_id)
    events = kap12().case_history(case_id, reads=False)
    timeline = _latest(events, TIMELINE_SHOWN)
    steps = queries.steps_from(events)  # FULL access was checked by kap12().case above
    read_count, reads = kap12().case_reads(case_id, READS_SHOWN)
    reported = queries.reported_at(events)
    taken_up = queries.taken_up_on(events)
    names = queries.display_names(kap12(), [t.assignee_id for t in tasks])
    circle = queries.case_circle(kap12(), g.viewer, case)
    may_end = access.may_end_otherwise(g.viewer, case) and case.status == "open"
    if may_end and ending is None:
        ending = formview.FormState(kap12().forms.get(ENDING_FORM))
    timers = kap12().case_timers(case_id)
    return render_template(
        "case.html", case=case, tasks=tasks, timers=timers, timeline=timeline, reads=reads, read_count=read_count,
        show_reads=queries.sees_read_log(g.viewer, case), steps=_latest(steps, STEPS_SHOWN, keep_first=True),
        event_total=len(events), step_total=len(steps),
        reported=reported, taken_up=taken_up, statsforvalter_from=statsforvalter_from(taken_up),
        reporting=present.reporting(queries.known_on(events), reported),
        may_reclassify=queries.may_reclassify(g.viewer, case) and case.status == "open",
        offender_words=OFFENDER_WORDS, reclass=reclass or {"values": {}, "errors": {}},
        staff=queries.school_staff(kap12(), [case.school_id], exclude_user_id=g.viewer.id),
        names=names, now=kap12().clock.now(), deadline=present.deadline,
        deadline_rows=kap12().case_deadlines(case_id, events), deadline_outcome=present.deadline_outcome,
        read_only=access.is_read_only(g.viewer), circle=circle,
        granting=granting or {"values": {}, "errors": {}}, naming=naming or {"values": {}, "errors": {}},
        may_end=may_end, ending=ending,
        may_evaluate_now=access.may_evaluate_now(g.viewer, case) and measures.waits_for_evaluation(tasks, timers),
        evaluating=evaluating or {"values": {}, "errors": {}},
        may_note=notes.offered(g.viewer, case),
        note_targets=queries.note_targets(events), noting=noting or {"values": {}, "errors": {}},
        may_ask_owner_notice=owner_notice.offered(g.viewer, case, tasks),
        asking=asking or {"values": {}, "errors": {}}), code


@bp.get("/<id:case_id>")
@login_required
@security.asks_first_from_elsewhere
def show(case_id: int):
    return _render_case(case_id)


@bp.get("/<id:case_id>/diagram.json")
@login_required
@security.asks_first_from_elsewhere
def diagram(case_id: int):
    """The diagrams of the case's version with the ids to mark done (green) and open (blue)."""
    processes = kap12().case_diagrams(g.viewer, case_id)
    return jsonify({"processes": [{"id": p.process_id, "name": p.name, "xml": p.xml, "completed": p.completed,
                                   "active": p.active} for p in processes]})


@bp.post("/<id:case_id>/omklassifiser")
@login_required
def reclassify(case_id: int):
    values = {k: request.form.get(k, "").strip() for k in ("krenker_type", "begrunnelse", "anklaget_bruker")}
    if values["krenker_type"] not in OFFENDER_PROCEDURE:
        return _render_case(case_id, {"values": values, "errors": {"krenker_type": [_("Velg hvem som krenker.")]}}, 422)
    try:
        case = kap12().reclassify(g.viewer, case_id, values["krenker_type"], values["begrunnelse"],
                                  values["anklaget_bruker"] or None)
    except InvalidInput as err:
        return _render_case(case_id, {"values": values, "errors": err.errors or {"_": [str(err)]}}, 422)
    except Conflict as err:
        flash(str(err), "warning")
        return redirect(url_for("cases.show", case_id=case_id))
    g.committed = True
    if not queries.can_see(kap12(), g.viewer, case_id):
        # Procedure C bypasses the school's leadership: the one who moved it there loses access.
        flash(_("Sak %(number)s følger nå %(procedure)s og er sendt videre. Du har ikke lenger tilgang til den.",
                number=case.number, procedure=present.procedure_label(case.procedure)), "success")
        return redirect(url_for("cases.index"))
    flash(_("Saken følger nå %(procedure)s. Endringen og begrunnelsen er lagret i historikken.",
            procedure=present.procedure_label(case.procedure)), "success")
    return redirect(url_for("cases.show", case_id=case_id))


def _form(*names: str) -> dict:
    return {k: request.form.get(k, "").strip() for k in names}


def _act(case_id: int, anchor: str, done: str, act, invalid=None):
    """Run one act on the case: on bad input show the page again (``invalid``), on a conflict
    say why, otherwise confirm; either way back to the part of the case page it concerns."""
    back = url_for("cases.show", case_id=case_id) + anchor
    try:
        act()
    except InvalidInput as err:
        if invalid is None:
            raise
        return invalid({"_": [str(err)], **(err.errors or {})})
    except Conflict as err:
        flash(str(err), "warning")
        return redirect(back)
    g.committed = True
    flash(done, "success")
    return redirect(back)


@bp.post("/<id:case_id>/tilgang")
@login_required
def grant(case_id: int):
    """Rektor (A, B) or the school owner (C) gives a named employee access to the case."""
    values = _form("bruker", "begrunnelse", "til")
    return _act(case_id, "#tilgang", _("Tilgangen er gitt. Den står i sakens historikk."),
                lambda: kap12().grant_access(g.viewer, case_id, values["bruker"], values["begrunnelse"], values["til"]),
                lambda errors: _render_case(case_id, granting={"values": values, "errors": errors}, code=422))


@bp.post("/<id:case_id>/tilgang/<id:grant_id>/trekk")
@login_required
def withdraw(case_id: int, grant_id: int):
    reason = request.form.get("begrunnelse", "").strip()
    return _act(case_id, "#tilgang", _("Tilgangen er trukket tilbake. Det står i sakens historikk."),
                lambda: kap12().withdraw_access(g.viewer, case_id, grant_id, reason))


@bp.post("/<id:case_id>/anklaget")
@login_required
def identify(case_id: int):
    """Rektor (B) or the school owner (B, C) records who the accused is."""
    values = _form("anklaget_bruker", "begrunnelse")
    return _act(case_id, "#anklaget", _("Den anklagede er registrert og har ikke lenger tilgang til saken."),
                lambda: kap12().identify_accused(g.viewer, case_id, values["anklaget_bruker"], values["begrunnelse"]),
                lambda errors: _render_case(case_id, naming={"values": values, "errors": errors}, code=422))


@bp.post("/<id:case_id>/avslutt")
@login_required
def end(case_id: int):
    """Rektor (A, B) or the school owner (B, C) ends the case for another reason than "the pupil
    is safe": the pupil left, the case was joined with another, or it is outside chapter 12."""
    state = formview.from_post(kap12().forms.get(ENDING_FORM), request.form)

    def invalid(errors):
        # The field messages say it all; the general sentence only when no field is named.
        state.errors = {k: v for k, v in errors.items() if k != "_"} or errors
        return _render_case(case_id, ending=state, code=422)
    return _act(case_id, "", _("Saken er avsluttet. Grunnen står i historikken, og brevet til eleven og "
                               "foresatte ligger under Dokumenter."),
                lambda: kap12().end_case(g.viewer, case_id, state.values), invalid)


@bp.post("/<id:case_id>/notat")
@login_required
def note(case_id: int):
    """Whoever works the case writes down what happened between the steps, or corrects an
    earlier step with a new record."""
    values = _form("notat", "retter")
    corrects = bounds.parse_id(values["retter"])
    if values["retter"] and corrects is None:
        return _render_case(case_id, noting={"values": values, "errors": {"retter": [_("Velg et steg fra listen.")]}},
                            code=422)
    return _act(case_id, "#notat", _("Notatet er lagret i sakens historikk."),
                lambda: kap12().add_note(g.viewer, case_id, values["notat"], corrects),
                lambda errors: _render_case(case_id, noting={"values": values, "errors": errors}, code=422))


@bp.post("/<id:case_id>/varsle-skoleeier")
@login_required
def ask_owner_notice(case_id: int):
    """The one who leads an A case asks rektor to notify the school owner: the case has turned
    out serious after the receipt."""
    values = _form("begrunnelse")
    return _act(case_id, "", _("Rektor har fått oppgaven «Varsle skoleeier». Hvem, når og hvorfor står i sakens "
                               "historikk."),
                lambda: kap12().ask_owner_notice(g.viewer, case_id, values["begrunnelse"]),
                lambda errors: _render_case(case_id, asking={"values": values, "errors": errors}, code=422))


@bp.post("/<id:case_id>/evaluer-na")
@login_required
def evaluate_now(case_id: int):
    """The one who leads the case opens the evaluation before the plan's date, saying why."""
    values = _form("begrunnelse")
    return _act(case_id, "", _("Evalueringen er åpnet nå, før evalueringsdatoen. Hvem, når og hvorfor står i "
                               "sakens historikk."),
                lambda: kap12().evaluate_now(g.viewer, case_id, values["begrunnelse"]),
                lambda errors: _render_case(case_id, evaluating={"values": values, "errors": errors}, code=422))
