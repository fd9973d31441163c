"""Skjema: for process owners. The form declarations that user tasks name, with their versions;
a declaration edited as JSON, checked, previewed in the one generic form template, and published
as a new version with a comment. A completed step keeps the version it was filled in with."""
from __future__ import annotations

import json
import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import Denied, DeployRefused, InvalidInput
from engine.versions import form_catalog
from processes import forms

from . import formview
from .auth import kap12, login_required

bp = Blueprint("form_editor", __name__, url_prefix="/prosesser/skjema")

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
MAX_DECLARATION = 200_000


@bp.before_request
def _owners_only():
    viewer = g.get("viewer")
    if viewer is not None and not access.may_deploy(viewer):
        raise Denied(_("Bare prosesseiere og administratorer arbeider med skjemaene."))


def _key(key: str) -> str:
    if not KEY.match(key):
        abort(404)
    return key


def _starter(key: str) -> dict:
    return {"key": key, "title": "", "intro": "",
            "fields": [{"name": "beskrivelse", "label": "", "type": "textarea", "required": True}]}


def _pretty(declaration: dict) -> str:
    return json.dumps(declaration, ensure_ascii=False, indent=2)


def read_declaration(key: str, text: str):
    """(declaration, form, problems): the posted JSON checked as a declaration for ``key``."""
    if len(text) > MAX_DECLARATION:
        return None, None, [f"Skjemaet er for stort ({len(text) // 1000} KB); grensen er {MAX_DECLARATION // 1000} KB."]
    try:
        declaration = json.loads(text)
    except json.JSONDecodeError as err:
        return None, None, [f"Teksten er ikke gyldig JSON: {err.msg} (linje {err.lineno}, tegn {err.colno})."]
    try:
        form = form_catalog.publishable(declaration)
    except DeployRefused as err:
        return declaration, None, err.problems
    if form.key != key:
        return declaration, None, [f"Nøkkelen i skjemaet («{form.key}») må være «{key}», den samme som i adressen."]
    return declaration, form, []


@bp.get("")
@login_required
def index():
    catalog = kap12().forms
    rows = [(key, catalog.versions(key)) for key in sorted(catalog.all())]
    return render_template("modeler_forms.html", rows=rows)


@bp.get("/ny")
@login_required
def new():
    key = (request.args.get("key") or "").strip()
    if not KEY.match(key):
        flash(_("Nøkkelen må bestå av små bokstaver a-z, sifre, _ og -, og begynne med en bokstav."), "warning")
        return redirect(url_for("form_editor.index"))
    return redirect(url_for("form_editor.edit", key=key))


def _render(key: str, text: str, form, problems: list[str], comment: str = "", checked: bool = False,
            code: int = 200):
    catalog = kap12().forms
    return render_template("modeler_form_edit.html", key=key, text=text, versions=catalog.versions(key),
                           preview=formview.FormState(form) if form is not None else None,
                           problems=problems, comment=comment, checked=checked), code


@bp.get("/<key>")
@login_required
def edit(key: str):
    current = kap12().forms.current(_key(key))
    if current is not None:
        return _render(key, _pretty(current.declaration), current.form, [])
    if kap12().forms.exists(key):  # a bundled form not yet stored as a version

        form = kap12().forms.get(key)
        path = forms.FORMS_FOLDER / f"{key}.json"
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        return _render(key, text, form, [])
    return _render(key, _pretty(_starter(key)), None, [])


@bp.post("/<key>")
@login_required
def submit(key: str):
    _key(key)
    text = request.form.get("declaration", "")
    comment = request.form.get("kommentar", "").strip()
    declaration, form, problems = read_declaration(key, text)
    if problems:
        return _render(key, text, None, problems, comment, code=422)
    if request.form.get("action") != "publish":
        return _render(key, text, form, [], comment, checked=True)
    if not comment:
        return _render(key, text, form, [_("Skriv en kommentar om hva som er endret, og hvorfor.")], comment,
                       code=422)
    try:
        result = kap12().publish_form(g.viewer, declaration, comment)
    except DeployRefused as err:
        return _render(key, text, None, err.problems, comment, code=422)
    except InvalidInput as err:
        return _render(key, text, form, [str(err)], comment, code=422)
    except Denied as err:  # not a process owner in every county: the text stays on the page
        return _render(key, text, form, [str(err)], comment, code=403)
    g.committed = True
    if result.created:
        flash(_("Skjemaet «%(key)s» er publisert som versjon %(n)s. Steg som allerede er utført, beholder "
                "versjonen de ble fylt ut med.", key=key, n=result.version), "success")
    else:
        flash(_("Ingen endring: dette er det samme som versjon %(n)s av «%(key)s».", key=key,
                n=result.version), "warning")
    return redirect(url_for("form_editor.edit", key=key))
