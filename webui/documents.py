"""Dokumenter: the case documents on the case page, their downloads (each one recorded as a
read of the case), and the Noark 5 archive extract of one closed case or of a period."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import InvalidInput
from engine.outputs import archive_job, documents, noark
from engine.read import queries

from . import bounds, security
from .auth import kap12, login_required

bp = Blueprint("documents", __name__, url_prefix="/dokumenter")

# A period's extract is made in the request and held in the worker's memory (the PDFs, then the
# zip: about 0.2 MB a case). A county's year (5,000 cases) would be a gigabyte in one web worker;
# 500 cases are about 100 MB and a few seconds. Larger periods are for `kap12 arkiv`.
PERIOD_EXTRACT_MAX = 500


@bp.app_template_global()
def case_documents(case_id: int) -> list[documents.DocumentInfo]:
    """For the case page's documents section: made on first view, then the stored ones."""
    return documents.documents_for(kap12(), g.viewer, case_id)


@bp.app_template_global()
def may_archive_case(case) -> bool:
    return case.status == "closed" and access.may_archive(g.viewer, case)


@bp.get("/<id:case_id>/<id:document_id>.pdf")
@login_required
@security.asks_first_from_elsewhere
def download(case_id: int, document_id: int):
    info, content = documents.document_content(kap12(), g.viewer, case_id, document_id)
    inline = request.args.get("vis") == "1"
    return Response(content, mimetype=info.media_type, headers={
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{_case_number(case_id)}-{info.filename}"',
        "X-Content-SHA256": info.sha256})


def _case_number(case_id: int) -> str:
    return f"sak-{queries.case_number(kap12(), case_id)}"


@bp.post("/<id:case_id>/arkivuttrekk")
@login_required
def archive_case(case_id: int):
    return _extract([case_id], url_for("cases.show", case_id=case_id))


@bp.post("/arkivuttrekk")
@login_required
def archive_period():
    back = url_for("overview.index")
    first, last = bounds.parse_date(request.form.get("fra")), bounds.parse_date(request.form.get("til"))
    if first is None or last is None:
        flash(_("Velg både fra- og til-dato for arkivuttrekket."), "warning")
        return redirect(back)
    try:
        ids = archive_job.archivable_in_period(kap12(), g.viewer, first, last)
    except InvalidInput as err:
        flash(str(err), "warning")
        return redirect(back)
    if not ids:
        flash(_("Ingen avsluttede saker du kan arkivere i perioden."), "warning")
        return redirect(back)
    if len(ids) > PERIOD_EXTRACT_MAX:
        flash(_("Perioden har %(count)s avsluttede saker. Et arkivuttrekk herfra kan ha høyst %(max)s: velg en "
                "kortere periode, for eksempel én måned om gangen. Driften kan lage større uttrekk med «kap12 arkiv».",
                count=len(ids), max=PERIOD_EXTRACT_MAX), "warning")
        return redirect(back)
    return _extract(ids, back)


def _extract(ids: list[int], back: str):
    try:
        result = noark.ZipExtract(kap12(), g.viewer).export(ids)
    except InvalidInput as err:
        flash(str(err), "warning")
        return redirect(back)
    g.committed = True
    if result.content is None:
        abort(500)
    return Response(result.content, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{result.reference}"', "X-Content-SHA256": result.sha256})
