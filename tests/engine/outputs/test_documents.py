"""Case documents: made once from the recorded steps, stored immutably, versioned per plan, and
readable as PDF/A with the five parts of a tiltaksplan and the pupil's own voice."""
from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.errors import NotFound
from engine.outputs import documents
from engine.store.models import CaseDocument


def text_of(pdf: bytes) -> str:
    # Lines wrap in table cells: compare with whitespace collapsed.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def content(kap12, doc) -> bytes:
    return documents.stored_content(kap12, doc.id)


def plan(flow, case_id, title=None, **data):
    measures = [{"hva": "Voksen til stede i friminuttene", "nar": "Hvert friminutt fra uke 49", "ansvarlig": "Kontaktlærer"},
                {"hva": "Samtale med klassen om nettvett", "nar": "Tirsdag uke 49", "ansvarlig": "Rådgiver"}]
    flow.do("avdelingsleder", case_id, title, problem="Emma holdes utenfor i friminuttene.", tiltak=measures,
       evalueringsdato=flow.plan_date(), elevens_stemme="Emma ønsker en voksen i nærheten.", **data)


@pytest.fixture
def case_with_revised_plan(flow, kap12, demo, clock):
    case = flow.report(berorte_elever="Emma Hansen, Vg1")
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, elevens_stemme="Jeg gruer meg til friminuttene.",
       trygt_skolemiljo="nei")
    plan(flow, case.id)
    flow.do("avdelingsleder", case.id)  # carried out
    clock.set(clock.now() + timedelta(days=14))
    kap12.sweep_timers()
    flow.do("avdelingsleder", case.id, elevens_stemme="Litt bedre, men chatten fortsetter.",
       evaluering_resultat="revidere")
    plan(flow, case.id, "Revidere tiltaksplan", foresatte_informert=True)
    flow.do("avdelingsleder", case.id)
    clock.set(clock.now() + timedelta(days=14))
    kap12.sweep_timers()
    flow.do("avdelingsleder", case.id, elevens_stemme="Nå er det bra.", evaluering_resultat="trygt")
    flow.do("avdelingsleder", case.id, oppsummering="Tiltakene virket.", elevens_stemme="Jeg har det bra nå.")
    return case


def test_every_document_the_law_asks_for_with_versions(kap12, case_with_revised_plan):
    docs = documents.ensure_documents(kap12, case_with_revised_plan.id)
    assert [(d.kind, d.version) for d in docs] == [
        ("meldingsskjema", 1), ("mottak", 1), ("undersokelse", 1), ("tiltaksplan", 1), ("tiltaksplan_brev", 1),
        ("gjennomforing", 1), ("evaluering", 1), ("tiltaksplan", 2), ("tiltaksplan_brev", 2), ("gjennomforing", 2),
        ("evaluering", 2), ("avslutning", 1), ("avslutning_brev", 1)]
    for d in docs:
        pdf = content(kap12, d)
        assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == d.sha256
        reader = PdfReader(io.BytesIO(pdf))
        xmp = reader.trailer["/Root"]["/Metadata"].get_data()
        assert b'pdfaid:part="2"' in xmp and b'pdfaid:conformance="B"' in xmp  # PDF/A-2b
        fonts = {str(f.get_object()["/BaseFont"]) for page in reader.pages
                 for f in page["/Resources"]["/Font"].values()}
        assert fonts and all("Kap12-Sans" in f for f in fonts)  # the embedded DejaVu, nothing else
        for f in (f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()):
            descriptor = f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor


