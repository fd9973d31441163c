"""Other ways a case ends: the pupil left the school, the case was joined with another, the
report concerned something outside chapter 12 — who may, when, and where it shows (history,
replay, export, notices, the closing letter and the archive)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.audit.export import build_export
from engine.audit.replay import verify_case
from engine.errors import Conflict, Denied, InvalidInput, NotFound
from engine.outputs import documents, noark
from engine.write.demo import ensure_directory

SCHEMAS = Path("/work/shared/reference/noark5")
LEFT = {"grunn": "sluttet", "begrunnelse": "Familien har flyttet til Bergen.", "ny_skole": "Bergen katedralskole",
        "eleven_hort": "ja", "elevens_stemme": "Jeg gleder meg til ny skole."}


@pytest.fixture(scope="module")
def world(new_kap12, tmp_path_factory):
    """One engine for the tests that make their own cases (setting one up is the slow part)."""
    folder = tmp_path_factory.mktemp("endings")
    engine = new_kap12(f"sqlite:///{folder}/kap12.sqlite3", folder)
    yield engine, ensure_directory(engine)
    engine.close()


def b_case(flow):
    return flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")


def c_case(flow):
    return flow.report(krenker_type="ledelse", krenker_navn="Rune Rektor", anklaget_bruker="avdelingsleder")


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_rektor_ends_a_case_when_the_pupil_left_and_it_replays(flow, kap12, demo):
    case = flow.report()
    kap12.end_case(demo.users["rektor"], case.id, LEFT)
    row = flow.status(case.id)
    assert (row.status, row.stage) == ("closed", "Avsluttet") and row.closed_at is not None
    assert flow.kinds(case.id)[-3:] == ["case_ended", "task_cancelled", "case_closed"]
    ended = next(e for e in kap12.case_history(case.id) if e.kind == "case_ended")
    assert ended.actor_id == demo.users["rektor"].id and ended.data["data"]["grunn"] == "sluttet"
    assert ended.data["procedure"] == "A" and ended.data["form"] == "annen_avslutning"
    assert kap12.case_tasks(case.id) == [] and kap12.case_timers(case.id) == []
    report_ = verify_case(kap12, case.id)
    assert report_.verified, (report_.error, report_.divergences)


def test_who_may_end_a_case_otherwise(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    a = flow.report()
    with pytest.raises(Denied):  # a department head leads A, but closing without a plan is rektor's
        kap12.end_case(demo.users["avdelingsleder"], a.id, LEFT)
    for who in ("ansatt2", "revisor"):  # not in the case's circle / read only
        with pytest.raises(NotFound):
            kap12.end_case(demo.users[who], a.id, LEFT)
    c = c_case(flow)
    with pytest.raises(NotFound):  # the bypassed leadership does not even see a C case
        kap12.end_case(demo.users["rektor"], c.id, LEFT)
    with pytest.raises(NotFound):  # nor the accused
        kap12.end_case(demo.users["avdelingsleder"], c.id, LEFT)
    kap12.end_case(demo.users["skoleeier"], c.id, LEFT)
    assert flow.status(c.id).status == "closed"
    assert all(e.kind != "case_ended" for e in kap12.case_history(a.id))


def test_rektor_ends_a_b_case_and_the_school_owner_is_told(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    b = b_case(flow)
    # § 12-5: not before rektor has told the school owner, which ending it would have skipped.
    with pytest.raises(InvalidInput) as err:
        kap12.end_case(demo.users["rektor"], b.id, LEFT)
    assert "grunn" in err.value.errors and "Varsle skoleeier" in str(err.value)
    assert flow.status(b.id).status == "open" and flow.status(b.id).owner_notified_at is None
    flow.do("rektor", b.id, "Motta melding")
    flow.do("rektor", b.id, "Varsle skoleeier straks")
    kap12.end_case(demo.users["rektor"], b.id, LEFT)
    told = [n for n in kap12.notices_for(demo.users["skoleeier"]) if n.case_id == b.id and n.kind == "ended"]
    assert len(told) == 1 and "Bergen" not in told[0].body  # no pupil data in a notice
    assert not [n for n in kap12.notices_for(demo.users["ansatt2"]) if n.case_id == b.id]
    assert not [n for n in kap12.notices_for(demo.users["rektor"]) if n.kind == "ended"]  # not told of one's own act
    with pytest.raises(Conflict):
        kap12.end_case(demo.users["rektor"], b.id, LEFT)


@pytest.mark.parametrize("serious", ["at the receipt", "asked for later"])
def test_rektor_ends_a_serious_a_case_only_once_the_school_owner_is_told(flow_on, world, serious):
    """§ 12-4: in a serious case rektor tells the school owner. Ending the case cancelled
    rektor's «Varsle skoleeier», and the school owner was never told."""
    kap12, demo = world
    flow = flow_on(kap12, demo)
    a = flow.report()
    if serious == "at the receipt":
        flow.do("avdelingsleder", a.id, "Motta og registrere melding", alvorlig_sak=True)
    else:
        flow.do("avdelingsleder", a.id, "Motta og registrere melding", alvorlig_sak=False)
        kap12.ask_owner_notice(demo.users["avdelingsleder"], a.id, "Trusler om vold.")
    with pytest.raises(InvalidInput) as err:
        kap12.end_case(demo.users["rektor"], a.id, LEFT)
    assert "grunn" in err.value.errors and "Varsle skoleeier" in str(err.value) and "§ 12-4" in str(err.value)
    assert flow.status(a.id).status == "open" and flow.status(a.id).owner_notified_at is None
    assert "Varsle skoleeier" in [t.title for t in kap12.case_tasks(a.id)]
    flow.do("rektor", a.id, "Varsle skoleeier")
    kap12.end_case(demo.users["rektor"], a.id, LEFT)
    assert flow.status(a.id).status == "closed" and flow.status(a.id).owner_notified_at is not None


