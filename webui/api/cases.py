"""Cases: report one, list the ones you may see, read one, read its history."""
from __future__ import annotations

from flask import g, url_for

from engine import access
from engine.errors import Denied, InvalidInput, NotFound
from engine.read import queries

from .. import present
from . import body, bp, schemas
from .auth import kap12, viewer
from .openapi import operation
from .problems import invalid

CASE_ID = "<id:case_id>"


@bp.get("/cases")
@operation("Sakene du har tilgang til, nyeste først, side for side", tag="cases", response=schemas.CaseListSchema,
           query=schemas.CaseListQuery)
def list_cases():
    args = body.query(schemas.CaseListQuery)
    status = None if args["status"] == "all" else args["status"]
    page = kap12().case_page(viewer(), status, procedure=args.get("procedure"), school=args.get("school"),
                             search=args.get("q"), cursor=args.get("cursor"), limit=args["limit"])
    return schemas.dump(schemas.CaseListSchema, {"items": page.items, "limit": args["limit"],
                                                 "next_cursor": page.next_cursor})


@bp.post("/cases")
@operation("Meld en sak (meldingsskjema)", tag="cases", ok=201, response=schemas.CaseStatusSchema,
           body_schema=schemas.report_request, errors=(403,),
           headers={"Location": {"description": "Sakens adresse.", "schema": {"type": "string"}}},
           description="Feltene i meldingsskjemaet og skolen. Svaret er det melderen ser: hvor saken står.")
def report():
    data = body.json_object()
    if schemas.kept(schemas.ReportSchool).validate({"school_id": data["school_id"]} if "school_id" in data else {}):
        # Every field's error at once, the school's with the form's. (A right school leaves the
        # form to the step, which refuses what this would: checked here too, it cost a
        # report a second look at the form catalog and a second load of its fields.)
        body.load(schemas.report_request(), data)
    school_id = data.pop("school_id")
    try:
        # The receipt, as the page shows it (and, like the page, a recorded read: in the step).
        case = kap12().report(viewer(), school_id, data, read_as="api_receipt")
    except NotFound as err:
        raise invalid({"school_id": [str(err)]}) from None
    g.committed = True
    response = schemas.dump(schemas.CaseStatusSchema, _status(case))
    return response, 201, {"Location": url_for("api.show_case", case_id=case.id)}


def _status(case) -> dict:
    return {"access": access.STATUS, "id": case.id, "number": case.number, "school": case.school.name,
            "status": case.status, "stage": case.stage, "handled": kap12().case_handled(case)}


def _task(task, names) -> dict:
    return {"id": task.id, "title": task.title, "form_key": task.form_key, "lane": task.lane,
            "roles": [r.role for r in task.roles], "assignee": names.get(task.assignee_id),
            "opened_at": task.opened_at, "due_at": task.due_at}


@bp.get(f"/cases/{CASE_ID}")
@operation("Én sak: alt for den som har full tilgang, status for den som meldte", tag="cases",
           response=(schemas.CaseFullSchema, schemas.CaseStatusSchema),
           errors=(404,), description="Hver lesing lagres i sakens historikk.")
def show_case(case_id: int):
    case, level = kap12().case(viewer(), case_id, view="api")
    if level != access.FULL:
        return schemas.dump(schemas.CaseStatusSchema, _status(case))
    tasks = kap12().case_tasks(case_id)
    names = queries.display_names(kap12(), [t.assignee_id for t in tasks])
    steps = queries.case_steps(kap12(), viewer(), case_id)
    return schemas.dump(schemas.CaseFullSchema, {
        "access": access.FULL, "id": case.id, "number": case.number, "school_id": case.school_id,
        "school": case.school.name, "procedure": case.procedure, "status": case.status, "stage": case.stage,
        "escalated": case.escalated, "owner_notified_at": case.owner_notified_at, "created_at": case.created_at, "updated_at": case.updated_at,
        "closed_at": case.closed_at, "next_deadline": case.next_deadline,
        "tasks": [_task(t, names) for t in tasks],
        "timers": [{"name": t.name, "kind": t.kind, "due_at": t.due_at} for t in kap12().case_timers(case_id)],
        "steps": [{"at": s.at, "actor": s.actor, "title": s.title, "form_key": s.form_key, "data": s.data}
                  for s in steps],
    })


@bp.get(f"/cases/{CASE_ID}/history")
@operation("Sakens historikk, eldst først, side for side", tag="cases", response=schemas.HistorySchema,
           query=schemas.HistoryQuery, errors=(403, 404),
           description="Bare med full tilgang. Hvem som har lest saken, ser ledelsen og revisor; andre ser antallet. "
                       "«next_cursor» gir neste side; hele historikken med hashkjeden er i revisjonens eksport.")
def case_history(case_id: int):
    args = body.query(schemas.HistoryQuery)

    def refuse(case, level: str) -> None:  # before the read is recorded: a refused read is none
        if level != access.FULL:
            raise Denied("Du ser hvor saken står, men ikke historikken.")

    case, _level = kap12().case(viewer(), case_id, view="api_history", refuse=refuse)
    page, reads = kap12().case_history_page(case, reads=access.sees_read_log(viewer(), case),
                                            cursor=args.get("cursor"), limit=args["limit"])
    return schemas.dump(schemas.HistorySchema, {
        "case_id": case.id, "number": case.number, "reads": reads, "limit": args["limit"],
        "next_cursor": page.next_cursor,
        "events": [{"seq": ev.seq, "at": ev.at, "actor": present.actor_text(ev), "kind": ev.kind, "text": present.event_text(ev),
                    "data": ev.data or {}, "hash": ev.hash, "prev_hash": ev.prev_hash} for ev in page.items],
    })


