"""Noark 5 archive extract (arkivuttrekk) of closed chapter 12 cases.

``ArchiveTarget`` is the seam: anything that takes closed cases into an archive. ``ZipExtract``
writes a Noark 5 v5.0 extract package (arkivstruktur.xml, arkivuttrekk.xml as ADDML, and the
PDF documents) that Elements or any Noark 5 archive can import. A live integration (Noark 5
tjenestegrensesnitt, KS Fiks Arkiv) is another implementation of the same protocol.

Every systemID is fixed: the document's own (stored when it was made) or a UUID derived from
stable keys, so exporting the same cases again gives the same extract, byte for byte. The
content is confidential: every saksmappe, journalpost and dokumentbeskrivelse is skjermet
(tilgangsrestriksjon 13, offl. § 13 jf. fvl. § 13), and no pupil's name is in the metadata.

Longer than ~400 lines: arkivstruktur.xml and the ADDML description must agree field by field
(counts, checksums, periods), so both are written here, side by side."""
from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, runtime_checkable

from lxml import etree
from sqlalchemy import select

from engine import access
from engine.errors import Denied, InvalidInput, NotFound
from engine.outputs.documents import KIND_BY_CODE, DocumentInfo, ensure_documents
from engine.store.models import Case, CaseDocument
from engine.versions.diagram_check import safe_parse
from engine.write import cases as case_acts
from engine.write.outputs import mark_exported
from processes.deadlines import OSLO
from processes.messages import Message
from processes.roles import PROCEDURE_LABELS

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12


def _not_closed(number: str) -> Message:
    return Message("Sak %(number)s er ikke avsluttet og kan ikke arkiveres ennå.", number=number)


NS = "http://www.arkivverket.no/standarder/noark5/arkivstruktur"
ADDML_NS = "http://www.arkivverket.no/standarder/addml"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Every derived systemID lives under this namespace; never change it (re-export must match).
SYSTEM_ID_NAMESPACE = uuid.UUID("6f1c5a0e-7b1d-5c39-9a55-0d1f6b0c1201")

CREATED_BY = "kap12"
TILGANGSRESTRIKSJON = "13"
SKJERMINGSHJEMMEL = "Offl. § 13, jf. fvl. § 13"
SKJERMING_METADATA = ("tittel", "korrespondansepart")
SKJERMING_DOKUMENT = "Skjerming av hele dokumentet"
PDF_FORMAT = "fmt/477"  # PRONOM: PDF/A-2b
PDF_FORMAT_DETAILS = "PDF/A-2b (ISO 19005-2)"
CLASS_TITLES = {"A": "Elev krenker elev (opplæringslova § 12-4)",
                "B": "Ansatt krenker elev (opplæringslova § 12-5)",
                "C": "Noen i skolens ledelse krenker elev (opplæringslova § 12-5)"}
# Letters to the pupil and parents (``Kind.letter``) are outgoing documents; the rest internal.
JOURNALPOST_TYPE = {"meldingsskjema": "Organinternt dokument for oppfølging"}
DEFAULT_JOURNALPOST_TYPE = "Organinternt dokument uten oppfølging"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def system_id(*key: object) -> str:
    return str(uuid.uuid5(SYSTEM_ID_NAMESPACE, ":".join(str(k) for k in key)))


@dataclass(frozen=True)
class ArchiveResult:
    """What an archive target did: which cases and documents went, and (for a file extract)
    the package itself."""
    target: str
    case_numbers: tuple[str, ...]
    documents: int
    reference: str                      # file name, or the archive's own reference
    content: bytes | None = None
    sha256: str = ""
    system_ids: dict[str, str] = field(default_factory=dict)  # case number -> saksmappe systemID


@runtime_checkable
class ArchiveTarget(Protocol):
    """Takes closed cases (ids) into an archive and says what it did."""

    def export(self, cases: Sequence[int]) -> ArchiveResult: ...


def closed_in_period(kap12: Kap12, viewer: access.Viewer, first: date, last: date) -> list[int]:
    """Ids of the cases the viewer may read in full that were closed from ``first`` to ``last``
    (inclusive, Oslo dates), oldest first."""
    start = datetime.combine(first, time.min, tzinfo=OSLO)
    end = datetime.combine(last, time.max, tzinfo=OSLO)
    query = (access.readable_cases(viewer)
             .where(Case.status == "closed", Case.closed_at >= start, Case.closed_at <= end)
             .with_only_columns(Case.id).order_by(Case.closed_at, Case.id))
    with kap12.db.reading() as session:
        return list(session.scalars(query))