def test_an_a_case_nobody_found_serious_ends_without_the_school_owner(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    a = flow.report()
    flow.do("avdelingsleder", a.id, "Motta og registrere melding", alvorlig_sak=False)
    kap12.end_case(demo.users["rektor"], a.id, LEFT)
    assert flow.status(a.id).status == "closed" and flow.status(a.id).owner_notified_at is None


def test_the_form_asks_for_the_pupils_voice_or_why_not(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report()
    with pytest.raises(InvalidInput) as err:
        kap12.end_case(demo.users["rektor"], case.id, {"grunn": "sluttet", "begrunnelse": "Flyttet.",
                                                       "eleven_hort": "nei"})
    assert "hvorfor_ikke_hort" in err.value.errors
    with pytest.raises(InvalidInput) as err:
        kap12.end_case(demo.users["rektor"], case.id, {"grunn": "sluttet", "begrunnelse": "Flyttet.", "eleven_hort": "ja"})
    assert "elevens_stemme" in err.value.errors
    with pytest.raises(InvalidInput) as err:
        kap12.end_case(demo.users["rektor"], case.id, {"grunn": "sluttet", "eleven_hort": "nei", "hvorfor_ikke_hort": "Syk."})
    assert "begrunnelse" in err.value.errors
    assert flow.status(case.id).status == "open"
    kap12.end_case(demo.users["rektor"], case.id, {"grunn": "sluttet", "begrunnelse": "Flyttet.", "eleven_hort": "nei",
                                                   "hvorfor_ikke_hort": "Eleven hadde flyttet før vi fikk snakket med henne."})
    assert flow.status(case.id).status == "closed"


def test_joined_only_with_another_open_case_at_the_school_that_one_may_read(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    first, second = flow.report(), flow.report()
    c = c_case(flow)  # rektor may not read it: it must not be named as found
    joined = {"grunn": "sammenslatt", "begrunnelse": "Samme hendelse.", "eleven_hort": "ja",
              "elevens_stemme": "Det er det samme som jeg fortalte i forrige uke."}
    for number, field in ((None, "sammenslatt_med"), (second.number, "sammenslatt_med"),
                          (c.number, "sammenslatt_med"), ("2026-99999", "sammenslatt_med")):
        with pytest.raises(InvalidInput) as err:
            kap12.end_case(demo.users["rektor"], second.id, {**joined, "sammenslatt_med": number} if number else joined)
        assert field in err.value.errors
    kap12.end_case(demo.users["rektor"], second.id, {**joined, "sammenslatt_med": f" {first.number} "})
    ended = next(e for e in kap12.case_history(second.id) if e.kind == "case_ended")
    assert ended.data["data"]["sammenslatt_med"] == first.number and ended.data["merged_into_case_id"] == first.id
    with pytest.raises(InvalidInput):  # a closed case takes nothing in
        kap12.end_case(demo.users["rektor"], flow.report().id, {**joined, "sammenslatt_med": second.number})


def test_outside_chapter_12_is_refused_once_the_investigation_found_the_pupil_unsafe(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report()
    outside = {"grunn": "utenfor_kap12", "begrunnelse": "Gjelder en trafikkulykke på fritiden.", "eleven_hort": "ja",
               "elevens_stemme": "Det skjedde ikke på skolen."}
    flow.do("avdelingsleder", case.id)  # received
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="nei")
    with pytest.raises(InvalidInput) as err:
        kap12.end_case(demo.users["rektor"], case.id, outside)
    assert "grunn" in err.value.errors and flow.status(case.id).status == "open"
    other = flow.report()
    # Not unread: the report is received and assessed first.
    with pytest.raises(InvalidInput) as err:
        kap12.end_case(demo.users["rektor"], other.id, outside)
    assert "grunn" in err.value.errors and flow.status(other.id).status == "open"
    flow.do("avdelingsleder", other.id)  # received
    kap12.end_case(demo.users["rektor"], other.id, outside)
    assert flow.status(other.id).status == "closed"


def test_the_school_owner_may_end_a_b_case_before_rektor_has_told_them(flow_on, world):
    """The rule is that the school owner knows: ending it themselves, they do."""
    kap12, demo = world
    flow = flow_on(kap12, demo)
    b = b_case(flow)
    kap12.end_case(demo.users["skoleeier"], b.id, LEFT)
    assert flow.status(b.id).status == "closed"


def test_the_ending_is_in_the_export_the_documents_and_the_archive(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    c = c_case(flow)
    flow.do("skoleeier", c.id, tatt_opp_dato="2026-11-30")  # received, with when the family took it up
    kap12.end_case(demo.users["skoleeier"], c.id, LEFT)
    export = build_export(kap12, demo.users["revisor"], c.id)
    assert export["avsluttet_av_annen_grunn"]["data"]["grunn"] == "sluttet"
    assert any(v["tekst"] == LEFT["elevens_stemme"] for v in export["elevens_stemme"])
    docs = {d.kind: d for d in documents.ensure_documents(kap12, c.id)}
    assert {"annen_avslutning", "avslutning_brev"} <= set(docs)
    record = text_of(documents.stored_content(kap12, docs["annen_avslutning"].id))
    assert "Eleven har sluttet ved skolen" in record and LEFT["elevens_stemme"] in record
    letter = text_of(documents.stored_content(kap12, docs["avslutning_brev"].id))
    assert "Du har sluttet ved Nordli videregående skole" in letter
    assert "Statsforvalteren" in letter and "07.12.2026" in letter  # § 12-6: a week after they took it up
    assert kap12.settings.owner_contact in letter and "ledelsen" not in letter  # in C: the school owner
    assert "Innlandet" in letter.split("Med vennlig hilsen")[1]  # signed for the county
    if (SCHEMAS / "arkivstruktur.xsd").exists():
        result = noark.ZipExtract(kap12, demo.users["skoleeier"]).export([c.id])
        assert noark.validate_extract(result.content, SCHEMAS) == []
        struktur = zipfile.ZipFile(io.BytesIO(result.content)).read("arkivstruktur.xml").decode()
        assert "Saken er avsluttet – brev til eleven og foresatte" in struktur and "Utgående dokument" in struktur
