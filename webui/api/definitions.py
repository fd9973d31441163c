"""Definitions: the deployed diagram versions, and deploying new ones (process owners and
administrators)."""
from __future__ import annotations

from flask import g

from engine import access
from engine.errors import Denied
from engine.read import queries

from . import body, bp, schemas
from .auth import kap12, viewer
from .openapi import operation


@bp.get("/definitions")
@operation("Publiserte diagramversjoner, nyeste først", tag="definitions", response=schemas.DefinitionListSchema,
           query=schemas.EmptyQuery)
def list_definitions():
    body.query(schemas.EmptyQuery)
    items = queries.definition_versions(kap12())
    return schemas.dump(schemas.DefinitionListSchema, {"items": items, "count": len(items)})


@bp.post("/definitions")
@operation("Publiser diagrammer (.bpmn) med en kommentar", tag="definitions", ok=(201, 200),
           response=schemas.DeployResultSchema, body=schemas.DeployRequest, body_type="multipart/form-data",
           errors=(403,),
           description="Bare prosesseiere og administratorer. Et diagram som er publisert før med akkurat "
                       "samme innhold, gir ingen ny versjon (created=false); da er svaret 200.")
def deploy():
    if not access.may_deploy(viewer()):
        raise Denied("Bare prosesseiere og administratorer kan publisere diagrammer.")
    data = body.multipart(schemas.DeployRequest)
    files = [(upload.filename, upload.stream.read()) for upload in data["files"]]
    results = kap12().deploy(files, viewer(), data["comment"].strip())
    g.committed = True
    created = any(r.created for r in results)
    return schemas.dump(schemas.DeployResultSchema, {"results": results}), 201 if created else 200
