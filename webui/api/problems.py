"""Problem details (RFC 9457) for every error the API gives, and the handlers that turn engine
errors and HTTP errors into them."""
from __future__ import annotations

import json
import logging

from flask import current_app, g, request
from werkzeug.exceptions import HTTPException

from engine.errors import (
    Conflict,
    DamagedHistory,
    Denied,
    DeployRefused,
    InvalidInput,
    NotFound,
    OutcomeUnknown,
    database_away,
    database_trouble,
)

from . import bp
from .schemas import ProblemSchema, dump

RETRY_AFTER = "5"  # seconds, with a 503: a database restart or failover is usually over by then

log = logging.getLogger("kap12.api")

PROBLEM_TYPE = "application/problem+json"

# Specific problem types; plain HTTP errors use "about:blank" (RFC 9457 § 4.2.1).
VALIDATION = "urn:kap12:problem:validation"
CONFLICT = "urn:kap12:problem:conflict"
CSRF = "urn:kap12:problem:csrf"
READ_ONLY = "urn:kap12:problem:read-only"
TOKEN = "urn:kap12:problem:invalid-token"
ELSEWHERE = "urn:kap12:problem:from-another-site"

TITLES = {
    400: "Ugyldig forespørsel",
    401: "Ikke innlogget",
    403: "Ikke tillatt",
    404: "Finnes ikke",
    405: "Metoden kan ikke brukes her",
    406: "Kan ikke svare i det formatet",
    409: "Konflikt",
    410: "Ikke lenger åpen",
    413: "For stor forespørsel",
    415: "Feil innholdstype",
    500: "Feil hos oss",
    503: "Midlertidig utilgjengelig",
}
DETAILS = {
    400: "Forespørselen kunne ikke leses.",
    401: "Logg inn, eller send en API-nøkkel: «Authorization: Bearer k12_…».",
    404: "Adressen finnes ikke, eller du har ikke tilgang til det den viser til.",
    405: "Denne adressen kan ikke brukes med denne metoden.",
    413: "Det du sendte var for stort. Ingenting ble lagret.",
    415: "Innholdstypen støttes ikke her.",
    500: "Noe gikk galt hos oss.",
}


class ApiProblem(Exception):
    """Raise to answer with a problem; ``errors`` maps fields to messages."""

    def __init__(self, status: int, detail: str | None = None, *, type: str = "about:blank",
                 title: str | None = None, errors: dict | None = None, headers: dict | None = None):
        super().__init__(detail or TITLES.get(status, ""))
        self.status, self.detail, self.type = status, detail, type
        self.title = title or TITLES.get(status, "Feil")
        self.errors, self.headers = errors, headers or {}


def invalid(errors: dict, detail: str = "Noen felt er ikke fylt ut riktig.") -> ApiProblem:
    return ApiProblem(400, detail, type=VALIDATION, title="Ugyldige data", errors=errors)


def problem(status: int, detail: str | None = None, *, type: str = "about:blank", title: str | None = None,
            errors: dict | None = None, headers: dict | None = None):
    body = {"type": type, "title": title or TITLES.get(status, "Feil"), "status": status,
            "detail": detail or DETAILS.get(status, TITLES.get(status, "")), "instance": request.path}
    if errors is not None:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(dump(ProblemSchema, body), ensure_ascii=False),
                                          status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_request() -> bool:
    return request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/")


@bp.errorhandler(ApiProblem)
def _api_problem(err: ApiProblem):
    return problem(err.status, err.detail, type=err.type, title=err.title, errors=err.errors, headers=err.headers)


@bp.errorhandler(NotFound)
def _not_found(err):
    return problem(404, str(err))


@bp.errorhandler(Denied)
def _denied(err):
    return problem(403, str(err))


@bp.errorhandler(Conflict)
def _conflict(err):
    return problem(409, str(err), type=CONFLICT)


@bp.errorhandler(DamagedHistory)
def _damaged(err):
    log.error("damaged history on %s: %s", request.path, err.__cause__)
    return problem(409, str(err), type=CONFLICT)


@bp.errorhandler(InvalidInput)
def _invalid(err):
    return problem(400, str(err), type=VALIDATION, title="Ugyldige data", errors=err.errors or {"_schema": [str(err)]})


@bp.errorhandler(DeployRefused)
def _refused(err):
    return problem(400, "Diagrammene ble ikke publisert. Ingenting ble endret.", type=VALIDATION,
                   title="Ugyldige diagrammer", errors={"files": list(err.problems)})


@bp.errorhandler(HTTPException)
def _http(err):
    headers = {}
    if err.code == 405 and getattr(err, "valid_methods", None):
        headers["Allow"] = ", ".join(err.valid_methods)
    return problem(err.code or 500, None, headers=headers)


@bp.errorhandler(OutcomeUnknown)
def _unknown(err):
    log.error("connection lost while committing on %s %s", request.method, request.path, exc_info=err)
    return problem(500, str(err))  # no Retry-After: a client that sent it again could report twice


@bp.errorhandler(Exception)
def _crash(err):
    if database_away(err) and not g.get("committed"):  # as the pages (webui/app.py)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, database_trouble(err))
        return problem(503, "Databasen svarer ikke akkurat nå. Ingenting ble lagret. Prøv igjen om litt.",
                       headers={"Retry-After": RETRY_AFTER})
    log.exception("unexpected error on %s %s", request.method, request.path)
    detail = ("Det du gjorde ble lagret, men svaret kunne ikke lages." if g.get("committed")
              else "Ingenting ble lagret. Prøv igjen om litt.")
    return problem(500, detail)


# A path under /api/ that matches no route (404) or not with this method (405) belongs to no
# blueprint, so Flask asks the app's handlers: answer API paths here, pages as before.
@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _routing(err):
    if is_api_request():
        return _http(err)
    for handler in _page_handlers(err):
        return handler(err)
    return err


def _page_handlers(err):
    spec = current_app.error_handler_spec[None][None]
    for cls in type(err).__mro__:
        if cls in spec:
            yield spec[cls]