# The engine names fields as the case page's form does; the API's fields are English.
API_FIELDS = {"bruker": "username", "anklaget_bruker": "username", "begrunnelse": "reason", "til": "until",
              "notat": "text", "retter": "corrects"}


def _api_fields(err: InvalidInput) -> InvalidInput:
    return InvalidInput(str(err), {API_FIELDS.get(k, k): v for k, v in (err.errors or {}).items()})


def _grants(case_id: int) -> dict:
    return {"case_id": case_id, "items": [g.__dict__ for g in kap12().case_grants(case_id)]}


@bp.get(f"/cases/{CASE_ID}/grants")
@operation("Hvem som har fått tilgang til saken", tag="cases", response=schemas.AccessGrantListSchema,
           errors=(403, 404), description="For dem som leder saken i prosedyren, og revisor.")
def list_grants(case_id: int):
    def refuse(case, level: str) -> None:  # those who lead it, its auditors; refused before it is recorded
        if level != access.FULL or not access.sees_read_log(viewer(), case):
            raise Denied("Bare den som leder saken, og revisor, ser hvem som har fått tilgang.")

    kap12().case(viewer(), case_id, view="api_grants", refuse=refuse)
    return schemas.dump(schemas.AccessGrantListSchema, _grants(case_id))


@bp.post(f"/cases/{CASE_ID}/grants")
@operation("Gi en ansatt tilgang til saken", tag="cases", ok=201, response=schemas.AccessGrantListSchema,
           body_schema=schemas.AccessGrantRequest, errors=(403, 404, 409),
           description="Rektor (prosedyre A og B) eller skoleeier (C). Lagres i sakens historikk.")
def grant_access(case_id: int):
    data = body.load(schemas.AccessGrantRequest, body.json_object())
    try:
        kap12().grant_access(viewer(), case_id, data["username"], data["reason"], data["until"])
    except InvalidInput as err:
        raise _api_fields(err) from None
    g.committed = True
    return schemas.dump(schemas.AccessGrantListSchema, _grants(case_id)), 201


@bp.post(f"/cases/{CASE_ID}/grants/<id:grant_id>/withdraw")
@operation("Trekk tilbake en tilgang", tag="cases", response=schemas.AccessGrantListSchema,
           body_schema=schemas.WithdrawRequest, errors=(403, 404, 409))
def withdraw_access(case_id: int, grant_id: int):
    data = body.load(schemas.WithdrawRequest, body.json_object())
    kap12().withdraw_access(viewer(), case_id, grant_id, data["reason"])
    g.committed = True
    return schemas.dump(schemas.AccessGrantListSchema, _grants(case_id))


@bp.post(f"/cases/{CASE_ID}/accused")
@operation("Registrer hvem som er anklaget (prosedyre B og C)", tag="cases", response=schemas.CaseRefSchema,
           body_schema=schemas.AccusedRequest, errors=(403, 404, 409),
           description="Rektor (B) eller skoleeier (B, C). Den anklagede mister all tilgang til saken.")
def identify_accused(case_id: int):
    data = body.load(schemas.AccusedRequest, body.json_object())
    try:
        case = kap12().identify_accused(viewer(), case_id, data["username"], data["reason"])
    except InvalidInput as err:
        raise _api_fields(err) from None
    g.committed = True
    return schemas.dump(schemas.CaseRefSchema, case)


@bp.post(f"/cases/{CASE_ID}/notes")
@operation("Skriv et notat i saken, eller rett et tidligere steg", tag="cases", ok=201, response=schemas.CaseRefSchema,
           body_schema=schemas.NoteRequest, errors=(403, 404, 409),
           description="Den som leser saken i sin helhet og kan endre den (ikke revisor, melderen eller den "
                       "anklagede); i en avsluttet sak bare de som leder saken. Notatet lagres i sakens "
                       "historikk; ingenting som er lagret før, endres.")
def add_note(case_id: int):
    data = body.load(schemas.NoteRequest, body.json_object())
    try:
        case = kap12().add_note(viewer(), case_id, data["text"], data["corrects"])
    except InvalidInput as err:
        raise _api_fields(err) from None
    g.committed = True
    return schemas.dump(schemas.CaseRefSchema, case), 201


@bp.post(f"/cases/{CASE_ID}/owner-notice")
@operation("Be rektor varsle skoleeier: saken er alvorlig (prosedyre A)", tag="cases", ok=201,
           response=schemas.CaseRefSchema, body_schema=schemas.OwnerNoticeRequest, errors=(403, 404, 409),
           description="Den som leder en sak i prosedyre A, etter mottaket: rektor får oppgaven «Varsle "
                       "skoleeier» ved siden av oppfølgingen. Lagres med hvem, når og hvorfor.")
def ask_owner_notice(case_id: int):
    data = body.load(schemas.OwnerNoticeRequest, body.json_object())
    try:
        case = kap12().ask_owner_notice(viewer(), case_id, data["reason"])
    except InvalidInput as err:
        raise _api_fields(err) from None
    g.committed = True
    return schemas.dump(schemas.CaseRefSchema, case), 201