def test_document_contents(kap12, case_with_revised_plan):
    by = {(d.kind, d.version): text_of(content(kap12, d)) for d in documents.ensure_documents(kap12, case_with_revised_plan.id)}
    number = case_with_revised_plan.number
    melding = by[("meldingsskjema", 1)]
    assert "Meldingsskjema" in melding and number in melding and "Emma Hansen, Vg1" in melding
    assert "Nordli videregående skole" in melding and "Kari Lærer" in melding and "offl. § 13" in melding
    assert "Jeg gruer meg til friminuttene." in by[("undersokelse", 1)]
    assert "Nei – skolen lager en tiltaksplan" in by[("undersokelse", 1)]
    plan1 = by[("tiltaksplan", 1)]
    for part in ("Problemet tiltakene skal løse", "Emma holdes utenfor i friminuttene.", "Voksen til stede i friminuttene",
                 "Hvert friminutt fra uke 49", "Kontaktlærer", "Når tiltakene skal evalueres", "14.12.2026",
                 "Emma ønsker en voksen i nærheten.", "Anne Avdelingsleder"):
        assert part in plan1, part
    assert "versjon 2" in by[("tiltaksplan", 2)] and "28.12.2026" in by[("tiltaksplan", 2)]
    letter = by[("tiltaksplan_brev", 1)]
    assert "Til Emma Hansen, Vg1 og foresatte" in letter and "Statsforvalteren" in letter
    assert "Samtale med klassen om nettvett" in letter
    assert "Revidere tiltaksplanen" in by[("evaluering", 1)] and "Litt bedre" in by[("evaluering", 1)]
    assert "Jeg har det bra nå." in by[("avslutning", 1)] and "Tiltakene virket." in by[("avslutning", 1)]
    closing = by[("avslutning_brev", 1)]
    assert "Saken om skolemiljøet ditt er avsluttet" in closing and "Statsforvalteren" in closing
    assert "Jeg har det bra nå." not in closing  # the pupil's own words stay in the case, not in the letter


def test_documents_are_made_once_and_never_change(flow, kap12, demo, clock):
    case = flow.report()
    first = documents.ensure_documents(kap12, case.id)
    assert [d.kind for d in first] == ["meldingsskjema"]
    stored = content(kap12, first[0])
    clock.set(clock.now() + timedelta(hours=3))
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="nei")
    again = documents.ensure_documents(kap12, case.id)
    assert again[0] == first[0] and content(kap12, again[0]) == stored
    assert [d.kind for d in again] == ["meldingsskjema", "mottak", "undersokelse"]
    assert documents.ensure_documents(kap12, case.id) == again
    with kap12.db.reading() as session:
        rows = list(session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)))
    assert len(rows) == 3 and len({r.system_id for r in rows}) == 3


def test_reading_documents_is_access_checked_and_recorded(flow, kap12, demo):
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    docs = documents.documents_for(kap12, demo.users["rektor"], case.id)
    info, pdf = documents.document_content(kap12, demo.users["rektor"], case.id, docs[0].id)
    assert info.sha256 == hashlib.sha256(pdf).hexdigest()
    assert [e.data for e in kap12.case_history(case.id) if e.kind == "case_read"][-1] == {"view": "document"}
    for who in ("ansatt2", "rektor2", "ansatt"):  # the accused, another school, the reporter (status only)
        with pytest.raises(NotFound):
            documents.documents_for(kap12, demo.users[who], case.id)
        with pytest.raises(NotFound):
            documents.document_content(kap12, demo.users[who], case.id, docs[0].id)


def test_documents_are_tagged_with_language_and_structure(flow, kap12, demo):
    """Universal design: a tagged PDF (structure tree, marked content) in Norwegian, headings
    and paragraphs in reading order."""
    case = flow.report()
    doc = documents.ensure_documents(kap12, case.id)[0]
    reader = PdfReader(io.BytesIO(content(kap12, doc)))
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "nb"
    assert bool(catalog["/MarkInfo"]["/Marked"])
    tree = catalog["/StructTreeRoot"].get_object()
    kinds = []

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, dict):
            if "/S" in node:
                kinds.append(str(node["/S"]))
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, list) else [kids] if kids is not None else []):
                if depth < 40:
                    walk(kid, depth + 1)

    walk(tree)
    assert "/H1" in kinds and "/P" in kinds
