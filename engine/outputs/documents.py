"""Case documents: the papers the law treats as documents (meldingsskjema, the investigation
with the pupil's own voice, each version of the tiltaksplan and its letter to the pupil and
parents, each evaluation, the closing summary), made from the recorded history events.

A document is produced once, lazily, when a page or an export asks (``ensure_documents``), and
stored as a ``CaseDocument`` with its SHA-256 and a fixed Noark systemID. It is never produced
again: asking again returns the stored bytes. A revised plan is a new event, so a new version.

The templates are data in ``processes/documents/`` (Jinja2 HTML + CSS); the PDF is made with
WeasyPrint as PDF/A-2b with the DejaVu fonts embedded."""
from __future__ import annotations

import base64
import logging
import mimetypes
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from engine import access
from engine.config import Settings
from engine.errors import NotFound
from engine.read import measures as read_measures
from engine.read import queries
from engine.store import history
from engine.store.events import (
    CASE_ENDED,
    CASE_NOTE,
    MEASURE_RECORDED,
    RECLASSIFIED,
    REPORTED,
    TASK_COMPLETED,
)
from engine.store.models import Case, CaseDocument, HistoryEvent
from engine.write.outputs import NewDocument, store_documents
from processes import forms
from processes.deadlines import OSLO, format_local, statsforvalter_from
from processes.messages import Message
from processes.roles import OFFENDER_PROCEDURE, PROCEDURE_LABELS

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

log = logging.getLogger("kap12.documents")

TEMPLATES = Path(__file__).resolve().parents[2] / "processes" / "documents"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
PDF_VARIANT = "pdf/a-2b"


@dataclass(frozen=True)
class Kind:
    code: str
    title: str
    forms: tuple[str, ...]  # the forms whose completed step makes it ("meldingsskjema": the report)
    template: str
    voice: tuple[str, ...] = ("elevens_stemme", "elevens_beskrivelse")
    letter: bool = False  # sent to the pupil and parents (an outgoing letter in the archive)
    # Made only from a step whose data pass this test (a letter when no plan is needed).
    when: Callable[[dict], bool] | None = None
    # For the documents of the other steps the law asks to document (``steg.html``): the
    # sentence under the heading, and who the meta table names.
    lead: str = ""
    who: str = "Registrert av"
    # A document made from an event that fills in no form (a note in the case): its kind.
    event_kind: str | None = None
    # Each one new (the notes: nr. 1, 2, …), not a version that replaces the one before.
    numbered: bool = False
    # Made again at each revision (a plan, an evaluation round): its title names the version.
    versioned: bool = False

    def document_title(self, version: int) -> str:
        if self.numbered:
            return f"{self.title} nr. {version}"
        return f"{self.title} (versjon {version})" if self.versioned else self.title

    def made_from(self, form: str, data: dict) -> bool:
        return form in self.forms and (self.when is None or self.when(data))


def _found_safe(data: dict) -> bool:
    return data.get("trygt_skolemiljo") == "ja"


# The step that ends a case otherwise (pupil left, joined, outside chapter 12): write/endings.py.
OTHER_ENDING = "annen_avslutning"

