"""Prosesser: for process owners. The deployed processes and their versions, a version's
diagram with what changed since the one before, the BPMN modeler, validation before deploy,
upload and download of .bpmn files, and moving open cases to a newer version."""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from lxml import etree

from engine import access
from engine.errors import Conflict, Denied, DeployRefused, InvalidInput, NotFound
from engine.read import older_versions, queries
from engine.versions import definitions
from engine.versions.definition_diff import diff_versions
from engine.versions.diagram_check import BPMN_NS, TIMER_KINDS, safe_parse
from engine.write import law_walk, migration
from processes.deadlines import CALENDARS
from processes.roles import ESCALATION_ROLE_VARIABLE, LANE_ROLES, RESPONSIBLE_ROLE_VARIABLE, ROLES

from . import bounds, pager
from .auth import kap12, login_required

bp = Blueprint("modeler", __name__, url_prefix="/prosesser")

PROCESS_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,199}$")
_IN_PARENS = re.compile(r"\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_IN_QUOTES = re.compile(r"«([^»]+)»")

EMPTY_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{pid}" targetNamespace="http://kap12.no/bpmn">
  <bpmn:process id="{pid}" name="{pid}" isExecutable="true">
    <bpmn:startEvent id="Start_{pid}" name="Start"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_{pid}">
    <bpmndi:BPMNPlane id="BPMNPlane_{pid}" bpmnElement="{pid}">
      <bpmndi:BPMNShape id="Start_{pid}_di" bpmnElement="Start_{pid}">
        <dc:Bounds x="180" y="160" width="36" height="36"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@bp.before_request
def _owners_only():
    viewer = g.get("viewer")
    if viewer is not None and not access.may_deploy(viewer):
        raise Denied("Bare prosesseiere og administratorer arbeider med prosessdiagrammene.")


@bp.app_template_global()
def may_publish() -> bool:
    """Whether the modeler and the form editor show their publish controls: only to someone who
    holds the role in every county the installation serves (the rule the publishing itself
    applies). Asked once a request."""
    if "may_publish" not in g:
        g.may_publish = queries.publishes_versions(kap12(), g.viewer)
    return g.may_publish


def _pid(process_id: str) -> str:
    if not PROCESS_ID.match(process_id):
        abort(404)
    return process_id


# -- problems with the element they name ---------------------------------------------------
def _ids_and_names(xml: str) -> tuple[set[str], dict[str, str], set[str]]:
    try:
        tree = safe_parse(xml.encode("utf-8"))
    except (etree.XMLSyntaxError, ValueError):
        return set(), {}, set()
    containers = {el.get("id") for el in tree.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}definitions",
                                                     f"{{{BPMN_NS}}}collaboration", f"{{{BPMN_NS}}}participant")}
    ids, names, seen = set(), {}, set()
    for el in tree.iter():
        if not isinstance(el.tag, str) or not el.get("id") or not el.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        ids.add(el.get("id"))
        name = (el.get("name") or "").strip()
        if name:
            if name in seen:
                names.pop(name, None)  # a name used twice points at no one element
            else:
                names[name] = el.get("id")
            seen.add(name)
    return ids, names, containers


def locate(problem: str, ids: set[str], names: dict[str, str], containers: set[str] = frozenset()) -> str | None:
    """The element a problem sentence names: «Navn» (Id), «Navn» or a bare id. A process
    (``containers``) is named only when the sentence names nothing inside it."""
    candidates = list(_IN_PARENS.findall(problem))
    for quoted in _IN_QUOTES.findall(problem):
        candidates.append(quoted if quoted in ids else names.get(quoted, ""))
    candidates += [w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_.-]*", problem) if "_" in w]
    found = [c for c in candidates if c in ids]
    inner = [c for c in found if c not in containers]
    return (inner or found or [None])[0]


def _stored_sources() -> dict[str, dict]:
    with kap12().db.reading() as session:
        return definitions.stored_sources(definitions.latest_versions(session))


def located(problems: list[str], xml: str) -> list[dict]:
    ids, names, containers = _ids_and_names(xml)
    # str(): the sentence in the reader's language (JSON would write a Message's bokmål text).
    return [{"message": str(p), "element": locate(p, ids, names, containers)} for p in problems]


def check(filename: str, data: bytes) -> list[dict]:
    """kap12's full validation of one file: [{message, element}], empty when it may be deployed."""
    try:
        definitions.analyse([(filename, data)], _stored_sources(), kap12().forms.all(), law_walk.problems)
    except DeployRefused as err:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        return located(err.problems, text)
    return []


