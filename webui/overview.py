"""Ukeoversikt: the weekly overview for the leadership forum, its CSV and PDF exports, and
"mark as reviewed in lederforum"."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from engine import access
from engine.outputs.documents import font_dir, render_pdf
from engine.read import overview as ov
from engine.store import cells
from processes.deadlines import OSLO
from processes.stages import STAGE_HELP, STAGE_LABELS, STAGES

from . import bounds, pager, present
from .auth import kap12, login_required
from .i18n import in_bokmal
from .i18n import lazy_gettext as _l

bp = Blueprint("overview", __name__, url_prefix="/oversikt")

STAGE_LABELS_ALL = {**STAGE_LABELS, "avsluttet": _l("Avsluttet")}
PROCEDURE_COLOURS = {"A": "#1f4e79", "B": "#c77700", "C": "#8e24aa"}


def _filters() -> dict:
    procedure = request.values.get("prosedyre", "")
    return {"skole": request.values.get("skole", "").strip(),
            "prosedyre": procedure if procedure in ("A", "B", "C") else ""}


# The page of the cases closed this week, beside the stages' own (``pager.CURSOR_ARG``).
CLOSED_CURSOR = "avsluttet_etter"


def _load(include_names: bool = False, everything: bool = False) -> ov.Overview:
    """The overview as filtered; the page shows each stage a page at a time (``fase`` and the
    cursor: one stage), the exports every open case."""
    if not access.may_see_overview(g.viewer):
        abort(404)
    f = _filters()
    return ov.weekly_overview(kap12(), g.viewer, school=f["skole"] or None, procedure=f["prosedyre"] or None,
                              include_names=include_names, stage=request.args.get("fase") or None,
                              cursor=pager.cursor(), closed_cursor=pager.cursor(CLOSED_CURSOR),
                              everything=everything)


def _query(**extra) -> str:
    params = {k: v for k, v in {**_filters(), **extra}.items() if v}
    return ("?" + urlencode(params)) if params else ""


def role_text(roles) -> str:
    return ", ".join(present.role_name(r).split(" (")[0] for r in roles) or "–"


def change_text(change: ov.Change) -> str:
    return present.event_text(change)


@bp.app_template_global()
def may_see_overview() -> bool:
    viewer = g.get("viewer")
    return viewer is not None and access.may_see_overview(viewer)


@bp.get("")
@login_required
def index():
    data = _load()
    return render_template("overview.html", o=data, f=_filters(), query=_query(), stage_labels=STAGE_LABELS_ALL,
                           stage_help=STAGE_HELP, stages=STAGES, colours=PROCEDURE_COLOURS, role_text=role_text,
                           change_text=change_text, deadline=present.deadline, county_wide=ov.is_county_wide(g.viewer),
                           charts=charts(data), closed_cursor=CLOSED_CURSOR)


@bp.post("/gjennomgatt")
@login_required
def reviewed():
    if not access.may_see_overview(g.viewer):
        abort(404)
    ids = bounds.parse_ids(request.form.getlist("case_id"))
    comment = request.form.get("kommentar", "").strip()[:2000]
    if not ids:
        flash(_("Ingen saker var valgt, så ingenting ble registrert."), "warning")
        return redirect(url_for("overview.index") + _query())
    done = kap12().record_review(g.viewer, ids, comment)
    g.committed = True
    if comment:
        text = ngettext("Gjennomgang i lederforum er registrert på %(num)d sak med kommentar. Neste uke viser "
                        "oversikten det som skjer fra nå.",
                        "Gjennomgang i lederforum er registrert på %(num)d saker med kommentar. Neste uke viser "
                        "oversikten det som skjer fra nå.", done)
    else:
        text = ngettext("Gjennomgang i lederforum er registrert på %(num)d sak. Neste uke viser oversikten det "
                        "som skjer fra nå.",
                        "Gjennomgang i lederforum er registrert på %(num)d saker. Neste uke viser oversikten det "
                        "som skjer fra nå.", done)
    flash(text, "success")
    return redirect(url_for("overview.index") + _query())


CSV_HEAD = ["Saksnummer", "Skole", "Prosedyre", "Status", "Står på", "Ansvarlig rolle", "Alder (dager)",
            "Meldt", "Neste frist", "Oversittede frister", "Endringer siden gjennomgang", "Sist gjennomgått",
            "Avsluttet", "Meldt videre til skoleeier"]




@bp.route("/eksport.csv", methods=["GET", "POST"])
@login_required
@in_bokmal
def export_csv():
    # With the pupils' names only as a form sent from the page (POST, with its CSRF token): every
    # case in it is recorded as read by the person, and a link on another site could otherwise
    # have a leader's browser fetch it, filling the read log in their name.
    names = request.method == "POST" and request.form.get("navn") == "1"
    data = _load(include_names=names, everything=True)
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 with the mark
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEAD + (["Elev(er)"] if names else []))
    for row in data.open_rows + data.closed_rows:
        line = [row.number, row.school, row.procedure, present.STATUS_WORDS.get(row.status, row.status),
                STAGE_LABELS_ALL.get(row.stage, row.stage), role_text(row.roles), row.age_days,
                present.day(row.reported_at), present.short(row.next_deadline) if row.next_deadline else "",
                len(row.missed), row.change_count, present.day(row.last_reviewed) if row.last_reviewed else "",
                present.day(row.closed_at) if row.closed_at else "", "Ja" if row.owner_notified else "Nei"]
        if names:
            line.append(row.pupils or "")
        writer.writerow([cells.safe(v) for v in line])  # a spreadsheet never reads a cell as a formula
    stamp = data.now.astimezone(OSLO).strftime("%Y-%m-%d")
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="ukeoversikt-{stamp}.csv"'})


@bp.get("/eksport.pdf")
@login_required
@in_bokmal
def export_pdf():
    data = _load(everything=True)
    html = render_template("overview_pdf.html", o=data, f=_filters(), stage_labels=STAGE_LABELS_ALL,
                           role_text=role_text, change_text=change_text, colours=PROCEDURE_COLOURS,
                           county_wide=ov.is_county_wide(g.viewer), charts=charts(data), font_dir=font_dir())
    pdf = render_pdf(html)
    stamp = data.now.astimezone(OSLO).strftime("%Y-%m-%d")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="ukeoversikt-{stamp}.pdf"'})


# -- charts as plain SVG numbers (drawn by overview_charts.html) ---------------------------------
def charts(o: ov.Overview) -> dict:
    stage_rows = []
    biggest = max([sum(c.values()) for c in o.by_stage.values()] + [1])
    for code, label, _kinds in STAGES:
        counts = o.by_stage.get(code, {})
        total = sum(counts.values())
        if not total and code == "annet":
            continue
        x, parts = 0.0, []
        for p in ("A", "B", "C"):
            n = counts.get(p, 0)
            if n:
                w = n / biggest
                parts.append({"procedure": p, "n": n, "x": x, "w": w})
                x += w
        stage_rows.append({"code": code, "label": label, "total": total, "parts": parts})
    top = max([m.met + m.missed for m in o.deadlines] + [1])
    top_missed = max([max(m.met, m.missed) for m in o.deadlines] + [1])
    plan_top = max([m.median_days or 0 for m in o.plan_months] + [1])
    return {"stages": stage_rows, "deadlines": o.deadlines, "deadline_top": max(top_missed, 1), "deadline_sum": top,
            "plans": o.plan_months, "plan_top": plan_top}
