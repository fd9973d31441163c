"""Revisjon: the auditors' pages. A case is replayed event by event next to the diagram of the
version it ran on (the engine re-executes it and hands over a frame per step; the page's
script only draws), all cases of one process version are drawn on one diagram with counts,
and a case can be exported whole (JSON or PDF) for Statsforvalteren or, with other people's
names masked, for an access request. Auditors read everything in their county and change
nothing; every page here that shows a case records the read."""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response, g, render_template, request, url_for
from flask_babel import gettext as _

from engine import access
from engine.audit import export, replay
from engine.audit.heat import process_heat
from engine.errors import Denied, NotFound
from engine.read import queries, system_history
from engine.store.events import CASE_READ, DIRECTORY_CHANGED
from engine.versions import definitions

from . import pager, present, security
from .auth import kap12, login_required
from .i18n import in_bokmal

if TYPE_CHECKING:  # the case a page shows, for its type only
    from engine.store.models import Case

bp = Blueprint("audit", __name__, url_prefix="/revisjon")


def _auditor() -> None:
    if not access.may_audit(g.viewer):
        raise Denied(_("Revisjonssidene er for revisorer."))


def _not_audited(case, level: str) -> None:
    """A case's replay is for its county's auditors: an auditor elsewhere who reads the case for
    another reason (work done there before) is told it is not found, and nothing is recorded."""
    if level != access.FULL or not access.audits(g.viewer, case):
        raise NotFound(_("Saken finnes ikke."))


# Case data is one namespace over all forms: a field that several forms ask with different
# words gets one neutral label here, so a step is never shown under another step's question.
SHARED_LABELS = {"elevens_stemme": "Elevens stemme (elevens egen opplevelse)",
                 "evalueringsdato": "Evalueringsdato", "foresatte_informert": "Foresatte informert",
                 "oppfolging": "Oppfølging"}


def _labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for form in kap12().forms.all().values():
        for f in form.fields:
            labels.setdefault(f.name, f.label)
            for sub in getattr(f, "fields", None) or ():
                labels.setdefault(f"{f.name}.{sub.name}", sub.label)
    labels.update(SHARED_LABELS)
    return labels


def _text(ev) -> str:
    return present.event_text(ev)


@bp.get("")
@login_required
def index():
    _auditor()
    page = kap12().case_page(g.viewer, cursor=pager.cursor())
    versions = queries.versions_in_use(kap12(), g.viewer)
    return render_template("audit_index.html", rows=page.items, next_cursor=page.next_cursor, versions=versions)


# The list's filter: the words a person reads, and the kinds each stands for.
SYSTEM_FILTERS = {"": system_history.KINDS, "personer": (DIRECTORY_CHANGED,),
                  "prosesser": system_history.EVERY_COUNTY}


@bp.get("/system")
@login_required
def system():
    """What was done to the installation rather than to a case: versions published and
    withdrawn, and the county's people and roles changed. Its administrators read it too."""
    if not access.may_read_system_history(g.viewer):
        raise Denied(_("Systemhistorikken er for revisorer og administratorer."))
    shown = request.args.get("vis", "")
    if shown not in SYSTEM_FILTERS:
        shown = ""
    page = system_history.system_page(kap12(), g.viewer, SYSTEM_FILTERS[shown], cursor=pager.cursor())
    return render_template("audit_system.html", events=page.items, next_cursor=page.next_cursor, shown=shown,
                           checkpoint=system_history.latest_checkpoint(kap12()))


# A checkpoint's digest as kap12 prints it: SHA-256 in hex. Spaces and line breaks a copy picked
# up on the way are not part of it.
DIGEST = re.compile(r"[0-9a-f]{64}")


@bp.get("/system/kontroll")
@login_required
def system_check():
    """The system chain checked on request (it reads the whole chain), and, given the digest the
    county kept outside the database, that the checkpoint with it still stands."""
    if not access.may_read_system_history(g.viewer):
        raise Denied(_("Systemhistorikken er for revisorer og administratorer."))
    typed = request.args.get("sammendrag", "")
    kept = re.sub(r"\s+", "", typed).lower()
    if kept and not DIGEST.fullmatch(kept):
        return render_template("audit_system_check.html", check=None, typed=typed[:200],
                               error=_("Et sammendrag er 64 tegn, bare tallene 0–9 og bokstavene a–f. Kopier det "
                                       "slik kap12 skrev det.")), 422
    check = kap12().verify_system_chain(g.viewer, kept or None)
    return render_template("audit_system_check.html", check=check, typed=kept, error=None,
                           checked_at=kap12().clock.now())


