"""The Flask app factory. Pages translate HTTP to engine calls and back; no business rules."""
from __future__ import annotations

import itertools
import logging
from datetime import timedelta

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.access import may_audit
from engine.errors import (
    Conflict,
    DamagedHistory,
    Denied,
    InvalidInput,
    NotFound,
    OutcomeUnknown,
    database_away,
    database_trouble,
)
from engine.read.case_detail import UNREAD_SHOWN
from engine.runtime.clock import Clock
from engine.service import Kap12
from webui.api.problems import RETRY_AFTER

from . import (
    api,
    audit,
    auth,
    bounds,
    cases,
    documents,
    form_editor,
    formview,
    health,
    i18n,
    incidents,
    logins,
    measures,
    modeler,
    notices,
    oidc,
    overview,
    pager,
    people,
    present,
    prevention,
    reports,
    row_links,
    security,
    tasks,
)

log = logging.getLogger("kap12.web")


def create_app(kap12=None, **config) -> Flask:
    app = Flask(__name__)
    kap12 = kap12 or Kap12()
    app.extensions["kap12"] = kap12
    app.config.update(
        SECRET_KEY=security.secret_key(kap12.settings.instance_dir, kap12.settings.secret_key),
        SESSION_COOKIE_NAME="kap12_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=kap12.settings.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),  # one school day, then log in again
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.update(config)
    if not kap12.settings.secret_key and not kap12.db.is_sqlite:
        # A county's web machines each made a key of their own: a log-in on one was unknown to
        # the next the proxy chose (reviewed). One machine on PostgreSQL is fine; say it anyway.
        log.warning("KAP12_SECRET_KEY is not set: this machine signs log-ins with its own key from %s; "
                    "with several web machines, set the same KAP12_SECRET_KEY on each",
                    kap12.settings.instance_dir / "secret_key")
    i18n.init_app(app, kap12.settings.instance_dir)  # nb by default, en on request (Flask-Babel)
    hops = kap12.settings.proxy_hops
    if hops > 0:
        # Behind a reverse proxy the client's address and scheme come from X-Forwarded-*;
        # trust exactly as many hops as there are proxies, or the log-in throttle sees one IP.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # Before any blueprint: every "<id:…>" in a route takes only ids the database can hold.
    app.url_map.converters["id"] = bounds.IdConverter
    app.extensions[auth.SESSION_CLOCK] = Clock()  # wall time for log-ins, whatever the case clock says

    # One blueprint per kind of user and job.
    for blueprint in (
        auth.bp, oidc.bp, reports.bp, tasks.bp, cases.bp, notices.bp, measures.bp,  # staff
        overview.bp, documents.bp, prevention.bp,  # leadership: lederforum, documents, årshjul
        modeler.bp, form_editor.bp, incidents.bp, logins.bp, people.bp,  # process owners and operations
        audit.bp,  # auditors
        api.bp,  # the JSON API (it registers the profile page with the API keys too)
        health.bp,  # load balancers and monitoring
    ):
        app.register_blueprint(blueprint)
    present.register(app)
    row_links.register(app)
    pager.register(app)

    app.before_request(health.start_timer)
    app.after_request(health.observe)

    @app.before_request
    def _before():
        if not request.path.startswith("/api/v1/") and bounds.has_nul(
                itertools.chain([("", request.path)], request.args.items(multi=True), request.form.items(multi=True))):
            abort(400, description="nul")
        auth.load_viewer()
        security.check_csrf()

    app.after_request(security.apply_headers)

    @app.context_processor
    def _globals():
        viewer = g.get("viewer")
        unread = app.extensions["kap12"].unread_count(viewer) if viewer is not None else 0
        return {"viewer": viewer, "unread_notices": unread, "unread_shown": UNREAD_SHOWN,
                "archive_name": app.extensions["kap12"].settings.archive_name}

    # Globals, unlike context variables, reach macros imported from other templates too.
    app.jinja_env.globals.update(get_form=_form_or_none, may_audit=may_audit, csrf_token=security.csrf_token,
                                 csrf_field=security.CSRF_FIELD)

    @app.get("/")
    def index():
        return redirect(url_for("tasks.index"))

    _register_errors(app)
    return app


def _form_or_none(key: str, version: int | None = None):
    """The form ``key`` for a template: the version a step recorded, else the latest. Asked once
    per form version and request: a case page lists every step, most of them in the same few
    forms, and each look in the catalogue asks the database whether it changed."""
    shown = g.setdefault("forms_shown", {})
    if (key, version) not in shown:
        try:
            shown[(key, version)] = formview.shown(current_app.extensions["kap12"].forms.get_version(key, version))
        except KeyError:
            shown[(key, version)] = None
    return shown[(key, version)]


def _nothing_saved() -> str:
    """Said the same on two error pages."""
    return _("Ingenting ble lagret, så ingenting er tapt i saken. Gå tilbake med nettleserens "
             "tilbake-knapp – det du skrev står der trolig fortsatt – og prøv igjen om litt.")


def _register_errors(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(NotFound)
    def _not_found(err):
        return page(404, _("Fant ikke siden"), str(err))

    @app.errorhandler(Denied)
    def _denied(err):
        return page(403, _("Ikke tillatt"), str(err))

    @app.errorhandler(Conflict)
    def _conflict(err):
        flash(str(err), "warning")
        return redirect(url_for("tasks.index"))

    @app.errorhandler(DamagedHistory)
    def _damaged(err):
        log.error("damaged history on %s: %s", request.path, err.__cause__)
        return page(409, _("Historikken kan ikke leses"), str(err))

    @app.errorhandler(InvalidInput)
    def _invalid(err):
        # Pages with forms catch this themselves and show the errors by the fields.
        return page(422, _("Noe var ikke fylt ut riktig"), str(err))

    @app.errorhandler(HTTPException)
    def _http(err):
        if err.code == 400 and err.description == "csrf":
            return page(400, _("Skjemaet kunne ikke sendes"),
                        _("Siden var for gammel, eller du var logget ut i mellomtiden. Ingenting ble lagret. "
                          "Gå tilbake, last siden på nytt og send skjemaet igjen."))
        if err.code == 400 and err.description == "nul":
            return page(400, _("Skjemaet kunne ikke sendes"),
                        _("Det du sendte inneholdt et tegn som ikke kan lagres. Ingenting ble lagret."))
        if err.code == 404:
            return page(404, _("Fant ikke siden"), _("Siden finnes ikke, eller du har ikke tilgang til den."))
        if err.code == 405:
            return page(405, _("Ikke mulig her"), _("Denne adressen kan ikke brukes slik."))
        if err.code == 413:
            return page(413, _("For mye tekst"), _("Det du sendte var for stort. Ingenting ble lagret."))
        return page(err.code or 500, err.name, err.description or "")

    @app.errorhandler(OutcomeUnknown)
    def _unknown(err):
        log.error("connection lost while committing on %s %s", request.method, request.path, exc_info=err)
        g.viewer = None  # the page's frame asks the database nothing more (its unread count)
        return page(500, _("Vi vet ikke om det ble lagret"), str(err))

    @app.errorhandler(Exception)
    def _crash(err):
        if database_away(err) and not g.get("committed"):
            # The database away (a restart, a failover) or a lock it gave up on: 503 and
            # Retry-After, which a load balancer and a browser understand, not "a bug of ours".
            log.warning("database unavailable on %s %s: %s", request.method, request.path, database_trouble(err))
            g.viewer = None  # the page's frame would ask the away database for the unread count
            html, code = page(503, _("Databasen svarer ikke akkurat nå"), _nothing_saved())
            return html, code, {"Retry-After": RETRY_AFTER}
        log.exception("unexpected error on %s %s", request.method, request.path)
        if g.get("committed"):
            message = _("Det du gjorde ble lagret, men siden etterpå kunne ikke vises. "
                        "Gå til «Mine oppgaver» og sjekk saken der.")
        else:
            message = _nothing_saved()
        return page(500, _("Noe gikk galt hos oss"), message)
