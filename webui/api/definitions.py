"""Definitions: the deployed diagram versions, and deploying new ones (process owners and
administrators)."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from engine import access
from engine.errors import Denied
from engine.store.models import DefinitionVersion, User
from engine.versions import definitions

from . import body, bp, schemas
from .auth import kap12, viewer
from .openapi import operation


@bp.get("/definitions")
@operation("Publiserte diagramversjoner, nyeste først", tag="definitions", response=schemas.DefinitionListSchema,
           query=schemas.EmptyQuery)
def list_definitions():
    body.query(schemas.EmptyQuery)
    with kap12().db.reading() as session:
        latest = {row.id for row in definitions.latest_versions(session).values()}
        rows = session.execute(
            select(DefinitionVersion.id, DefinitionVersion.process_id, DefinitionVersion.version,
                   DefinitionVersion.name, DefinitionVersion.content_hash, DefinitionVersion.deployed_at,
                   DefinitionVersion.comment, User.display_name)
            .outerjoin(User, User.id == DefinitionVersion.deployed_by_id)
            .order_by(DefinitionVersion.deployed_at.desc(), DefinitionVersion.process_id,
                      DefinitionVersion.version.desc())).all()
    items = [{"id": r.id, "process_id": r.process_id, "version": r.version, "name": r.name,
              "content_hash": r.content_hash, "deployed_at": r.deployed_at, "deployed_by": r.display_name,
              "comment": r.comment or "", "latest": r.id in latest} for r in rows]
    return schemas.DefinitionListSchema().dump({"items": items, "count": len(items)})


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
    return schemas.DeployResultSchema().dump({"results": results}), 201 if created else 200
