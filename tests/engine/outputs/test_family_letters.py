"""Letters to the pupil and parents when no plan is made (the investigation found the pupil
safe) and when the case closes: in the family's language form, with whom to contact in the
case's procedure and the right to go to Statsforvaltaren (§ 12-6) counted from when the family
took the case up with the school."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from engine.errors import InvalidInput
from engine.outputs import documents
from engine.write.demo import ensure_directory


@pytest.fixture(scope="module")
def world(new_kap12, tmp_path_factory):
    folder = tmp_path_factory.mktemp("letters")
    engine = new_kap12(f"sqlite:///{folder}/kap12.sqlite3", folder)
    yield engine, ensure_directory(engine)
    engine.close()


def made(kap12, case_id) -> dict[str, tuple[str, str]]:
    """kind -> (text, language) of each document of the case."""
    out = {}
    for doc in documents.ensure_documents(kap12, case_id):
        reader = PdfReader(io.BytesIO(documents.stored_content(kap12, doc.id)))
        out[doc.kind] = (" ".join(" ".join(p.extract_text() for p in reader.pages).split()),
                         str(reader.trailer["/Root"]["/Lang"]))
    return out


def test_no_plan_needed_and_closing_letters_in_the_familys_nynorsk(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report(familiens_malform="nn", berorte_elever="Emma Hansen")
    flow.do("avdelingsleder", case.id, tatt_opp_dato="2026-11-27")
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="ja")
    docs = made(kap12, case.id)
    assert "tiltaksplan_brev" not in docs
    letter, lang = docs["undersokelse_brev"]
    assert lang == "nn" and "Til Emma Hansen og føresette" in letter
    assert "det trengst ikkje ein tiltaksplan" in letter and "kontaktlæraren din" in letter
    assert "Statsforvaltaren" in letter and "27.11.2026" in letter and "04.12.2026" in letter
    assert "særlege grunnar" in letter
    flow.do("avdelingsleder", case.id, oppsummering="Undersøkt; eleven har det bra.")
    closing, lang = made(kap12, case.id)["avslutning_brev"]
    assert lang == "nn" and "Saka om skulemiljøet ditt er avslutta" in closing and "04.12.2026" in closing


def test_in_b_the_letter_points_to_rektor_and_the_week_applies_as_in_a(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2",
                  familiens_malform="nb")
    for title in ("Motta melding", "Varsle skoleeier straks"):
        flow.do("rektor", case.id, title)
    flow.do("rektor", case.id, "Undersøke saken", trygt_skolemiljo="ja")
    letter, lang = made(kap12, case.id)["undersokelse_brev"]
    assert lang == "nb" and "det trengs ikke en tiltaksplan" in letter
    assert "si fra til rektor" in letter and "kontaktlæreren" not in letter  # the accused may be the teacher
    # § 12-6 (DOMAIN.md): a week after rektor heard of it, in every procedure; earlier only when
    # Statsforvaltaren finds special reasons. The letter once told B and C families not to wait.
    assert "minst én uke" in letter and "særlige grunner" in letter and "ikke vente" not in letter
    assert "Per Faglærer" not in letter


def test_the_plan_letter_says_the_familys_right_as_the_other_letters_do(flow_on, world):
    """The plan letter carries the same paragraph on Statsforvaltaren as the other letters: in B
    as in A the week counts from when the family went to rektor, as the case page says."""
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2",
                       familiens_malform="nb")
    flow.do("rektor", case.id, "Motta melding", tatt_opp_dato="2026-11-27")
    flow.do("rektor", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    flow.do("rektor", case.id, "Utarbeide tiltaksplan", evalueringsdato=flow.plan_date())
    letter, lang = made(kap12, case.id)["tiltaksplan_brev"]
    assert lang == "nb" and "Statsforvalteren" in letter
    assert "ikke vente" not in letter and "særlige grunner" in letter
    assert "tok saken opp med rektor 27.11.2026" in letter and "04.12.2026" in letter


def test_a_pupil_who_said_nothing_clearly_is_not_told_they_said_they_are_safe(flow_on, world):
    """The investigation may find the pupil safe when the pupil could not be heard or said
    nothing clearly («uklart»): the letters then say so, and never "you told us you are safe"
    or "we talked with you" without a conversation recorded."""
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report(familiens_malform="nb")
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="ja", eleven_sier="uklart", samtale_elev_dato=None,
            elevens_stemme="Eleven ville ikke snakke med oss.")
    letter, _ = made(kap12, case.id)["undersokelse_brev"]
    assert "Du har ikke sagt klart til oss hvordan du har det" in letter
    assert "Etter det du selv har fortalt oss" not in letter and "Vi har snakket med deg" not in letter
    flow.do("avdelingsleder", case.id, oppsummering="Undersøkt.")
    closing, _ = made(kap12, case.id)["avslutning_brev"]
    assert "Vi har ikke fått høre klart fra deg" in closing and "du har fortalt oss" not in closing


def test_a_pupil_who_said_they_are_safe_is_told_so_with_the_day_of_the_conversation(flow_on, world):
    kap12, demo = world
    flow = flow_on(kap12, demo)
    case = flow.report(familiens_malform="nb")
    flow.do("avdelingsleder", case.id)
    with pytest.raises(InvalidInput) as err:  # heard: the day of the conversation is recorded
        flow.do("avdelingsleder", case.id, trygt_skolemiljo="ja", eleven_sier="ja", samtale_elev_dato=None)
    assert "samtale_elev_dato" in err.value.errors
    flow.do("avdelingsleder", case.id, trygt_skolemiljo="ja", eleven_sier="ja", samtale_elev_dato="2026-11-27")
    letter, _ = made(kap12, case.id)["undersokelse_brev"]
    assert "Vi har snakket med deg (27.11.2026)" in letter and "Etter det du selv har fortalt oss" in letter
    flow.do("avdelingsleder", case.id, oppsummering="Undersøkt.")
    closing, _ = made(kap12, case.id)["avslutning_brev"]
    assert "du har fortalt oss at du nå har det trygt og godt" in closing