# -- the list of processes and their versions ----------------------------------------------
@bp.get("")
@login_required
def index():
    return render_template("modeler_list.html", processes=migration.versions_with_cases(kap12(), g.viewer),
                           case_process=definitions.CASE_PROCESS,
                           waiting=older_versions.count_open_cases_on_older_versions(kap12(), g.viewer))


@bp.get("/<process_id>/versjon/<id:number>.bpmn")
@login_required
def download(process_id: str, number: int):
    row = migration.version(kap12(), _pid(process_id), number)
    return Response(row.sources[process_id]["xml"], mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{process_id}-v{number}.bpmn"'})


@bp.get("/<process_id>/versjon/<id:number>")
@login_required
def version(process_id: str, number: int):
    row = migration.version(kap12(), _pid(process_id), number)
    before = migration.previous(kap12(), row)
    diff = diff_versions(before, row)
    return render_template("modeler_version.html", row=row, before=before, diff=diff,
                           markers=diff.markers(process_id), case_process=definitions.CASE_PROCESS,
                           may_withdraw=queries.withdraws_versions(kap12(), g.viewer))


@bp.post("/<process_id>/versjon/<id:number>/trekk-tilbake")
@login_required
def withdraw(process_id: str, number: int):
    try:
        kap12().withdraw_version(g.viewer, _pid(process_id), number, request.form.get("begrunnelse", ""))
    except (Conflict, InvalidInput) as err:  # a refusal (Denied) is the 403 page, in its words
        flash(str(err), "error")
        return redirect(url_for("modeler.version", process_id=process_id, number=number))
    flash(_("Versjon %(n)s av «%(process)s» er trukket tilbake.", n=number, process=process_id), "success")
    return redirect(url_for("modeler.index"))


# -- the modeler -------------------------------------------------------------------------
@bp.get("/<process_id>/rediger")
@login_required
def edit(process_id: str):
    _pid(process_id)
    try:
        latest = migration.version(kap12(), process_id, _newest(process_id))
        src = url_for("modeler.download", process_id=process_id, number=latest.version)
        filename = latest.sources[process_id]["file"]
    except NotFound:
        latest, src, filename = None, url_for("modeler.empty", process_id=process_id), f"{process_id}.bpmn"
    return render_template(
        "modeler_edit.html", process_id=process_id, latest=latest, src=src, filename=filename,
        lanes=sorted(LANE_ROLES), forms=sorted(kap12().forms.all().values(), key=lambda f: f.title),
        timer_kinds=[k for k in ("frist", "paminnelse", "eskalering") if k in TIMER_KINDS],
        calendars=list(CALENDARS.items()),
        recipients=[(code, label) for code, label in ROLES.items()] + [
            (ESCALATION_ROLE_VARIABLE, "Den som eskaleres til i prosedyren (eskaleringsrolle)"),
            (RESPONSIBLE_ROLE_VARIABLE, "Saksansvarlig i prosedyren (saksansvarlig_rolle)")])


def _newest(process_id: str) -> int:
    rows = migration.versions_with_cases(kap12(), g.viewer).get(process_id)
    if not rows:
        raise NotFound(f"Prosessen «{process_id}» er ikke publisert.")
    return rows[0].version


@bp.get("/<process_id>/tom.bpmn")
@login_required
def empty(process_id: str):
    return Response(EMPTY_DIAGRAM.format(pid=_pid(process_id)), mimetype="application/xml")


@bp.get("/ny")
@login_required
def new():
    process_id = request.args.get("id", "").strip()
    if not PROCESS_ID.match(process_id):
        flash(_("Prosess-id må begynne med en bokstav og bare ha bokstaver (a–z), tall og _ . -"), "error")
        return redirect(url_for("modeler.index"))
    return redirect(url_for("modeler.edit", process_id=process_id))


def _json_xml() -> tuple[str, bytes, str]:
    body = request.get_json(silent=True) or {}
    xml = body.get("xml")
    if not isinstance(xml, str) or not xml.strip():
        abort(400, description=_("Diagrammet mangler."))
    filename = str(body.get("filename") or "diagram.bpmn")
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", filename)[:100] or "diagram.bpmn"
    return filename, xml.encode("utf-8"), str(body.get("comment") or "").strip()


@bp.post("/valider")
@login_required
def validate():
    filename, data, _ = _json_xml()
    problems = check(filename, data)
    return jsonify(ok=not problems, problems=problems)


def _deploy(filename: str, data: bytes, comment: str):
    """(results, problems): deploy through the engine, or the problems that refused it."""
    if not comment:
        return None, [{"message": _("Skriv en kommentar om hva som er endret og hvorfor."), "element": None}]
    try:
        return kap12().deploy([(filename, data)], actor=g.viewer, comment=comment), []
    except Denied as err:  # not a process owner in every county: said where the problems are
        return None, [{"message": str(err), "element": None}]
    except DeployRefused as err:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        return None, located(err.problems, text)


def _outcome(results) -> tuple[str, str]:
    """A sentence about what the deploy did, and the page to show next."""
    created = [r for r in results if r.created]
    # The process that was edited, rather than kap12_sak, which gets a new version because it calls it.
    ranked = sorted(created or results, key=lambda r: r.process_id == definitions.CASE_PROCESS)
    main = ranked[0]
    if not created:
        listed = ", ".join(_("«%(process)s» versjon %(version)s", process=r.process_id, version=r.version)
                           for r in results)
        return (_("Ingen ny versjon: nøyaktig dette innholdet er publisert før (%(listed)s).", listed=listed),
                url_for("modeler.version", process_id=main.process_id, number=main.version))
    listed = ", ".join(_("«%(process)s» versjon %(version)s", process=r.process_id, version=r.version)
                       for r in created)
    return _("Publisert: %(listed)s.", listed=listed), url_for("modeler.version", process_id=main.process_id, number=main.version)


@bp.post("/publiser")
@login_required
def deploy():
    filename, data, comment = _json_xml()
    results, problems = _deploy(filename, data, comment)
    if problems:
        return jsonify(ok=False, problems=problems), 422
    message, target = _outcome(results)
    flash(message, "success" if any(r.created for r in results) else "info")
    return jsonify(ok=True, message=message, redirect=target,
                   results=[{"process_id": r.process_id, "version": r.version, "created": r.created} for r in results])


@bp.post("/last-opp")
@login_required
def upload():
    upload = request.files.get("fil")
    comment = request.form.get("kommentar", "").strip()
    if upload is None or not upload.filename:
        flash(_("Velg en .bpmn-fil å laste opp."), "error")
        return redirect(url_for("modeler.index"))
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", upload.filename.rsplit("/", 1)[-1])[:100] or "diagram.bpmn"
    results, problems = _deploy(filename, upload.read(), comment)
    if problems:
        return render_template("modeler_list.html", processes=migration.versions_with_cases(kap12(), g.viewer),
                               case_process=definitions.CASE_PROCESS, upload_problems=problems,
                               upload_name=filename, comment=comment,
                               waiting=older_versions.count_open_cases_on_older_versions(kap12(), g.viewer)), 422
    message, target = _outcome(results)
    flash(message, "success" if any(r.created for r in results) else "info")
    return redirect(target)


# -- moving open cases to a newer version ---------------------------------------------------
@bp.get("/flytt-saker")
@login_required
def migrate_page():
    rows = migration.versions_with_cases(kap12(), g.viewer).get(definitions.CASE_PROCESS, [])
    if not rows:
        raise NotFound("Ingen versjon av saksprosessen er publisert.")
    target = bounds.parse_id(request.args.get("til")) or rows[0].version
    if target not in {r.version for r in rows}:
        abort(404)
    page = older_versions.open_cases_on_older_versions(kap12(), g.viewer, definitions.CASE_PROCESS,
                                                     cursor=pager.cursor())
    cases = page.items
    plans = [(c, migration.plan(kap12(), c.id, target)) for c in cases]
    plans = [(c, p) for c, p in plans if not p.unchanged and p.from_version < target]
    return render_template("modeler_migrate.html", plans=plans, target=target, versions=rows,
                           process_id=definitions.CASE_PROCESS, next_cursor=page.next_cursor)


@bp.post("/flytt-saker")
@login_required
def migrate():
    target = bounds.parse_id(request.form.get("til"))
    reason = request.form.get("begrunnelse", "").strip()
    ids = bounds.parse_ids(request.form.getlist("sak"))
    if not target:
        abort(400)
    if not ids:
        flash(_("Velg minst én sak å flytte."), "error")
        return redirect(url_for("modeler.migrate_page", til=target))
    if not reason:
        flash(_("Skriv hvorfor sakene flyttes til den nye versjonen."), "error")
        return redirect(url_for("modeler.migrate_page", til=target))
    moved, refused = [], []
    for case_id in ids:
        try:
            done = migration.migrate(kap12(), g.viewer, case_id, target, reason)
            moved.append(done.number)
        except (InvalidInput, NotFound) as err:
            refused.append(str(err))
    if moved:
        flash(_("Flyttet til versjon %(version)s: %(cases)s.", version=target, cases=", ".join(moved)), "success")
    for sentence in refused:
        flash(sentence, "warning")
    return redirect(url_for("modeler.migrate_page", til=target))
