"""Personer: an administrator's page of the people in their county and their roles. They bring the
directory in line with the county's staff list (first a trial that changes nothing, then the
import of the very file tried), download the list as it stands, and take a person out of
service at once. The rules are the engine's (``engine/write/staff_directory.py``); the command
line (``kap12 katalog``) does the same for the installation's operator."""
from __future__ import annotations

import base64
import binascii
import re
import zlib

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import access
from engine.errors import Denied, NotFound, Refused
from engine.read.staff_list import administered_counties, people_page, staff_lines
from engine.store import staff_file
from engine.write import first_password, staff_directory

from . import pager, present
from .auth import kap12, login_required, now

bp = Blueprint("people", __name__, url_prefix="/drift/personer")

# The file tried travels back with the page, compressed, so that the import is of the very file
# the administrator saw tried, with nothing kept on a server between the two (DESIGN.md rule 8).
# A county's list of 15,000 people is some 1.6 MB, and about a tenth of it compressed; a carried
# file is never unpacked beyond the largest upload a request may bring.
CARRIED_LIMIT = 2 * 1024 * 1024


def _administrator_only() -> None:
    if not access.may_manage_people(g.viewer):
        raise Denied(_("Bare administratorer ser og endrer personer og roller."))


def _page(**extra):
    people = people_page(kap12(), g.viewer, cursor=pager.cursor())
    return render_template("people.html", people=people.items, next_cursor=people.next_cursor,
                           counties=administered_counties(kap12(), g.viewer),
                           local_login=kap12().settings.local_login, **extra)


@bp.get("")
@login_required
def index():
    _administrator_only()
    return _page()


@bp.get("/personliste.csv")
@login_required
def export():
    _administrator_only()
    county = _county()
    if county is None:
        flash(_("Velg fylket du vil laste ned personlisten for."), "error")
        return redirect(url_for("people.index"))
    text = staff_file.write(staff_lines(kap12(), county, kap12().settings.oidc_issuer))
    return Response("\ufeff" + text, mimetype="text/csv; charset=utf-8",  # a spreadsheet reads UTF-8 by its mark
                    headers={"Content-Disposition": 'attachment; filename="personliste.csv"'})


def _county() -> str | None:
    """The county the form names, or the one the administrator administers; never a county they
    do not (its staff list is not theirs to read). None: they administer several and named none."""
    counties = administered_counties(kap12(), g.viewer)
    named = request.values.get("fylke")
    if named:
        if named not in counties:
            raise NotFound(_("Du er ikke administrator i %(county)s.", county=named))
        return named
    return counties[0] if len(counties) == 1 else None


@bp.post("/importer")
@login_required
def import_list():
    _administrator_only()
    complete = request.form.get("fullstendig") == "1"
    trial = request.form.get("handling") != "importer"
    data, name = _file()
    if data is None:
        flash(_("Velg personlisten (en CSV-fil) å lese inn."), "error")
        return redirect(url_for("people.index"))
    try:
        lines = staff_file.read(data)
        result = staff_directory.import_staff(kap12(), lines, source=name, digest=staff_directory.file_digest(data),
                                              county=_county(), complete=complete, dry_run=trial,
                                              issuer=kap12().settings.oidc_issuer, by=g.viewer)
    except Refused as err:
        # The box's heading says that nothing has changed: the list's last line, for the command
        # line, would say it twice.
        return _page(problems=[str(p) for p in err.problems if p != staff_file.NOTHING_CHANGED], file_name=name,
                     complete=complete), 422
    if result.applied:
        g.committed = True
    return _page(result=result, file_name=name, complete=complete,
                 carried=_carry(data) if trial and (result.changes or result.schools_created) else None)


def _file() -> tuple[bytes | None, str]:
    upload = request.files.get("fil")
    if upload is not None and upload.filename:
        return upload.read(), _file_name(upload.filename)
    carried = request.form.get("fil_data")
    if carried:
        return _uncarry(carried), _file_name(request.form.get("fil_navn", ""))
    return None, ""


def _file_name(given: str) -> str:
    """The file's name as the history records it: its last part, in letters, digits and ._-."""
    return re.sub(r"[^\w.-]", "_", given.rsplit("/", 1)[-1])[:100] or "personliste.csv"


def _carry(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def _uncarry(text: str) -> bytes:
    try:
        unpacker = zlib.decompressobj()
        data = unpacker.decompress(base64.b64decode(text, validate=True), CARRIED_LIMIT)
    except (binascii.Error, zlib.error, ValueError):
        abort(400)
    if unpacker.unconsumed_tail:
        abort(413)
    return data


@bp.post("/deaktiver")
@login_required
def deactivate():
    _administrator_only()
    username = request.form.get("brukernavn", "")
    try:
        result = staff_directory.deactivate(kap12(), username, request.form.get("grunn", ""), by=g.viewer)
    except Refused as err:
        for problem in err.problems:
            flash(str(problem), "error")
        return redirect(url_for("people.index"))
    g.committed = True
    flash(_("%(name)s er deaktivert og logget ut overalt.", name=result.changes[0].name), "success")
    for task in result.let_go:
        flash(_("Sak %(case)s: «%(title)s» er gitt tilbake til rollen.", case=task.case_number, title=task.title),
              "info")
    for school in result.unstaffed:
        flash(_("%(school)s har nå %(n)s åpne oppgaver som ingen kan ta (%(roles)s). Gi rollen til noen i dag.",
                school=school.school, n=school.tasks, roles=" / ".join(map(present.role_name, school.roles))),
              "warning")
    return redirect(url_for("people.index"))


@bp.post("/passord")
@login_required
def give_password():
    """A first password, shown on this page once (never in a redirect's message, which travels
    in the cookie); the person is logged out everywhere and chooses their own at log-in."""
    _administrator_only()
    try:
        given = first_password.give(kap12(), request.form.get("brukernavn", ""), by=g.viewer, now=now())
    except Refused as err:
        for problem in err.problems:
            flash(str(problem), "error")
        return redirect(url_for("people.index"))
    g.committed = True
    return _page(given=given)
