"""Tasks: the ones you may do, one with its form, and claiming, releasing and completing."""
from __future__ import annotations

import re
from dataclasses import asdict

from flask import g

from engine import access
from engine.errors import Conflict, NotFound
from engine.read import queries
from processes import forms

from . import body, bp, schemas
from .auth import kap12, viewer
from .openapi import operation
from .problems import ApiProblem

TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _checked(task_id: str) -> str:
    if not TASK_ID.match(task_id):
        raise NotFound(access.GONE)
    return task_id


def _row(row: queries.TaskRow) -> dict:
    task = row.task
    return {"id": task.id, "case_id": row.case_id, "case_number": row.case_number, "procedure": row.procedure,
            "school": row.school, "title": task.title, "form_key": task.form_key, "lane": task.lane,
            "roles": list(row.roles), "assignee": row.assignee, "mine": task.assignee_id == viewer().id,
            "opened_at": task.opened_at, "due_at": task.due_at}


@bp.get("/tasks")
@operation("Oppgavene du kan gjøre nå, kortest frist først", tag="tasks", response=schemas.TaskListSchema,
           query=schemas.TaskListQuery)
def list_tasks():
    args = body.query(schemas.TaskListQuery)
    page = queries.task_page(kap12(), viewer(), cursor=args.get("cursor"), limit=args["limit"], with_roles=True)
    return schemas.dump(schemas.TaskListSchema, {"items": [_row(r) for r in page.items], "limit": args["limit"],
                                                 "next_cursor": page.next_cursor})


def _form(form: forms.Form) -> dict:
    def field(f: forms.Field) -> dict:
        return {**asdict(f), "choices": [asdict(c) for c in f.choices], "row_fields": [field(s) for s in f.fields],
                "required_when": [{"field": name, "values": list(values)} for name, values in f.required_when]}

    return {"key": form.key, "title": form.title, "intro": form.intro, "form_fields": [field(f) for f in form.fields]}


@bp.get("/tasks/<task_id>")
@operation("Én åpen oppgave med skjemaet som skal fylles ut", tag="tasks", response=schemas.TaskDetailSchema,
           errors=(404, 410), description="Lesingen lagres i sakens historikk.")
def show_task(task_id: str):
    try:
        lookup = queries.task_for(kap12(), viewer(), _checked(task_id))
    except Conflict as err:
        raise ApiProblem(410, str(err)) from None
    case, _level = kap12().case(viewer(), lookup.case_id, view="api_task")
    names = queries.display_names(kap12(), [lookup.task.assignee_id])
    row = queries.TaskRow(lookup.task, case.id, case.number, case.procedure, case.school_id, case.school.name,
                          names.get(lookup.task.assignee_id), tuple(sorted(r.role for r in lookup.task.roles)))
    return schemas.dump(schemas.TaskDetailSchema, {**_row(row), "workable": lookup.workable,
                                                   "form": _form(lookup.form)})


def _acted(task_id: str, case) -> dict:
    g.committed = True
    following = [_row(r) for r in queries.task_page(kap12(), viewer(), case_id=case.id, with_roles=True).items]
    return schemas.dump(schemas.TaskActSchema, {
        "task_id": task_id, "case": {"id": case.id, "number": case.number, "status": case.status, "stage": case.stage},
        "next_tasks": following})


WRITE_ERRORS = (400, 403, 404, 409, 413, 415)


@bp.post("/tasks/<task_id>/claim")
@operation("Ta oppgaven: andre ser at den er din", tag="tasks", response=schemas.TaskActSchema,
           errors=WRITE_ERRORS, description="Uten innhold (eller {}).")
def claim(task_id: str):
    body.no_body()
    return _acted(task_id, kap12().claim(viewer(), _checked(task_id)))


@bp.post("/tasks/<task_id>/release")
@operation("Legg oppgaven tilbake: alle med rollen kan ta den", tag="tasks", response=schemas.TaskActSchema,
           errors=WRITE_ERRORS, description="Uten innhold (eller {}).")
def release(task_id: str):
    body.no_body()
    return _acted(task_id, kap12().release(viewer(), _checked(task_id)))


@bp.post("/tasks/<task_id>/complete")
@operation("Utfør oppgaven med skjemaets data", tag="tasks", response=schemas.TaskActSchema,
           body=schemas.TaskFormData, errors=(403, 404, 409),
           description="Innholdet er skjemaets felt. Feil i feltene gir 400 med meldinger per felt, og "
                       "ingenting blir endret. En oppgave som alt er utført, gir 409.")
def complete(task_id: str):
    data = body.json_object()
    return _acted(task_id, kap12().complete(viewer(), _checked(task_id), data))
