"""Notes in a case: what happens between the steps, and corrections of an earlier step as new
records. Whoever reads the case in full and may change it can write one; the reporter, an
auditor, the accused and another school's leaders cannot, and nothing is stored when refused.
A note is on the case's chain and replay passes over it."""
from __future__ import annotations

import pytest

from engine.audit.replay import verify_case
from engine.errors import Denied, InvalidInput, NotFound
from engine.outputs import documents, noark
from engine.read import queries
from tests.engine.outputs.test_family_letters import made


def _notes(kap12, case_id):
    return [e for e in kap12.case_history(case_id) if e.kind == "case_note"]


def test_a_note_and_a_correction_are_new_records_on_the_chain(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id)
    kap12.add_note(demo.users["avdelingsleder"], case.id, "Mor ringte.\nEmma har vært borte to dager.")
    report = next(e for e in kap12.case_history(case.id) if e.kind == "reported")
    kap12.add_note(demo.users["rektor"], case.id, "Det var Vg2, ikke Vg1.", corrects=report.seq)
    first, fix = _notes(kap12, case.id)
    assert first.actor == "Anne Avdelingsleder" and first.data["text"] == "Mor ringte.\nEmma har vært borte to dager."
    assert first.data["corrects"] is None
    assert fix.actor == "Rune Rektor" and fix.data["corrects"] == report.seq
    assert fix.data["corrects_title"] == "Melding"
    # What the report said is still there, unchanged: the correction stands beside it.
    assert next(e for e in kap12.case_history(case.id) if e.kind == "reported").data == report.data
    # The list to choose from: the steps that recorded something, newest first.
    titles = [title for _, title, _ in queries.note_targets(kap12.case_history(case.id))]
    assert titles == ["Notat", "Notat", "Motta og registrere melding", "Melding"]
    assert verify_case(kap12, case.id).verified


def test_who_cannot_write_in_a_case_and_nothing_is_stored(flow, kap12, demo):
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    before = len(kap12.case_history(case.id))
    for who, error in (("revisor", Denied), ("ansatt", NotFound), ("ansatt2", NotFound), ("rektor2", NotFound),
                       ("avdelingsleder", NotFound)):  # B: the reporter, the accused, another school, no grant
        with pytest.raises(error):
            kap12.add_note(demo.users[who], case.id, "Forsøk")
    with pytest.raises(InvalidInput):
        kap12.add_note(demo.users["rektor"], case.id, "   ")
    with pytest.raises(InvalidInput):
        kap12.add_note(demo.users["rektor"], case.id, "x" * 4001)
    other = flow.report()
    foreign = next(e for e in kap12.case_history(other.id) if e.kind == "reported")
    with pytest.raises(InvalidInput) as err:  # a step of another case is not this case's to correct
        kap12.add_note(demo.users["rektor"], case.id, "Retting", corrects=foreign.seq + 1000)
    assert "retter" in err.value.errors
    assert len(kap12.case_history(case.id)) == before
    kap12.add_note(demo.users["skoleeier"], case.id, "Skoleeier har snakket med rektor.")  # B: the owner may
    assert len(_notes(kap12, case.id)) == 1


def test_a_closed_case_takes_a_note_from_those_who_lead_it_and_the_archive_is_told(flow, kap12, demo):
    """After closing, a correction is still a new record (a date found wrong, what
    Statsforvaltaren asked): those who lead the case write it; its document is one the archive
    has not had, so a new extract is needed (the case page says so)."""
    case = flow.report()
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", case.id, "Avslutte og dokumentere saken")
    noark.ZipExtract(kap12, demo.users["rektor"]).export([case.id])  # delivered to the archive
    before = len(kap12.case_history(case.id))
    for who, error in (("revisor", Denied), ("ansatt", NotFound), ("rektor2", NotFound)):
        with pytest.raises(error):
            kap12.add_note(demo.users[who], case.id, "For sent")
    assert len(kap12.case_history(case.id)) == before
    closing = next(e for e in kap12.case_history(case.id)
                   if e.kind == "task_completed" and e.data.get("title") == "Avslutte og dokumentere saken")
    kap12.add_note(demo.users["rektor"], case.id, "Samtalen med eleven var 27.11., ikke 28.11.", corrects=closing.seq)
    [note] = _notes(kap12, case.id)
    assert note.data["after_closing"] is True and note.data["corrects"] == closing.seq
    waiting = [d.title for d in documents.documents_for(kap12, demo.users["rektor"], case.id) if d.exported_at is None]
    assert waiting == ["Notat i saken nr. 1"]
    assert verify_case(kap12, case.id).verified


def test_each_note_is_filed_as_a_document_of_the_case(flow, kap12, demo):
    case = flow.report()
    flow.do("avdelingsleder", case.id)
    report = next(e for e in kap12.case_history(case.id) if e.kind == "reported")
    kap12.add_note(demo.users["avdelingsleder"], case.id, "Samtale med far 30.11.")
    kap12.add_note(demo.users["rektor"], case.id, "Klassen er 2STA.", corrects=report.seq)
    docs = made(kap12, case.id)
    text, _ = docs["notat"]  # the newest of the kind
    assert "Notat i saken nr. 2" in text and "Klassen er 2STA." in text and "Rune Rektor" in text
    assert "Notatet retter «Melding» fra 30.11.2026" in text and "står fortsatt i saken" in text
    titles = [d.title for d in documents.ensure_documents(kap12, case.id) if d.kind == "notat"]
    assert titles == ["Notat i saken nr. 1", "Notat i saken nr. 2"]