# -- the zip extract -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Doc:
    info: DocumentInfo  # its size and checksum, as stored when it was made: all the XML needs
    path: str
    journal_no: int


class ZipExtract:
    """A Noark 5 extract package as a zip file, for import into the county's archive."""

    name = "noark5-uttrekk"

    def __init__(self, kap12: Kap12, viewer: access.Viewer, *, title: str = "Elevsaker om skolemiljø (opplæringslova kapittel 12)",
                 progress: Callable[[int, int, str], None] | None = None) -> None:
        self.kap12, self.viewer, self.title = kap12, viewer, title
        # Called as (done, total, case number) while documents are made: the slow part.
        self.progress = progress

    def export(self, cases: Sequence[int]) -> ArchiveResult:
        """The package as bytes in ``content`` (``write`` puts it in a file instead)."""
        buffer = io.BytesIO()
        result = self.write(cases, buffer)
        content = buffer.getvalue()
        return replace(result, content=content, sha256=hashlib.sha256(content).hexdigest())

    def write(self, cases: Sequence[int], out: IO[bytes]) -> ArchiveResult:
        """The package written into ``out`` (a file open for writing), each document read from the
        database as it goes in: one PDF in memory at a time, not a county's year of them. The
        result carries no content; its ``sha256`` is the caller's to take of what was written."""
        ids = list(dict.fromkeys(cases))
        if not ids:
            raise InvalidInput(Message("Velg minst én avsluttet sak."))
        loaded = self._load(ids)
        docs = {}
        for n, c in enumerate(loaded, start=1):
            docs[c.id] = self._documents(c)
            if self.progress is not None:
                self.progress(n, len(loaded), c.number)
        struktur = arkivstruktur_xml(loaded, docs, self.title)
        uttrekk = arkivuttrekk_xml(loaded, docs, struktur, self.title)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            _add(zf, "arkivuttrekk.xml", uttrekk)
            _add(zf, "arkivstruktur.xml", struktur)
            for c in loaded:
                with self.kap12.db.reading() as session:  # a case's documents, then let go
                    for d in docs[c.id]:
                        _add(zf, d.path, session.execute(select(CaseDocument.content)
                                                         .where(CaseDocument.id == d.info.id)).scalar_one())
        mark_exported(self.kap12, [d.info.id for c in loaded for d in docs[c.id]])
        case_acts.record_reads(self.kap12, self.viewer, [c.id for c in loaded], "arkivuttrekk")
        numbers = tuple(c.number for c in loaded)
        stem = numbers[0] if len(numbers) == 1 else f"{len(numbers)}-saker"
        return ArchiveResult(self.name, numbers, sum(len(v) for v in docs.values()), f"noark5-uttrekk-{stem}.zip",
                             system_ids={c.number: system_id("saksmappe", c.number) for c in loaded})

    def _load(self, ids: list[int]) -> list[Case]:
        with self.kap12.db.reading() as session:
            loaded = []
            for case_id in ids:
                if access.access_level(session, self.viewer, case_id) != access.FULL:
                    raise NotFound(Message("Saken finnes ikke."))
                case = session.get(Case, case_id)
                if case is None:
                    raise NotFound(Message("Saken finnes ikke."))
                if not access.may_archive(self.viewer, case):
                    raise Denied(Message("Bare skolens ledelse eller skoleeier kan arkivere saken."))
                if case.status != "closed" or case.closed_at is None:
                    raise InvalidInput(_not_closed(case.number))
                _ = case.school.county.name  # loaded now, read after the session
                loaded.append(case)
            loaded.sort(key=lambda c: (c.closed_at, c.id))
            return loaded

    def _documents(self, case: Case) -> list[_Doc]:
        return [_Doc(info, f"dokumenter/{case.number}/{n:02d}-{info.kind}-v{info.version}.pdf", n)
                for n, info in enumerate(ensure_documents(self.kap12, case.id), start=1)]


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    """One file in the package, with fixed times and modes: the same cases, the same bytes."""
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


# -- arkivstruktur.xml ---------------------------------------------------------------------------
def _dt(value: datetime) -> str:
    return value.astimezone(OSLO).isoformat(timespec="seconds")


def _d(value: datetime) -> str:
    return value.astimezone(OSLO).date().isoformat()


def _el(parent: etree._Element, name: str, text: object | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{NS}}}{name}", **attrs)
    if text is not None:
        node.text = str(text)
    return node


