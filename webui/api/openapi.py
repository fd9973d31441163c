"""The OpenAPI 3.1 document, built from the blueprint's own routes and the marshmallow schemas
the views use, so that it lists exactly what is served.

Each view declares its contract with ``@operation(...)``; ``document()`` walks the URL map."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app
from marshmallow import Schema

from .. import bounds
from . import bp, schemas
from .problems import PROBLEM_TYPE

_PARAM = re.compile(r"<(?:(?P<conv>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
TASK_ID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


@dataclass
class Operation:
    summary: str
    tag: str
    ok: int | tuple[int, ...]
    response: type[Schema] | tuple | dict | None
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    body_type: str = "application/json"
    body_schema: callable = None  # a function returning the schema class, for schemas built at run time
    errors: tuple[int, ...] = ()
    public: bool = False
    description: str = ""
    headers: dict = field(default_factory=dict)


def operation(summary: str, *, tag: str, ok: int | tuple[int, ...] = 200, response=None, query=None, body=None,
              body_type: str = "application/json", body_schema=None, errors: tuple[int, ...] = (),
              public: bool = False, description: str = "", headers: dict | None = None):
    """Declare a view's contract for the OpenAPI document."""
    def mark(view):
        view.api_operation = Operation(summary, tag, ok, response, query, body, body_type, body_schema,
                                       errors, public, description, headers or {})
        return view
    return mark


def _path(rule) -> tuple[str, list[dict]]:
    params = []

    def swap(match) -> str:
        name, conv, args = match["name"], match["conv"] or "default", match["args"] or ""
        if conv == "id":  # bounds.IdConverter
            schema = {"type": "integer", "minimum": 1, "maximum": bounds.ID_MAX}
        elif conv == "int":
            maximum = re.search(r"max\s*=\s*(\d+)", args)
            schema = {"type": "integer", "minimum": 0}
            if maximum:
                schema["maximum"] = int(maximum[1])
        elif name == "task_id":
            schema = {"type": "string", "pattern": TASK_ID_PATTERN}
        else:
            schema = {"type": "string"}
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
        return "{" + name + "}"

    return _PARAM.sub(swap, rule.rule), params


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_TYPE: {"schema": schemas.ProblemSchema}}}


ERROR_TEXT = {
    400: "Ugyldige data; «errors» har meldinger per felt.",
    401: "Ikke innlogget, eller ukjent API-nøkkel.",
    403: "Ikke tillatt (bare lesetilgang, manglende CSRF-nøkkel eller manglende rolle).",
    404: "Finnes ikke, eller du har ikke tilgang (det samme for deg).",
    405: "Metoden kan ikke brukes her.",
    409: "Noen andre kom først; ingenting ble endret.",
    410: "Oppgaven er ikke lenger åpen.",
    413: "For stor forespørsel.",
    415: "Feil innholdstype.",
}


def _responses(op: Operation) -> dict:
    if isinstance(op.response, dict):
        ok = {"description": "OK", **op.response}
    elif isinstance(op.response, tuple):  # one of several shapes
        ok = {"description": "OK", "content": {"application/json": {"schema": {"oneOf": list(op.response)}}}}
    elif op.response is not None:
        ok = {"description": "OK", "content": {"application/json": {"schema": op.response}}}
    else:
        ok = {"description": "OK"}
    if op.headers:
        ok["headers"] = op.headers
    responses = {str(code): ok for code in (op.ok if isinstance(op.ok, tuple) else (op.ok,))}
    codes = set(op.errors) | {405}
    if not op.public:
        codes.add(401)
    if op.query is not None or op.body is not None or op.body_schema is not None:
        codes.add(400)
    if op.body is not None or op.body_schema is not None:
        codes |= {413, 415}
    for code in sorted(codes):
        responses[str(code)] = _problem(ERROR_TEXT[code])
    responses["default"] = _problem("Annen feil.")
    return responses


def document() -> dict:
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="kap12 API", version="1", openapi_version="3.1.0", plugins=[marshmallow],
        info={"description": (
            "Saker etter opplæringslova kapittel 12: melde, lese, ta og utføre oppgaver, publisere "
            "diagrammer. Samme tilgang som sidene: saker du ikke har tilgang til, finnes ikke (404). "
            "Alle feil er problem details (RFC 9457)."
        )},
        servers=[{"url": "/"}],
    )
    marshmallow.map_to_openapi_type(schemas.Upload, "string", "binary")
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer",
                                              "description": "Personlig API-nøkkel (k12_…) fra profilsiden."})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie",
                                                "name": current_app.config.get("SESSION_COOKIE_NAME", "session"),
                                                "description": "Innloggingsøkt; endringer sender X-CSRF-Token."})
    spec.components.schema("Problem", schema=schemas.ProblemSchema)
    spec.components.schema("ReportRequest", schema=schemas.report_request())
    paths: dict[str, dict] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.split(".")[0] != bp.name:
            continue
        op = getattr(current_app.view_functions[rule.endpoint], "api_operation", None)
        if op is None:
            raise RuntimeError(f"{rule.endpoint} has no @operation")
        path, params = _path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            entry = {"summary": op.summary, "tags": [op.tag], "operationId": rule.endpoint.split(".", 1)[1],
                     "responses": _responses(op), "security": [] if op.public else [{"token": []}, {"session": []}]}
            if op.description:
                entry["description"] = op.description
            parameters = list(params)
            if op.query is not None:
                parameters.append({"in": "query", "schema": op.query})
            if parameters:
                entry["parameters"] = parameters
            body = op.body_schema() if op.body_schema else op.body
            if body is not None:
                entry["requestBody"] = {"required": True, "content": {op.body_type: {"schema": body}}}
            paths.setdefault(path, {})[method.lower()] = entry
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