def _replay_payload(case: "Case", report: replay.ReplayReport) -> dict:
    divergent = {d.seq for d in report.divergences}
    touched = set()
    for frame in report.frames:
        touched |= set(frame.completed) | set(frame.active)
    processes = [p for p in queries.version_sources_of(kap12(), case.definition_id) if p["id"] in touched]
    return {
        "case": {"id": case.id, "number": case.number, "status": case.status, "procedure": case.procedure},
        "processes": processes,
        "labels": _labels(),
        "events": [{"seq": e.seq, "at": e.at.isoformat(), "when": present.short(e.at), "kind": e.kind,
                    "actor": present.actor_text(e), "text": _text(e), "frame": e.frame, "replayed": e.replayed,
                    "divergent": e.seq in divergent} for e in report.events],
        "frames": [f.as_dict() for f in report.frames],
        "verification": report.as_dict(),
    }


@bp.get("/saker/<id:case_id>")
@login_required
@security.asks_first_from_elsewhere
def case(case_id: int):
    _auditor()
    case, _level = kap12().case(g.viewer, case_id, view="revisjon", refuse=_not_audited)
    report = replay.verify_case(kap12(), case_id, frames=True)
    payload = _replay_payload(case, report)
    reads = [e for e in report.events if e.kind == CASE_READ]
    staff = queries.named_in_case(kap12(), case)
    # Embedded, not fetched: one request, one recorded read; the script only renders it. The
    # template embeds it with ``embed_json``, which escapes it for HTML.
    return render_template("audit_case.html", case=case, report=report, payload=payload, reads=reads,
                           staff=staff)


@bp.get("/saker/<id:case_id>/gjenkjoring.json")
@login_required
@security.asks_first_from_elsewhere
def case_json(case_id: int):
    _auditor()
    case, _level = kap12().case(g.viewer, case_id, view="revisjon (data)", refuse=_not_audited)
    return _replay_payload(case, replay.verify_case(kap12(), case_id, frames=True))


@bp.get("/prosesser/<id:definition_id>")
@login_required
def heat(definition_id: int):
    _auditor()
    version, count, cells = process_heat(kap12(), g.viewer, definition_id)
    processes = [p for p in definitions.diagram_sources(version) if p["id"] in cells or p["id"] != "kap12_sak"]
    payload = {"processes": processes,
               "counts": {p: {e: c.__dict__ for e, c in els.items()} for p, els in cells.items()}}
    names = {p["id"]: p["name"] for p in processes}
    table = sorted(((names.get(p, p), e, c) for p, els in cells.items() for e, c in els.items()),
                   key=lambda r: (r[0], -r[2].passed, r[1]))
    labels = _element_names(processes)
    return render_template("audit_heat.html", version=version, count=count, payload=payload, table=table,
                           labels=labels)


def _element_names(processes) -> dict[str, str]:
    out = {}
    for p in processes:
        for m in re.finditer(r'<bpmn:\w+ id="([^"]+)" name="([^"]*)"', p["xml"]):
            out.setdefault(m[1], m[2])
    return out


def _export_args():
    mask = request.args.get("skjerm") in ("1", "on", "true", "ja")
    requester = (request.args.get("innsyn_for") or "").strip() or None
    return mask, requester


def _filename(doc: dict, ext: str) -> str:
    suffix = "-skjermet" if doc["skjermet"] else ""
    return f"sak-{doc['sak']['saksnummer']}{suffix}.{ext}"


@bp.get("/saker/<id:case_id>/eksport.json")
@login_required
@security.asks_first_from_elsewhere
@in_bokmal
def export_json(case_id: int):
    mask, requester = _export_args()
    doc = export.build_export(kap12(), g.viewer, case_id, mask=mask, requester=requester, describe=_text)
    body = json.dumps(doc, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(doc, "json")}"'})


@bp.get("/saker/<id:case_id>/eksport.pdf")
@login_required
@security.asks_first_from_elsewhere
@in_bokmal
def export_pdf(case_id: int):
    mask, requester = _export_args()
    doc = export.build_export(kap12(), g.viewer, case_id, mask=mask, requester=requester, describe=_text)
    html = render_template("audit_export_pdf.html", doc=doc, labels=_labels(), fmt=_fmt, value=_value)
    from weasyprint import HTML  # noqa: PLC0415 - heavy (Pango, fonts): only the PDF needs it

    pdf = HTML(string=html, base_url=request.url_root).write_pdf()
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(doc, "pdf")}"'})


def _fmt(iso: str | None) -> str:
    return present.short(datetime.fromisoformat(iso)) if iso else "–"


def _choices() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for form in kap12().forms.all().values():
        for f in form.fields:
            if getattr(f, "choices", None):
                out.setdefault(f.name, {c.value: c.label for c in f.choices})
    return out


def _value(v, key: str | None = None) -> str:
    if key and isinstance(v, str) and v in _choices().get(key, {}):
        return _choices()[key][v]
    if v is None or v == "" or v == []:
        return "–"
    if v is True:
        return "Ja"
    if v is False:
        return "Nei"
    if isinstance(v, list):
        return "; ".join(_value(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_value(x)}" for k, x in v.items())
    if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
        return present.day(v)
    return str(v)


@bp.app_context_processor
def _nav():
    def audit_url():
        viewer = g.get("viewer")
        return url_for("audit.index") if viewer is not None and access.may_audit(viewer) else None
    return {"audit_url": audit_url}
