"""Who am I, and the OpenAPI document."""
from __future__ import annotations

from flask import g, jsonify

from engine import access
from engine.read import queries

from .. import security
from . import body, bp, schemas
from .auth import kap12, public, viewer
from .openapi import document, operation


@bp.get("/me")
@operation("Deg selv: roller, skoler du kan melde for, og CSRF-nøkkelen for innloggingsøkten", tag="meta",
           response=schemas.MeSchema, query=schemas.EmptyQuery)
def me():
    body.query(schemas.EmptyQuery)
    who = viewer()
    data = {"id": who.id, "name": who.name, "auth": g.api_auth, "read_only": access.is_read_only(who),
            "may_deploy": access.may_deploy(who),
            "grants": [{"role": r, "school_id": s, "county_id": c} for r, s, c in who.grants],
            "report_schools": [{"id": i, "name": n} for i, n in queries.report_schools(kap12(), who)]}
    if g.api_auth == "session":
        data["csrf_token"] = security.csrf_token()
    return schemas.dump(schemas.MeSchema, data)


@bp.get("/openapi.json")
@public
@operation("Dette dokumentet (OpenAPI 3.1)", tag="meta", public=True,
           response={"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}})
def openapi():
    return jsonify(document())
