"""Letters to the pupil and parents in the family's language form (målform): the family's choice
in the report, else the school's; the letter is tagged with that language. Documents for the
school itself stay in bokmål."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from engine.errors import InvalidInput
from engine.outputs import documents
from engine.store import directory
from engine.store.models import School

NYNORSK = "Planen vår for at du skal ha det trygt og godt på skulen"
BOKMAL = "Planen vår for at du skal ha det trygt og godt på skolen"


def letters(flow, **report_data):
    kap12 = flow.kap12
    case = flow.report(**report_data)
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="nei")
    flow.do("avdelingsleder", case.id, problem="Emma holdes utenfor.", evalueringsdato=flow.plan_date(),
       tiltak=[{"hva": "Voksen i friminuttene", "nar": "Fra i morgen", "ansvarlig": "Kontaktlærer"}])
    made = {d.kind: d for d in documents.ensure_documents(kap12, case.id)}
    return {kind: PdfReader(io.BytesIO(documents.stored_content(kap12, made[kind].id)))
            for kind in ("tiltaksplan_brev", "tiltaksplan")}


def text(reader) -> str:
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def set_school_form(kap12, demo, form: str) -> None:
    with kap12.db.writing() as session:
        directory.set_language_form(session, session.get(School, demo.schools["Nordli videregående skole"]), form)


def test_the_familys_nynorsk(flow, kap12, demo):
    pdfs = letters(flow, familiens_malform="nn")
    assert NYNORSK in text(pdfs["tiltaksplan_brev"]) and "føresette" in text(pdfs["tiltaksplan_brev"])
    assert pdfs["tiltaksplan_brev"].trailer["/Root"]["/Lang"] == "nn"
    assert pdfs["tiltaksplan"].trailer["/Root"]["/Lang"] == "nb"  # the plan itself is the school's


def test_the_schools_choice_is_the_default_and_the_family_decides(flow, kap12, demo):
    set_school_form(kap12, demo, "nn")
    assert NYNORSK in text(letters(flow, familiens_malform=None)["tiltaksplan_brev"])
    bokmal = letters(flow, familiens_malform="nb")["tiltaksplan_brev"]
    assert BOKMAL in text(bokmal) and bokmal.trailer["/Root"]["/Lang"] == "nb"


def test_only_bokmal_or_nynorsk(flow, kap12, demo):
    with pytest.raises(InvalidInput):
        set_school_form(kap12, demo, "en")
    with pytest.raises(InvalidInput):
        flow.report(familiens_malform="sv")