# In the order they appear in a case. A letter is made from the same step as its record.
KINDS: tuple[Kind, ...] = (
    Kind("meldingsskjema", "Meldingsskjema", ("meldingsskjema",), "meldingsskjema.html"),
    Kind("mottak", "Kvittering for mottatt melding", forms.RECEIPT_FORMS,
         "steg.html", who="Mottatt av",
         lead="Meldingen er mottatt og registrert (opplæringslova kapittel 12, delplikt 3: mottak av melding)."),
    Kind("varsel_skoleeier", "Varsel til skoleeier", ("varsle_skoleeier",), "steg.html", who="Varslet av",
         lead="Skoleeier er varslet om saken (opplæringslova § 12-5, eller en alvorlig sak i prosedyre A)."),
    Kind("bekreftet_varsel", "Skoleeiers bekreftelse av varselet", ("bekreft_varsel",), "steg.html",
         who="Bekreftet av", lead="Skoleeier har bekreftet at varselet om saken er mottatt."),
    Kind("kontradiksjon", "Kontradiksjon – den anklagede er informert og hørt", ("kontradiksjon",), "steg.html",
         who="Gjennomført av", lead="Den anklagede er informert om saken og har fått uttale seg (kontradiksjon). "
                                    "Tilsvaret er en del av saken og er taushetsbelagt."),
    Kind("undersokelse", "Undersøkelse med elevens stemme", ("undersokelse",), "undersokelse.html"),
    Kind("undersokelse_brev", "Resultatet av undersøkelsen – brev til eleven og foresatte", ("undersokelse",),
         "undersokelse_brev.html", letter=True, when=_found_safe),
    Kind("tiltaksplan", "Tiltaksplan", ("tiltaksplan",), "tiltaksplan.html", versioned=True),
    Kind("tiltaksplan_brev", "Tiltaksplan – brev til eleven og foresatte", ("tiltaksplan",), "tiltaksplan_brev.html",
         letter=True, versioned=True),
    Kind("gjennomforing", "Gjennomføring av tiltak", ("gjennomforing",), "steg.html", who="Registrert av", versioned=True,
         lead="Det som er gjort for å gjennomføre tiltakene i tiltaksplanen (opplæringslova § 12-4, delplikt 5)."),
    Kind("evaluering", "Evaluering av tiltak", ("evaluering",), "evaluering.html", versioned=True),
    Kind("avslutning", "Avslutning av saken", ("avslutning",), "avslutning.html"),
    Kind("annen_avslutning", "Avslutning av saken av annen grunn", (OTHER_ENDING,), "annen_avslutning.html"),
    Kind("avslutning_brev", "Saken er avsluttet – brev til eleven og foresatte", ("avslutning", OTHER_ENDING),
         "avslutning_brev.html", letter=True),
    # What was written down between the steps, or a correction of one: documentation too, so it
    # is filed with the rest (write/notes.py).
    Kind("notat", "Notat i saken", (), "notat.html", who="Skrevet av", event_kind=CASE_NOTE, numbered=True),
)
KIND_BY_CODE = {k.code: k for k in KINDS}

# Letters to the family are written in the family's language form (målform): the last choice
# recorded in a step's «familiens_malform», else the school's. A document kind that has a
# template for that form (``<name>.nn.html``) is written in it; the others stay in bokmål.
LANGUAGE_FORMS = ("nb", "nn")
FAMILY_FORM_FIELD = "familiens_malform"
NYNORSK_TITLES = {"tiltaksplan_brev": "Tiltaksplan – brev til eleven og føresette",
                  "undersokelse_brev": "Resultatet av undersøkinga – brev til eleven og føresette",
                  "avslutning_brev": "Saka er avslutta – brev til eleven og føresette"}


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document without its bytes (for lists)."""
    id: int
    case_id: int
    kind: str
    version: int
    source_seq: int
    title: str
    media_type: str
    sha256: str
    size: int
    created_at: datetime
    system_id: str
    exported_at: datetime | None

    @property
    def filename(self) -> str:
        return f"{self.kind}-v{self.version}.pdf"


# -- rendering ---------------------------------------------------------------------------------
def _day(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(OSLO).strftime("%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str) and len(value) > 10:  # a moment: its day in Oslo, not in UTC
        try:
            return _day(datetime.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10]).strftime("%d.%m.%Y")
        except ValueError:
            return value
    return str(value) if value not in (None, "") else "–"


_env: Environment | None = None


def environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                           undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
        _env.filters.update(day=_day, when=lambda dt: format_local(dt) if dt else "–")
    return _env


def font_dir() -> str:
    for folder in FONT_DIRS:
        if (folder / "DejaVuSans.ttf").exists():
            return folder.as_uri()
    raise RuntimeError("DejaVu-skriftene mangler (Debian-pakken fonts-dejavu-core).")


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """HTML to PDF/A-2b with WeasyPrint (fonts embedded), tagged: a structure tree in reading
    order (headings, paragraphs, tables, lists) and the language from ``<html lang>``, so that
    screen readers read the letters to pupils and parents as they read the page."""
    from weasyprint import HTML  # noqa: PLC0415 - heavy (Pango, fonts): loaded when a PDF is made

    return HTML(string=html, base_url=base_url or str(TEMPLATES)).write_pdf(
        pdf_variant=PDF_VARIANT, pdf_tags=True, uncompressed_pdf=False)


def logo_for(settings: Settings, school_id: int) -> str | None:
    """The logo slot: ``<instance>/logos/<school id>.png|svg``, else ``<instance>/logo.png|svg``."""
    folder = Path(settings.instance_dir)
    for path in [folder / "logos" / f"{school_id}.{ext}" for ext in ("png", "svg")] + \
                [folder / f"logo.{ext}" for ext in ("png", "svg")]:
        if path.is_file():
            kind = mimetypes.guess_type(path.name)[0] or "image/png"
            return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    return None


def _date_text(value: object) -> str:
    text = _day(value)
    return text + (f" kl. {value[11:16]}" if isinstance(value, str) and len(value) > 15 else "")


def value_text(field: forms.Field | None, value: object) -> str:
    return forms.value_text(field, value, format_date=_date_text)


def _fields(form: forms.Form, data: dict, voice: tuple[str, ...], skip: tuple[str, ...] = ()) -> list[dict]:
    out = []
    for f in form.fields:
        if f.name in skip or f.name == "anklaget_bruker":  # a user name says nothing on paper
            continue
        out.append({"label": f.label, "text": value_text(f, data.get(f.name)), "voice": f.name in voice})
    return out


def _choice_label(form: forms.Form, name: str, value: object) -> str:
    field = next((f for f in form.fields if f.name == name), None)
    return value_text(field, value)


def template_for(kind: Kind, language_form: str) -> tuple[str, str]:
    """The template for ``kind`` in ``language_form`` when there is one, with the language it is
    in; else the bokmål template."""
    if language_form != "nb":
        localised = kind.template.replace(".html", f".{language_form}.html")
        if (TEMPLATES / localised).is_file():
            return localised, language_form
    return kind.template, "nb"


def family_form(events: list[HistoryEvent], upto_seq: int, school_form: str) -> str:
    """The family's language form as it stood at step ``upto_seq``."""
    chosen = school_form if school_form in LANGUAGE_FORMS else "nb"
    for event in events:
        if event.seq > upto_seq:
            break
        value = _event_data(event).get(FAMILY_FORM_FIELD)
        if value in LANGUAGE_FORMS:
            chosen = value
    return chosen


