"""Noark 5 archive extract: valid against Arkivverket's schemas for an A, a B and a C case,
skjermet, with stable systemIDs so that exporting again gives the same package."""
from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from engine.errors import InvalidInput, NotFound
from engine.outputs import noark
from engine.store.models import CaseDocument
from engine.versions.example_data import example_data
from processes import forms

SCHEMAS = Path("/work/shared/reference/noark5")
pytestmark = pytest.mark.skipif(not (SCHEMAS / "arkivstruktur.xsd").exists(), reason="Noark 5 schemas not present")
N = {"n": noark.NS}
HANDLERS = ("rektor", "avdelingsleder", "skoleeier")
ANSWERS = {"undersokelse": {"trygt_skolemiljo": "nei"}, "evaluering": {"evaluering_resultat": "trygt"}}


def close(flow, clock, case_id) -> None:
    """Work the case to its end as the people responsible would, firing timers on the way."""
    kap12, demo = flow.kap12, flow.demo
    for _ in range(40):
        if flow.status(case_id).status == "closed":
            return
        tasks = kap12.case_tasks(case_id)
        if not tasks:
            timers = kap12.case_timers(case_id)
            assert timers, "the case waits for nothing"
            clock.set(max(clock.now(), min(t.due_at for t in timers)) + timedelta(minutes=1))
            kap12.sweep_timers()
            continue
        for user in HANDLERS:
            mine = [t for t in kap12.tasks_for(demo.users[user]) if t.case_id == case_id]
            if mine:
                task = mine[0]
                data = example_data(forms.get_form(task.form_key), clock.now().date(),
                                          **ANSWERS.get(task.form_key, {}))
                if task.form_key == "tiltaksplan":
                    data["evalueringsdato"] = (clock.now() + timedelta(days=7)).date().isoformat()
                kap12.complete(demo.users[user], task.id, data)
                break
        else:
            raise AssertionError(f"nobody can do {[t.title for t in tasks]}")
    raise AssertionError("the case did not close")


@pytest.fixture
def closed_abc(flow, kap12, demo, clock):
    a = flow.report()
    b = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    c = flow.report(krenker_type="ledelse", krenker_navn="Rune Rektor", anklaget_bruker="rektor")
    # A note in B, so the extract files a note beside the forms' documents.
    kap12.add_note(demo.users["rektor"], b.id, "Samtale med tillitsvalgt.")
    for case in (a, b, c):
        close(flow, clock, case.id)
    return a, b, c


def _struktur(package: bytes):
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        return etree.fromstring(zf.read("arkivstruktur.xml")), zf.namelist()


def test_a_b_and_c_cases_validate_against_the_noark5_schemas(kap12, demo, closed_abc):
    a, b, c = closed_abc
    for case, who in ((a, "rektor"), (b, "rektor"), (c, "skoleeier")):
        result = noark.ZipExtract(kap12, demo.users[who]).export([case.id])
        assert noark.validate_extract(result.content, SCHEMAS) == [], case.procedure
        root, names = _struktur(result.content)
        mappe = root.find(".//n:mappe", N)
        assert mappe.findtext("n:mappeID", namespaces=N) == f"{case.number[:4]}/{int(case.number[5:])}"
        assert mappe.findtext("n:saksstatus", namespaces=N) == "Avsluttet"
        klasse = root.find(".//n:klasse", N)
        assert klasse.findtext("n:klasseID", namespaces=N) == f"kap12-{case.procedure}"
        # Confidential everywhere, and no pupil's name in the metadata.
        for node in [mappe] + root.findall(".//n:registrering", N) + root.findall(".//n:dokumentbeskrivelse", N):
            s = node.find("n:skjerming", N)
            assert s.findtext("n:tilgangsrestriksjon", namespaces=N) == "13"
            assert s.findtext("n:skjermingshjemmel", namespaces=N) == "Offl. § 13, jf. fvl. § 13"
        assert b"Emma" not in zipfile.ZipFile(io.BytesIO(result.content)).read("arkivstruktur.xml")
        with kap12.db.reading() as session:
            docs = list(session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)))
        objects = root.findall(".//n:dokumentobjekt", N)
        assert len(objects) == len(docs) == result.documents >= 5
        assert {o.findtext("n:sjekksum", namespaces=N) for o in objects} == {d.sha256 for d in docs}
        assert {d.findtext("n:systemID", namespaces=N) for d in root.findall(".//n:dokumentbeskrivelse", N)} == \
            {d.system_id for d in docs}
        assert all(d.exported_at is not None for d in docs)
        assert sum(n.startswith("dokumenter/") for n in names) == len(docs)
        assert any("-notat-" in n for n in names) == (case.procedure == "B")  # the note is filed


