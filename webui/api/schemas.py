"""Marshmallow schemas for every request and response of the API. The views load requests and
dump responses with them, and the OpenAPI document is generated from them, so the document says
what the code does.

Longer than ~400 lines: one short schema per request and response; they share field helpers and
are registered with the OpenAPI document together, so they stay in one module."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import current_app, has_app_context
from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from engine.read.case_list import STATUSES
from processes import forms

MAX_ID = 2**31 - 1
REPORT_FORM = "meldingsskjema"


# -- fields ------------------------------------------------------------------------------------
class Text(fields.String):
    """A string that can be stored anywhere: no NUL characters, no lone surrogates."""

    default_error_messages = {"invalid": "Ugyldig tekst.", "nul": "Teksten kan ikke inneholde NUL-tegn."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise self.make_error("invalid") from err
        return text


class Id(fields.Integer):
    """A whole number id: JSON numbers only (not true/false, not 1.5, not "1")."""

    default_error_messages = {"invalid": "Skriv et heltall."}

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(1, MAX_ID, error="Ugyldig id."), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Upload(fields.Field):
    """An uploaded file in a multipart request."""

    default_error_messages = {"invalid": "Send en fil.",
                              "name": "Filnavnet må slutte på .bpmn og bare ha bokstaver, sifre, mellomrom, . _ og -."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        name = value.filename or ""
        if (not name.lower().endswith(".bpmn") or len(name) > 200
                or not all(c.isalnum() or c in " ._-" for c in name)):
            raise self.make_error("name")
        return value


class Query(Schema):
    class Meta:
        unknown = RAISE


class Strict(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


@lru_cache(maxsize=64)  # a form's new version is a new schema: the old ones go in time
def kept(schema: type[Schema]) -> Schema:
    """One instance of each schema, made once and kept: made anew on every request, with the
    schemas nested in it (a task's form, its fields), it cost a tenth of opening a task through
    the API. ``load`` and ``dump`` keep nothing on the instance, so a worker's threads share it
    (a nested schema made twice at once is only made twice)."""
    return schema()


def dump(schema: type[Schema], data: Any) -> Any:
    """``data`` through the kept ``schema``: a response's body."""
    return kept(schema).dump(data)


# -- requests ----------------------------------------------------------------------------------
class PageQuery(Query):
    """A collection's page: how many, and where the previous page ended (keyset paging)."""
    limit = fields.Integer(validate=validate.Range(1, 500), load_default=100)
    cursor = Text(validate=validate.Length(1, 500),
                  metadata={"description": "«next_cursor» fra forrige side; uten den: første side."})


class CaseListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf([*STATUSES, "all"]), load_default="all",
                           metadata={"description": "Åpne, avsluttede eller alle saker (standard)."})
    procedure = fields.String(validate=validate.OneOf(["A", "B", "C"]), metadata={"description": "Prosedyre."})
    school = Text(validate=validate.Length(1, 200), metadata={"description": "Skolens navn."})
    q = Text(validate=validate.Length(1, 100), metadata={"description": "Søk i saksnummeret."})


class HistoryQuery(PageQuery):
    pass


class TaskListQuery(PageQuery):
    pass


class EmptyQuery(Query):
    """No query parameters."""


class TaskFormData(Schema):
    """The fields of the task's form (``GET /api/v1/tasks/{task_id}`` shows the form); the task's
    form validates them, and unknown fields are refused."""

    class Meta:
        unknown = INCLUDE


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ValidationError("Feltet må fylles ut.")


class DeployRequest(Strict):
    comment = Text(required=True, validate=[validate.Length(1, 1000), _not_blank],
                   metadata={"description": "Hva som er endret, og hvorfor."})
    files = fields.List(Upload(), required=True, validate=validate.Length(1, 20),
                        metadata={"description": "Én eller flere .bpmn-filer."})


class AccessGrantRequest(Strict):
    username = Text(required=True, validate=validate.Length(1, 100),
                    metadata={"description": "Brukernavnet til en ansatt ved skolen."})
    reason = Text(required=True, validate=[validate.Length(1, 2000), _not_blank],
                  metadata={"description": "Hvorfor personen trenger tilgang."})
    until = fields.Date(required=True, metadata={"description": "Siste dag tilgangen gjelder (høyst ett år fram)."})


class WithdrawRequest(Strict):
    reason = Text(load_default="", validate=validate.Length(0, 2000), metadata={"description": "Hvorfor (valgfritt)."})