def _skjerming(parent: etree._Element) -> None:
    s = _el(parent, "skjerming")
    _el(s, "tilgangsrestriksjon", TILGANGSRESTRIKSJON)
    _el(s, "skjermingshjemmel", SKJERMINGSHJEMMEL)
    for item in SKJERMING_METADATA:
        _el(s, "skjermingMetadata", item)
    _el(s, "skjermingDokument", SKJERMING_DOKUMENT)


def _closed_at(case: Case) -> datetime:
    """When an archived case was closed (only closed cases are loaded for an extract)."""
    if case.closed_at is None:
        raise InvalidInput(_not_closed(case.number))
    return case.closed_at


def arkivstruktur_xml(cases: list[Case], docs: dict[int, list[_Doc]], title: str) -> bytes:
    county = cases[0].school.county.name
    first = min(c.created_at for c in cases)
    last = max(_closed_at(c) for c in cases)
    root = etree.Element(f"{{{NS}}}arkiv", nsmap={None: NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} arkivstruktur.xsd")
    _el(root, "systemID", system_id("arkiv", county))
    _el(root, "tittel", f"{county} – {title}")
    _el(root, "arkivstatus", "Avsluttet")
    _el(root, "dokumentmedium", "Elektronisk arkiv")
    _el(root, "opprettetDato", _dt(first))
    _el(root, "opprettetAv", CREATED_BY)
    _el(root, "avsluttetDato", _dt(last))
    _el(root, "avsluttetAv", CREATED_BY)
    skaper = _el(root, "arkivskaper")
    _el(skaper, "arkivskaperID", system_id("arkivskaper", county))
    _el(skaper, "arkivskaperNavn", county)
    del_ = _el(root, "arkivdel")
    _el(del_, "systemID", system_id("arkivdel", county, "kap12"))
    _el(del_, "tittel", title)
    _el(del_, "arkivdelstatus", "Avsluttet periode")
    _el(del_, "dokumentmedium", "Elektronisk arkiv")
    _el(del_, "opprettetDato", _dt(first))
    _el(del_, "opprettetAv", CREATED_BY)
    _el(del_, "avsluttetDato", _dt(last))
    _el(del_, "avsluttetAv", CREATED_BY)
    _el(del_, "arkivperiodeStartDato", _d(first))
    _el(del_, "arkivperiodeSluttDato", _d(last))
    _skjerming(del_)
    system = _el(del_, "klassifikasjonssystem")
    _el(system, "systemID", system_id("klassifikasjonssystem", "kap12"))
    _el(system, "klassifikasjonstype", "Funksjonsbasert, hierarkisk")
    _el(system, "tittel", "Opplæringslova kapittel 12 – prosedyrer")
    _el(system, "opprettetDato", _dt(first))
    _el(system, "opprettetAv", CREATED_BY)
    for procedure in sorted({c.procedure for c in cases}):
        in_class = [c for c in cases if c.procedure == procedure]
        klasse = _el(system, "klasse")
        _el(klasse, "systemID", system_id("klasse", "kap12", procedure))
        _el(klasse, "klasseID", f"kap12-{procedure}")
        _el(klasse, "tittel", CLASS_TITLES.get(procedure, PROCEDURE_LABELS.get(procedure, procedure)))
        _el(klasse, "opprettetDato", _dt(min(c.created_at for c in in_class)))
        _el(klasse, "opprettetAv", CREATED_BY)
        for case in in_class:
            _saksmappe(klasse, case, docs[case.id])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _saksmappe(parent: etree._Element, case: Case, docs: list[_Doc]) -> None:
    year, seq = _case_year_seq(case)
    mappe = _el(parent, "mappe", **{f"{{{XSI}}}type": "saksmappe"})
    _el(mappe, "systemID", system_id("saksmappe", case.number))
    _el(mappe, "mappeID", f"{year}/{seq}")
    _el(mappe, "tittel", f"Elevsak om skolemiljø – sak {case.number}")
    _el(mappe, "offentligTittel", "Elevsak om skolemiljø")
    _el(mappe, "beskrivelse", PROCEDURE_LABELS.get(case.procedure, case.procedure))
    _el(mappe, "dokumentmedium", "Elektronisk arkiv")
    _el(mappe, "opprettetDato", _dt(case.created_at))
    _el(mappe, "opprettetAv", CREATED_BY)
    _el(mappe, "avsluttetDato", _dt(_closed_at(case)))
    _el(mappe, "avsluttetAv", CREATED_BY)
    _skjerming(mappe)
    for doc in docs:
        _journalpost(mappe, case, doc)
    _el(mappe, "saksaar", year)
    _el(mappe, "sakssekvensnummer", seq)
    _el(mappe, "saksdato", _d(case.created_at))
    _el(mappe, "administrativEnhet", case.school.name)
    _el(mappe, "saksansvarlig", f"Rektor, {case.school.name}" if case.procedure != "C" else
        f"Skoleeier, {case.school.county.name}")
    _el(mappe, "saksstatus", "Avsluttet")


def _case_year_seq(case: Case) -> tuple[int, int]:
    year, _, seq = case.number.partition("-")
    try:
        return int(year), int(seq)
    except ValueError:
        return case.created_at.astimezone(OSLO).year, case.id


def _journalpost(parent: etree._Element, case: Case, doc: _Doc) -> None:
    info = doc.info
    kind = KIND_BY_CODE.get(info.kind)
    post = _el(parent, "registrering", **{f"{{{XSI}}}type": "journalpost"})
    _el(post, "systemID", system_id("journalpost", info.system_id))
    _el(post, "opprettetDato", _dt(info.created_at))
    _el(post, "opprettetAv", CREATED_BY)
    _el(post, "arkivertDato", _dt(info.created_at))
    _el(post, "arkivertAv", CREATED_BY)
    _skjerming(post)
    desc = _el(post, "dokumentbeskrivelse")
    _el(desc, "systemID", info.system_id)
    letter = kind is not None and kind.letter
    _el(desc, "dokumenttype", "Brev" if letter else "Notat")
    _el(desc, "dokumentstatus", "Dokumentet er ferdigstilt")
    _el(desc, "tittel", info.title)
    _el(desc, "opprettetDato", _dt(info.created_at))
    _el(desc, "opprettetAv", CREATED_BY)
    _el(desc, "tilknyttetRegistreringSom", "Hoveddokument")
    _el(desc, "dokumentnummer", 1)
    _el(desc, "tilknyttetDato", _dt(info.created_at))
    _el(desc, "tilknyttetAv", CREATED_BY)
    _skjerming(desc)
    obj = _el(desc, "dokumentobjekt")
    _el(obj, "systemID", system_id("dokumentobjekt", info.system_id))
    _el(obj, "versjonsnummer", info.version)
    _el(obj, "variantformat", "Arkivformat")
    _el(obj, "format", PDF_FORMAT)
    _el(obj, "formatDetaljer", PDF_FORMAT_DETAILS)
    _el(obj, "opprettetDato", _dt(info.created_at))
    _el(obj, "opprettetAv", CREATED_BY)
    _el(obj, "referanseDokumentfil", doc.path)
    _el(obj, "sjekksum", info.sha256)
    _el(obj, "sjekksumAlgoritme", "SHA256")
    _el(obj, "filstoerrelse", info.size)
    year, _ = _case_year_seq(case)
    _el(post, "registreringsID", f"{case.number}-{doc.journal_no}")
    _el(post, "tittel", (kind.title if kind else info.title) + (f" (versjon {info.version})" if info.version > 1 else ""))
    if letter:
        part = _el(post, "korrespondansepart")
        _el(part, "korrespondanseparttype", "Mottaker")
        _el(part, "korrespondansepartNavn", "Eleven og foresatte")
    _el(post, "journalaar", info.created_at.astimezone(OSLO).year)
    _el(post, "journalsekvensnummer", info.id)
    _el(post, "journalpostnummer", doc.journal_no)
    _el(post, "journalposttype", "Utgående dokument" if letter else
        JOURNALPOST_TYPE.get(info.kind, DEFAULT_JOURNALPOST_TYPE))
    _el(post, "journalstatus", "Arkivert")
    _el(post, "journaldato", _d(info.created_at))


# -- arkivuttrekk.xml (ADDML) -------------------------------------------------------------------
def _a(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{ADDML_NS}}}{tag}", **attrs)