def family_contact(procedure: str, owner_contact: str, lang: str = "nb") -> str:
    """Whom a letter tells the pupil and parents to turn to: never the person the case is about.
    In B an employee is accused (it may be the contact teacher), so rektor; in C the school's
    leadership is bypassed, so the school owner."""
    if procedure == "C":
        return owner_contact
    if procedure == "B":
        return "rektor"
    if lang == "nn":
        return "kontaktlæraren din eller til ein av oss i leiinga"
    return "kontaktlæreren din eller til en av oss i ledelsen"


def procedure_at(events: list[HistoryEvent], seq: int) -> str:
    """The procedure the case followed when event ``seq`` was recorded (documents are made
    later, and a case may have been reclassified since)."""
    procedure = "A"
    for ev in events:
        if ev.seq > seq:
            break
        d = ev.data or {}
        if ev.kind == REPORTED:
            procedure = OFFENDER_PROCEDURE.get(str((d.get("report") or {}).get("krenker_type")), "A")
        elif ev.kind == RECLASSIFIED:
            procedure = d.get("to_procedure") or procedure
    return procedure


def pupil_said(events: list[HistoryEvent], upto_seq: int) -> str | None:
    """What the pupil last said of their school environment before ``upto_seq``: «ja», «nei» or
    «uklart» (not said clearly, or could not be heard), from the latest investigation or
    evaluation; None when neither asked. A letter says "you told us you are safe" only on «ja»."""
    said = None
    for ev in events:
        if ev.seq >= upto_seq:
            break
        d = ev.data or {}
        if ev.kind == TASK_COMPLETED and d.get("form") in ("undersokelse", "evaluering"):
            said = (d.get("data") or {}).get("eleven_sier") or said
    return said