class AccusedRequest(Strict):
    username = Text(required=True, validate=validate.Length(1, 100),
                    metadata={"description": "Brukernavnet til den anklagede (en ansatt ved skolen; i C en leder)."})
    reason = Text(load_default="", validate=validate.Length(0, 2000),
                  metadata={"description": "Hvordan dette ble kjent (valgfritt)."})


class NoteRequest(Strict):
    text = Text(required=True, validate=validate.Length(1, 4000),
                metadata={"description": "Hva som skal stå i saken: en samtale, en ny hendelse, en rettelse."})
    corrects = Id(load_default=None, allow_none=True,
                  metadata={"description": "Nummeret (seq) på steget notatet retter, fra GET …/history (valgfritt). "
                                           "Det som sto, blir stående; rettelsen er en ny oppføring."})


class OwnerNoticeRequest(Strict):
    reason = Text(required=True, validate=validate.Length(1, 2000),
                  metadata={"description": "Hvorfor saken er alvorlig, så rektor og skoleeier ser det."})


def _school_field() -> Id:
    return Id(required=True, metadata={"description": "Skolen saken gjelder (se GET /api/v1/me)."})


# The school alone, as ``report_request`` checks it: the report's step checks the form's fields
# (unknown ones refused, as here), so a report whose school is right is not validated twice.
ReportSchool = Schema.from_dict({"school_id": _school_field()}, name="ReportSchool")


@lru_cache(maxsize=8)
def _report_request(form: forms.Form) -> type[Schema]:
    base = type(forms.schema_for(form))
    return base.from_dict({"school_id": _school_field()}, name="ReportRequest")


def report_request() -> type[Schema]:
    """The meldingsskjema as it is declared now, plus the school."""
    if has_app_context() and "kap12" in current_app.extensions:
        return _report_request(current_app.extensions["kap12"].forms.get(REPORT_FORM))
    return _report_request(forms.get_form(REPORT_FORM))


# -- responses ---------------------------------------------------------------------------------
class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    class Meta:
        ordered = True

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), metadata={"description": "Meldinger per felt."})


class GrantSchema(Schema):
    role = fields.String(required=True)
    school_id = fields.Integer(required=True, allow_none=True)
    county_id = fields.Integer(required=True, allow_none=True)


class SchoolSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    auth = fields.String(required=True, validate=validate.OneOf(["token", "session"]))
    csrf_token = fields.String(metadata={"description": "Bare med innloggingsøkt: send den i X-CSRF-Token."})
    grants = fields.List(fields.Nested(GrantSchema), required=True)
    read_only = fields.Boolean(required=True)
    may_deploy = fields.Boolean(required=True)
    report_schools = fields.List(fields.Nested(SchoolSchema), required=True,
                                 metadata={"description": "Skolene du kan melde saker for."})


class CaseSummarySchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    school = fields.String(required=True)
    procedure = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    next_deadline = fields.DateTime(required=True, allow_none=True)
    open_tasks = fields.Integer(required=True)


class Paged(Schema):
    """A page of a collection (``PageQuery``): its size, and where the next begins."""
    limit = fields.Integer(required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata={
        "description": "Send som «cursor» for neste side; null på siste side."})


class CaseListSchema(Paged):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)


class CaseStatusSchema(Schema):
    """What the reporter sees: where the case stands, not what the investigation found."""

    access = fields.String(required=True, validate=validate.OneOf(["status"]))
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    school = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    handled = fields.Boolean(required=True, metadata={"description": "Noen arbeider med saken."})


class CaseTaskSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    form_key = fields.String(required=True)
    lane = fields.String(required=True, allow_none=True)
    roles = fields.List(fields.String(), required=True)
    assignee = fields.String(required=True, allow_none=True)
    opened_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True, allow_none=True)


class TimerSchema(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True)
    due_at = fields.DateTime(required=True)


