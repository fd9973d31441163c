"""Dokumenter: the case documents on the case page, their downloads (each one recorded as a
read of the case), and the Noark 5 archive extract of one closed case or of a period."""
from __future__ import annotations

import tempfile

from flask import Blueprint, Response, flash, g, redirect, request, send_file, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import InvalidInput
from engine.outputs import archive_job, documents
from engine.read import queries

from . import bounds, security
from .auth import kap12, login_required

bp = Blueprint("documents", __name__, url_prefix="/dokumenter")

# A period's extract is made while the request waits: about 10 ms a case whose documents are
# already made, far more for those that must be rendered first. A county's year (5,000 cases) is
# most of a minute at best, and past the worker's 120 s timeout at worst; 500 cases take a few
# seconds. Larger periods are for `kap12 arkiv`.
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
    # Written to a temporary file and sent from it: the worker holds one PDF at a time.
    package = tempfile.TemporaryFile()
    try:
        result = archive_job.write_package(kap12(), g.viewer, ids, package)
    except InvalidInput as err:
        package.close()
        flash(str(err), "warning")
        return redirect(back)
    except BaseException:
        package.close()
        raise
    g.committed = True
    response = send_file(package, mimetype="application/zip", as_attachment=True, download_name=result.reference)
    response.headers["X-Content-SHA256"] = result.sha256
    return response