def render(kind: Kind, *, case: Case, school: str, county: str, event: HistoryEvent, version: int,
           pupils: str, logo: str | None, form: forms.Form | None = None, language_form: str = "nb",
           procedure: str | None = None, owner_contact: str = "skoleeier",
           taken_up: str | None = None, carried: list | None = None, said: str | None = None) -> str:
    """The document's HTML. ``form`` is the form version the step was filled in with, so a later
    change of labels never changes the document; the bundled declaration when not given.
    ``procedure`` is the one the case followed at that step (the case's current one if not given).
    ``said``: what the pupil last said before the step (``pupil_said``), for the closing letter."""
    data = _event_data(event)
    form_key = "meldingsskjema" if event.kind == REPORTED else (
        (event.data or {}).get("form") or (kind.forms[0] if kind.forms else None))
    form = form or (forms.get_form(form_key) if form_key else None)
    template, lang = template_for(kind, language_form)
    title = NYNORSK_TITLES.get(kind.code, kind.title) if lang == "nn" else kind.title
    procedure = procedure or case.procedure
    context = dict(lang=lang, case=case, school=school, county=county, title=title, version=version, data=data,
                   numbered=kind.numbered,
                   procedure=procedure, contact=family_contact(procedure, owner_contact, lang),
                   actor=event.actor, event_at=event.at, logo=logo, font_dir=font_dir(), confidential=True,
                   procedure_label=PROCEDURE_LABELS.get(procedure, procedure), pupils=pupils,
                   taken_up=taken_up, statsforvalter_from=statsforvalter_from(taken_up), form_key=form_key,
                   pupil_said=said,
                   css=(TEMPLATES / "document.css").read_text(encoding="utf-8"))
    if form is None:  # a note: its text, no form's fields
        return environment().get_template(template).render(**context)
    if kind.code == "undersokelse":
        context["conclusion"] = _choice_label(form, "trygt_skolemiljo", data.get("trygt_skolemiljo"))
        context["fields"] = _fields(form, data, kind.voice, skip=("elevens_stemme", "samtale_elev_dato",
                                                                    "trygt_skolemiljo"))
    elif kind.code == "evaluering":
        context["result"] = _choice_label(form, "evaluering_resultat", data.get("evaluering_resultat"))
        context["carried"] = carried or []
        context["fields"] = _fields(form, data, kind.voice, skip=("elevens_stemme", "evaluering_resultat",
                                                                    "evalueringsdato"))
    elif kind.code in ("avslutning", "annen_avslutning"):
        context["fields"] = _fields(form, data, kind.voice, skip=("elevens_stemme",))
        context["reason"] = _choice_label(form, "grunn", data.get("grunn"))
    elif kind.code == "avslutning_brev" and form_key == OTHER_ENDING:
        context["reason"] = _choice_label(form, "grunn", data.get("grunn"))
    elif kind.code == "meldingsskjema" or kind.template == "steg.html":
        context["fields"] = _fields(form, data, kind.voice)
        context["lead"], context["who_label"] = kind.lead, kind.who
    return environment().get_template(template).render(**context)


def _event_data(event: HistoryEvent) -> dict:
    d = event.data or {}
    if event.kind == CASE_NOTE:
        return d  # the note itself: its text and the step it corrects
    return d.get("report", {}) if event.kind == REPORTED else d.get("data", {})


def recorded_form(kap12: Kap12, event: HistoryEvent) -> forms.Form | None:
    """The form version a step was filled in with (the latest for steps from before versions)."""
    d = event.data or {}
    key = "meldingsskjema" if event.kind == REPORTED else d.get("form")
    if not isinstance(key, str):
        return None
    try:
        return kap12.forms.get_version(key, d.get("form_version"))
    except KeyError:
        return None


def _kinds_of(event: HistoryEvent) -> list[Kind]:
    if event.kind == CASE_NOTE:
        return [k for k in KINDS if k.event_kind == CASE_NOTE]
    form = "meldingsskjema" if event.kind == REPORTED else (event.data or {}).get("form")
    return [k for k in KINDS if k.made_from(form or "", _event_data(event))]


def _info(doc: CaseDocument, size: int) -> DocumentInfo:
    return DocumentInfo(doc.id, doc.case_id, doc.kind, doc.version, doc.source_seq, doc.title, doc.media_type,
                        doc.sha256, size, doc.created_at, doc.system_id, doc.exported_at)


def _stored(session: Session, case_id: int) -> list[DocumentInfo]:
    rows = session.execute(
        select(CaseDocument, func.length(CaseDocument.content)).where(CaseDocument.case_id == case_id)
        .order_by(CaseDocument.source_seq, CaseDocument.id)
        .options(defer(CaseDocument.content))).all()
    return [_info(doc, size or 0) for doc, size in rows]