def _prop(parent: etree._Element, name: str, value: object | None = None) -> etree._Element:
    p = _a(parent, "property", name=name)
    if value is not None:
        _a(p, "value").text = str(value)
    return p


def _props(parent: etree._Element) -> etree._Element:
    return _a(parent, "properties")


def arkivuttrekk_xml(cases: list[Case], docs: dict[int, list[_Doc]], struktur: bytes, title: str) -> bytes:
    county = cases[0].school.county.name
    first = min(c.created_at for c in cases)
    last = max(_closed_at(c) for c in cases)
    n_docs = sum(len(v) for v in docs.values())
    root = etree.Element(f"{{{ADDML_NS}}}addml", nsmap={None: ADDML_NS, "xsi": XSI}, name=title)
    root.set(f"{{{XSI}}}schemaLocation", f"{ADDML_NS} addml.xsd")
    dataset = _a(root, "dataset", name="Noark 5 arkivuttrekk")
    _a(dataset, "description").text = (f"Uttrekk fra kap12 av {len(cases)} avsluttede saker etter opplæringslova "
                                       "kapittel 12. Innholdet er taushetsbelagt (offl. § 13, jf. fvl. § 13).")
    reference = _a(dataset, "reference")
    context = _a(reference, "context")
    elements = _a(context, "additionalElements")
    creators = _a(elements, "additionalElement", name="recordCreators")
    creator_list = _a(creators, "additionalElements")
    creator = _a(creator_list, "additionalElement", name="recordCreator")
    _prop(_props(creator), "name", county)
    system = _a(elements, "additionalElement", name="systemType")
    _a(system, "value").text = "Noark 5"
    name = _a(elements, "additionalElement", name="systemName")
    _a(name, "value").text = "kap12"
    content = _a(reference, "content")
    content_elements = _a(content, "additionalElements")
    period = _a(content_elements, "additionalElement", name="archivalPeriod")
    period_props = _props(period)
    _prop(period_props, "startDate", _d(first))
    _prop(period_props, "endDate", _d(last))
    objects = _a(dataset, "dataObjects")
    package = _a(objects, "dataObject", name="Noark 5 arkivuttrekk")
    package_props = _props(package)
    info = _prop(package_props, "info")
    info_props = _props(info)
    _prop(info_props, "type", "Noark 5")
    _prop(info_props, "version", "5.0")
    _prop(info_props, "additionalInfo", "Dokumenter i PDF/A-2b; skjermet etter offl. § 13, jf. fvl. § 13")
    files = _a(package, "dataObjects")
    struct = _a(files, "dataObject", name="arkivstruktur")
    struct_props = _props(struct)
    file_prop = _prop(struct_props, "file")
    file_props = _props(file_prop)
    _prop(file_props, "name", "arkivstruktur.xml")
    _prop(file_props, "schema", "arkivstruktur.xsd")
    checksum = _prop(file_props, "checksum")
    cs = _props(checksum)
    _prop(cs, "algorithm", "SHA256")
    _prop(cs, "value", hashlib.sha256(struktur).hexdigest())
    counts = _prop(struct_props, "numberOfOccurrences")
    count_props = _props(counts)
    _prop(count_props, "mappe", len(cases))
    _prop(count_props, "registrering", n_docs)
    _prop(count_props, "dokumentobjekt", n_docs)
    documents = _a(files, "dataObject", name="dokumenter")
    doc_props = _props(documents)
    _prop(doc_props, "numberOfFiles", n_docs)
    _prop(doc_props, "folder", "dokumenter")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- checking an extract ------------------------------------------------------------------------
