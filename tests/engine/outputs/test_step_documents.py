"""A document for every step the law asks to document: the receipt, the notice to the school
owner and its acknowledgement, the accused's hearing (kontradiksjon) and carrying out the
measures — made once as PDF/A from the recorded step, like the other case documents."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from engine.outputs import documents
from engine.write.demo import ensure_directory


@pytest.fixture(scope="module")
def world(new_kap12, tmp_path_factory):
    folder = tmp_path_factory.mktemp("steps")
    engine = new_kap12(f"sqlite:///{folder}/kap12.sqlite3", folder)
    yield engine, ensure_directory(engine)
    engine.close()


def texts(kap12, case_id) -> dict[str, str]:
    out = {}
    for doc in documents.ensure_documents(kap12, case_id):
        reader = PdfReader(io.BytesIO(documents.stored_content(kap12, doc.id)))
        assert b'pdfaid:part="2"' in reader.trailer["/Root"]["/Metadata"].get_data()
        out[f"{doc.kind}-{doc.version}"] = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    return out


def test_receipt_notice_acknowledgement_hearing_and_carrying_out_in_b(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.do("rektor", case.id, "Motta melding", mottatt_vurdering="Alvorlig; eleven er redd for læreren.")
    flow.do("rektor", case.id, "Varsle skoleeier straks", varslet_hvem="Sigrid Skoleeier")
    flow.do("skoleeier", case.id, "Bekrefte mottatt varsel", skoleeiers_vurdering="Følges tett.")
    flow.do("rektor", case.id, "Informere den anklagede og innhente tilsvar (kontradiksjon)",
       tilsvar="Jeg kjenner meg ikke igjen i dette.")
    flow.do("rektor", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    flow.do("rektor", case.id, "Utarbeide tiltaksplan", evalueringsdato=flow.plan_date())
    flow.do("rektor", case.id, "Gjennomføre tiltak", gjennomfort="Ny lærer i faget fra mandag.")
    made = texts(kap12, case.id)
    assert {"mottak-1", "varsel_skoleeier-1", "bekreftet_varsel-1", "kontradiksjon-1", "gjennomforing-1"} <= set(made)
    assert "Kvittering for mottatt melding" in made["mottak-1"] and "Alvorlig; eleven er redd" in made["mottak-1"]
    assert "Mottatt av Rune Rektor" in made["mottak-1"] and case.number in made["mottak-1"]
    assert "Varsel til skoleeier" in made["varsel_skoleeier-1"] and "Sigrid Skoleeier" in made["varsel_skoleeier-1"]
    assert "Følges tett." in made["bekreftet_varsel-1"]
    hearing = made["kontradiksjon-1"]
    assert "Den anklagedes tilsvar" in hearing and "Jeg kjenner meg ikke igjen" in hearing and "offl. § 13" in hearing
    assert "Ny lærer i faget fra mandag." in made["gjennomforing-1"]
    # made once: asking again changes nothing
    again = documents.ensure_documents(kap12, case.id)
    assert len(again) == len(made)