# -- the lazy, once-only production -----------------------------------------------------------
def ensure_documents(kap12: Kap12, case_id: int) -> list[DocumentInfo]:
    """Produce the documents the case's history calls for that are not stored yet, in their own
    transaction, and return all of the case's documents (without their bytes), oldest first.
    Rendering happens before the write transaction, so a slow PDF never holds the write lock."""
    with kap12.db.reading() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(Message("Saken finnes ikke."))
        done = set(session.execute(select(CaseDocument.source_seq, CaseDocument.kind)
                                   .where(CaseDocument.case_id == case_id)).all())
        events = list(session.scalars(select(HistoryEvent).where(
            HistoryEvent.chain == history.case_chain(case_id),
            HistoryEvent.kind.in_((REPORTED, TASK_COMPLETED, RECLASSIFIED, CASE_ENDED, MEASURE_RECORDED, CASE_NOTE)))
            .order_by(HistoryEvent.seq)))
        school, county, school_form = case.school.name, case.school.county.name, case.school.malform
        versions = dict(session.execute(select(CaseDocument.kind, func.max(CaseDocument.version))
                                        .where(CaseDocument.case_id == case_id).group_by(CaseDocument.kind)).all())
    reported = next((ev for ev in events if ev.kind == REPORTED), None)
    pupils = ((reported.data or {}).get("report", {}).get("berorte_elever") or "") if reported else ""
    logo = logo_for(kap12.settings, case.school_id)
    made: list[NewDocument] = []
    for event in events:
        for kind in _kinds_of(event):
            if (event.seq, kind.code) in done:
                continue
            version = versions.get(kind.code, 0) + 1
            versions[kind.code] = version
            # § 12-6 as the case stood when the step was taken: a document is made once.
            taken_up = queries.taken_up_on([ev for ev in events if ev.seq <= event.seq])
            html = render(kind, case=case, school=school, county=county, event=event, version=version,
                          pupils=pupils, logo=logo, form=recorded_form(kap12, event),
                          language_form=family_form(events, event.seq, school_form),
                          procedure=procedure_at(events, event.seq), owner_contact=kap12.settings.owner_contact,
                          taken_up=taken_up,
                          carried=read_measures.carried_out(events, read_measures.status_labels(kap12), event.seq)
                          if kind.code == "evaluering" else None,
                          said=pupil_said(events, event.seq) if kind.code == "avslutning_brev" else None)
            made.append(NewDocument(kind.code, kind.document_title(version), version, event.seq, render_pdf(html)))
    if made:
        store_documents(kap12, case_id, made)
    with kap12.db.reading() as session:
        return _stored(session, case_id)


# -- reads for the pages (access-checked) ------------------------------------------------------
def documents_for(kap12: Kap12, viewer: access.Viewer, case_id: int) -> list[DocumentInfo]:
    """The case's documents for someone who may read the case in full."""
    with kap12.db.reading() as session:
        if access.access_level(session, viewer, case_id) != access.FULL:
            raise NotFound(Message("Saken finnes ikke."))
    return ensure_documents(kap12, case_id)


def document_content(kap12: Kap12, viewer: access.Viewer, case_id: int, document_id: int) -> tuple[DocumentInfo, bytes]:
    """One document's bytes; the download is recorded as a read of the case."""
    def refuse(_case: Case, level: str) -> None:
        if level != access.FULL:
            raise NotFound(Message("Dokumentet finnes ikke."))

    kap12.case(viewer, case_id, view="document", refuse=refuse)
    with kap12.db.reading() as session:
        doc = session.get(CaseDocument, document_id)
        if doc is None or doc.case_id != case_id:
            raise NotFound(Message("Dokumentet finnes ikke."))
        return _info(doc, len(doc.content)), doc.content


def stored_content(kap12: Kap12, document_id: int) -> bytes:
    """Bytes of a stored document, for the archive extract (which checks access itself)."""
    with kap12.db.reading() as session:
        doc = session.get(CaseDocument, document_id)
        if doc is None:
            raise NotFound(Message("Dokumentet finnes ikke."))
        return doc.content