def validate_extract(package: bytes, schema_dir: Path | str) -> list[str]:
    """Validate arkivstruktur.xml and arkivuttrekk.xml in a package against the Noark 5 schemas
    (needs the ``xmlschema`` package) and check every document's checksum. Returns problems."""
    import xmlschema  # noqa: PLC0415 - heavy, only for checking an extract against the XSDs

    schema_dir = Path(schema_dir)
    problems: list[str] = []
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        names = set(zf.namelist())
        struktur = zf.read("arkivstruktur.xml")
        uttrekk = zf.read("arkivuttrekk.xml")
        for label, xsd, data in [("arkivstruktur.xml", "arkivstruktur.xsd", struktur),
                                 ("arkivuttrekk.xml", "addml.xsd", uttrekk)]:
            schema = xmlschema.XMLSchema(str(schema_dir / xsd))
            problems += [f"{label}: {e.reason} ({e.path})" for e in schema.iter_errors(data.decode("utf-8"))]
        tree = safe_parse(struktur)  # the package is read back as it would arrive: untrusted
        for obj in tree.iter(f"{{{NS}}}dokumentobjekt"):
            ref = obj.findtext(f"{{{NS}}}referanseDokumentfil")
            if ref not in names:
                problems.append(f"{ref}: mangler i pakken")
                continue
            if hashlib.sha256(zf.read(ref)).hexdigest() != obj.findtext(f"{{{NS}}}sjekksum"):
                problems.append(f"{ref}: sjekksummen stemmer ikke")
    return problems