def test_re_export_is_idempotent_and_a_batch_by_period(kap12, demo, closed_abc, clock):
    a, b, c = closed_abc
    first = noark.ZipExtract(kap12, demo.users["rektor"]).export([a.id, b.id])
    with kap12.db.reading() as session:
        exported = {d.id: d.exported_at for d in session.scalars(select(CaseDocument).where(
            CaseDocument.case_id.in_([a.id, b.id])))}
    clock.set(clock.now() + timedelta(days=30))
    again = noark.ZipExtract(kap12, demo.users["rektor"]).export([a.id, b.id])
    assert again.content == first.content and again.sha256 == first.sha256
    assert again.system_ids == first.system_ids
    with kap12.db.reading() as session:
        assert {d.id: d.exported_at for d in session.scalars(select(CaseDocument).where(
            CaseDocument.case_id.in_([a.id, b.id])))} == exported  # the first export stands
    assert noark.validate_extract(first.content, SCHEMAS) == []
    # By period: rektor's own closed cases (C bypasses the school's leadership).
    today = clock.now().date()
    ids = noark.closed_in_period(kap12, demo.users["rektor"], date(2026, 8, 1), today)
    assert set(ids) == {a.id, b.id}
    owner = noark.closed_in_period(kap12, demo.users["skoleeier"], date(2026, 8, 1), today)
    assert c.id in owner and a.id not in owner


def test_only_closed_cases_and_only_those_who_may(flow, kap12, demo, closed_abc):
    a, b, c = closed_abc
    open_case = flow.report()
    with pytest.raises(InvalidInput):
        noark.ZipExtract(kap12, demo.users["rektor"]).export([open_case.id])
    with pytest.raises(NotFound):  # the accused employee
        noark.ZipExtract(kap12, demo.users["ansatt2"]).export([b.id])
    with pytest.raises(NotFound):  # the accused leader, bypassed in C
        noark.ZipExtract(kap12, demo.users["rektor"]).export([c.id])
    assert isinstance(noark.ZipExtract(kap12, demo.users["rektor"]), noark.ArchiveTarget)


def test_the_package_written_to_a_file_is_the_one_made_in_memory(kap12, demo, closed_abc, tmp_path):
    """``kap12 arkiv`` writes the package to its file as each document is read (a county's year
    of PDFs is never in memory at once): the same bytes as the page's download, each document's
    size in the metadata the size of its file in the package."""
    a, b, _c = closed_abc
    in_memory = noark.ZipExtract(kap12, demo.users["rektor"]).export([a.id, b.id])
    package = tmp_path / "uttrekk.zip"
    with package.open("wb") as out:
        written = noark.ZipExtract(kap12, demo.users["rektor"]).write([a.id, b.id], out)
    assert package.read_bytes() == in_memory.content and written.content is None
    assert (written.case_numbers, written.documents, written.reference) == (
        in_memory.case_numbers, in_memory.documents, in_memory.reference)
    root, _names = _struktur(in_memory.content)
    with zipfile.ZipFile(package) as zf:
        sizes = {o.findtext("n:referanseDokumentfil", namespaces=N): int(o.findtext("n:filstoerrelse", namespaces=N))
                 for o in root.findall(".//n:dokumentobjekt", N)}
        assert sizes == {name: zf.getinfo(name).file_size for name in sizes} and len(sizes) == in_memory.documents