class StepSchema(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    title = fields.String(required=True)
    form_key = fields.String(required=True)
    data = fields.Dict(keys=fields.String(), required=True)


class CaseFullSchema(Schema):
    access = fields.String(required=True, validate=validate.OneOf(["full"]))
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    school_id = fields.Integer(required=True)
    school = fields.String(required=True)
    procedure = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    escalated = fields.Boolean(required=True)
    owner_notified_at = fields.DateTime(required=True, allow_none=True,
                                        metadata={"description": "Når skoleeier ble varslet om saken."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    next_deadline = fields.DateTime(required=True, allow_none=True)
    tasks = fields.List(fields.Nested(CaseTaskSchema), required=True)
    timers = fields.List(fields.Nested(TimerSchema), required=True)
    steps = fields.List(fields.Nested(StepSchema), required=True,
                        metadata={"description": "Meldingen og hvert utført skjema, eldst først."})


class EventSchema(Schema):
    seq = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    kind = fields.String(required=True)
    text = fields.String(required=True)
    data = fields.Dict(keys=fields.String(), required=True)
    hash = fields.String(required=True)
    prev_hash = fields.String(required=True)


class AccessGrantSchema(Schema):
    id = fields.Integer(required=True)
    user = fields.String(required=True)
    username = fields.String(required=True)
    reason = fields.String(required=True)
    granted_at = fields.DateTime(required=True)
    last_day = fields.Date(required=True)
    withdrawn_at = fields.DateTime(required=True, allow_none=True)
    withdraw_reason = fields.String(required=True, allow_none=True)
    active = fields.Boolean(required=True)


class AccessGrantListSchema(Schema):
    case_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(AccessGrantSchema), required=True)


class HistorySchema(Paged):
    case_id = fields.Integer(required=True)
    number = fields.String(required=True)
    events = fields.List(fields.Nested(EventSchema), required=True,
                         metadata={"description": "Lesinger (case_read) er med bare for ledelse og revisor."})
    reads = fields.Integer(required=True, metadata={"description": "Hvor mange ganger saken er åpnet."})


class TaskSchema(Schema):
    id = fields.String(required=True)
    case_id = fields.Integer(required=True)
    case_number = fields.String(required=True)
    procedure = fields.String(required=True)
    school = fields.String(required=True)
    title = fields.String(required=True)
    form_key = fields.String(required=True)
    lane = fields.String(required=True, allow_none=True)
    roles = fields.List(fields.String(), required=True)
    assignee = fields.String(required=True, allow_none=True)
    mine = fields.Boolean(required=True, metadata={"description": "Du har tatt oppgaven."})
    opened_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True, allow_none=True)


class TaskListSchema(Paged):
    items = fields.List(fields.Nested(TaskSchema), required=True)


class ChoiceSchema(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)


class RequiredWhenSchema(Schema):
    field = fields.String(required=True)
    values = fields.List(fields.String(), required=True)


class FormFieldSchema(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(sorted(forms.TYPES)))
    required = fields.Boolean(required=True)
    help = fields.String(required=True)
    choices = fields.List(fields.Nested(ChoiceSchema), required=True)
    row_fields = fields.List(fields.Nested(lambda: FormFieldSchema()), required=True, data_key="fields",
                             metadata={"description": "Feltene i hver rad (type group)."})
    min_items = fields.Integer(required=True)
    max_length = fields.Integer(required=True, allow_none=True)
    required_when = fields.List(fields.Nested(RequiredWhenSchema), required=True)


class FormSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    intro = fields.String(required=True)
    form_fields = fields.List(fields.Nested(FormFieldSchema), required=True, data_key="fields")


class TaskDetailSchema(TaskSchema):
    workable = fields.Boolean(required=True, metadata={"description": "Du kan utføre oppgaven nå."})
    form = fields.Nested(FormSchema, required=True)


class CaseRefSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    stage = fields.String(required=True)


class TaskActSchema(Schema):
    task_id = fields.String(required=True)
    case = fields.Nested(CaseRefSchema, required=True)
    next_tasks = fields.List(fields.Nested(TaskSchema), required=True,
                             metadata={"description": "Oppgaver i saken du kan gjøre nå."})


class DefinitionSchema(Schema):
    id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    content_hash = fields.String(required=True)
    deployed_at = fields.DateTime(required=True)
    deployed_by = fields.String(required=True, allow_none=True)
    comment = fields.String(required=True)
    latest = fields.Boolean(required=True)


class DefinitionListSchema(Schema):
    items = fields.List(fields.Nested(DefinitionSchema), required=True)
    count = fields.Integer(required=True)


class DeployedSchema(Schema):
    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    content_hash = fields.String(required=True)
    created = fields.Boolean(required=True, metadata={"description": "false: akkurat dette var publisert før."})


class DeployResultSchema(Schema):
    results = fields.List(fields.Nested(DeployedSchema), required=True)

