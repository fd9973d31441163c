"""The action plan's measures: a colleague picked as responsible is told without pupil data,
sees the measure (not the case) and records whether it was carried out; the accused and
anyone outside the school can never be made responsible; "Gjennomføre tiltak" records each
measure, and the evaluation and its document show what was carried out."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from engine import access
from engine.audit.replay import verify_case
from engine.errors import Conflict, InvalidInput, NotFound
from engine.outputs import documents
from engine.read import measures
from engine.store.models import Measure, Notification
from engine.write import demo as demo_module
from tests.support.migrations import upgrade_from

PLAN = [{"hva": "Voksen til stede i friminuttene", "nar": "Fra i morgen", "ansvarlig_bruker": "ansatt"},
        {"hva": "Samtale med klassen", "nar": "Uke 50", "ansvarlig": "Helsesykepleier"}]


def _to_plan(flow, reporter="ansatt2", **overrides):
    # Reported by someone other than the measure's owner (a reporter sees where the case stands).
    case = flow.report(reporter, **overrides)
    leader = "avdelingsleder" if case.procedure == "A" else "rektor"
    flow.do(leader, case.id)  # receive the report (its title differs per procedure)
    flow.do(leader, case.id, "Undersøke saken", trygt_skolemiljo="nei")
    return case, leader


def _plan(flow, leader, case_id, rows=PLAN, title="Utarbeide tiltaksplan"):
    flow.do(leader, case_id, title, evalueringsdato=flow.plan_date(),
       tiltak=[dict(r) for r in rows])


def test_owner_is_told_sees_the_measure_not_the_case_and_records_it(flow, kap12, demo):
    case, leader = _to_plan(flow)
    _plan(flow, leader, case.id)
    kari = demo.users["ansatt"]
    # Told, without the measure or the pupil: the case number and where to look.
    with kap12.db.reading() as session:
        [notice] = session.query(Notification).filter_by(user_id=kari.id, kind="measure").all()
    assert notice.link == "/tiltak" and case.number in notice.body
    assert "friminutt" not in notice.body.lower() and "Emma" not in notice.body
    # The plan names her (the free-text field is filled from the picked colleague).
    plan = [e for e in kap12.case_history(case.id) if e.kind == "task_completed"][-1]
    assert plan.data["data"]["tiltak"][0]["ansvarlig"] == "Kari Lærer"
    # She sees her measure, and nothing else of the case.
    [mine] = measures.owned_page(kap12, kari).items
    assert (mine.what, mine.case_number) == ("Voksen til stede i friminuttene", case.number)
    with kap12.db.reading() as session:
        assert access.access_level(session, kari, case.id) is None
    with pytest.raises(NotFound):
        kap12.case(kari, case.id)
    # She records it; the history says who, what and when.
    kap12.record_measure(kari, mine.id, "delvis", "Startet uke 49, ikke hver dag.")
    [recorded] = [e for e in kap12.case_history(case.id) if e.kind == "measure_recorded"]
    assert recorded.actor == "Kari Lærer" and recorded.data["status"] == "delvis"
    # "Gjennomføre tiltak" opens with a row per measure and what she recorded.
    [task] = kap12.case_tasks(case.id)
    assert task.form_key == "gjennomforing"
    rows = measures.carrying_out_answers(kap12, case.id)["tiltak_status"]
    assert rows == [{"tiltak": "Voksen til stede i friminuttene", "status": "delvis",
                     "merknad": "Startet uke 49, ikke hver dag."}, {"tiltak": "Samtale med klassen"}]
    assert all(r.ok for r in kap12.verify([case.id]))


def test_nobody_else_may_record_a_measure(flow, kap12, demo):
    case, leader = _to_plan(flow)
    _plan(flow, leader, case.id)
    [mine] = measures.owned_page(kap12, demo.users["ansatt"]).items
    for outsider in ("ansatt2", "ansatt3", "rektor2", "revisor"):
        with pytest.raises(NotFound):
            kap12.record_measure(demo.users[outsider], mine.id, "gjennomfort", "")
        assert measures.owned_page(kap12, demo.users[outsider]).items == []
    # The leader of the case may record it too; a made-up status is refused plainly.
    with pytest.raises(InvalidInput):
        kap12.record_measure(demo.users["avdelingsleder"], mine.id, "kanskje", "")
    kap12.record_measure(demo.users["avdelingsleder"], mine.id, "gjennomfort", "")
    assert [e.kind for e in kap12.case_history(case.id)].count("measure_recorded") == 1


@pytest.mark.parametrize(("username", "message"), [
    ("ansatt3", "ikke ansatt ved skolen"),  # another school
    ("skoleeier", "ikke ansatt ved skolen"),  # a county role
    ("nobody", "fra listen"),
])
def test_who_cannot_own_a_measure(flow, kap12, demo, username, message):
    case, leader = _to_plan(flow)
    with pytest.raises(InvalidInput) as err:
        _plan(flow, leader, case.id, [{"hva": "Tiltak", "nar": "Nå", "ansvarlig_bruker": username}])
    assert message in str(err.value.errors["tiltak"][0]["ansvarlig_bruker"])
    assert flow.open_titles(case.id) == ["Utarbeide tiltaksplan"]  # nothing changed


def test_every_measure_names_someone(flow, kap12, demo):
    case, leader = _to_plan(flow)
    with pytest.raises(InvalidInput) as err:
        _plan(flow, leader, case.id, [{"hva": "Tiltak", "nar": "Nå", "ansvarlig": ""}])
    assert "ansvarlig" in err.value.errors["tiltak"][0]


def test_the_accused_can_never_own_a_measure_nor_see_one(flow, kap12, demo):
    case, leader = _to_plan(flow, "avdelingsleder", krenker_type="ansatt", anklaget_bruker="ansatt2",
                            krenker_navn="Per")
    assert case.procedure == "B"
    with pytest.raises(InvalidInput) as err:
        _plan(flow, leader, case.id, [{"hva": "Tiltak", "nar": "Nå", "ansvarlig_bruker": "ansatt2"}])
    assert "anklaget" in str(err.value.errors["tiltak"][0]["ansvarlig_bruker"])
    assert "ansatt2" not in [u for u, _ in measures.owner_choices(kap12, case.id)]
    # A colleague who owns a measure and is later named as accused loses it at once.
    _plan(flow, leader, case.id)
    [mine] = measures.owned_page(kap12, demo.users["ansatt"]).items
    kap12.identify_accused(demo.users["rektor"], case.id, "ansatt")
    assert measures.owned_page(kap12, demo.users["ansatt"]).items == []
    with pytest.raises(NotFound):
        kap12.record_measure(demo.users["ansatt"], mine.id, "gjennomfort", "")


def test_a_revised_plan_retires_the_old_measures(flow, kap12, demo):
    case, leader = _to_plan(flow)
    _plan(flow, leader, case.id)
    [old] = measures.owned_page(kap12, demo.users["ansatt"]).items
    flow.do(leader, case.id, "Gjennomføre tiltak", tiltak_status=[
        {"tiltak": "Voksen til stede i friminuttene", "status": "ikke", "merknad": "Syk uke 49."},
        {"tiltak": "Samtale med klassen", "status": "gjennomfort"}])
    kap12.evaluate_now(demo.users[leader], case.id, "Ny hendelse i kantina.")
    flow.do(leader, case.id, "Evaluere tiltakene", evaluering_resultat="revidere")
    _plan(flow, leader, case.id, [{"hva": "Fast følge i kantina", "nar": "Hver dag", "ansvarlig_bruker": "ansatt2"}],
          "Revidere tiltaksplan")
    assert measures.owned_page(kap12, demo.users["ansatt"]).items == []
    with pytest.raises(Conflict):
        kap12.record_measure(demo.users["avdelingsleder"], old.id, "gjennomfort", "")
    [new] = measures.owned_page(kap12, demo.users["ansatt2"]).items
    assert new.what == "Fast følge i kantina"
    # Re-execution from the history gives the same case: the records are inputs, evaluate-now too.
    result = verify_case(kap12, case.id)
    assert result.verified, result.summary()


def test_a_closed_case_retires_its_measures_and_an_upgrade_those_closed_before(flow, kap12, demo):
    """Nobody carries out the measures of a closed case: they leave «Mine tiltak» and its count,
    retired in the step that closes the case (so the list reads no closed case's measures), and
    an upgrade retires those of the cases closed before this release."""
    case, leader = _to_plan(flow)
    _plan(flow, leader, case.id)
    kari = demo.users["ansatt"]
    [mine] = measures.owned_page(kap12, kari).items
    flow.do(leader, case.id, "Gjennomføre tiltak")
    kap12.evaluate_now(demo.users[leader], case.id, "Eleven sier det er bra nå.")
    flow.do(leader, case.id, "Evaluere tiltakene", evaluering_resultat="trygt")
    flow.do(leader, case.id, "Avslutte og dokumentere saken")
    assert flow.status(case.id).status == "closed"
    assert _current(kap12, case.id) == []
    assert measures.owned_page(kap12, kari).items == [] and measures.owned_count(kap12, kari) == 0
    with pytest.raises(Conflict):
        kap12.record_measure(demo.users[leader], mine.id, "gjennomfort", "")
    # As an earlier release left them: current in a closed case. The upgrade retires them.
    with kap12.db.engine.begin() as conn:
        conn.execute(update(Measure).where(Measure.case_id == case.id).values(current=True))
    upgrade_from(kap12, "0047_first_passwords")
    assert _current(kap12, case.id) == []
    assert all(r.ok for r in kap12.verify([case.id]))


@pytest.mark.parametrize("offender,accused", [("ledelse", "rektor"), ("ansatt", "ansatt2")])
def test_a_move_to_another_procedure_retires_the_plan_and_its_owners_see_it_no_more(flow, kap12, demo, offender,
                                                                                    accused):
    """The new procedure starts from its receipt with a new circle (in C the school owner alone):
    the earlier plan's owner no longer sees its measures, the case number, nor records into the
    case. An upgrade retires the measures an earlier release left current after such a move."""
    case, leader = _to_plan(flow)
    _plan(flow, leader, case.id)
    kari = demo.users["ansatt"]
    [mine] = measures.owned_page(kap12, kari).items
    kap12.reclassify(demo.users["avdelingsleder"], case.id, offender, "Det gjelder en voksen.", accused)
    assert _current(kap12, case.id) == []
    assert measures.owned_page(kap12, kari).items == [] and measures.owned_count(kap12, kari) == 0
    with pytest.raises((Conflict, NotFound)):
        kap12.record_measure(kari, mine.id, "gjennomfort", "")
    assert all(e.kind != "measure_recorded" for e in kap12.case_history(case.id))
    with kap12.db.engine.begin() as conn:
        conn.execute(update(Measure).where(Measure.case_id == case.id).values(current=True))
    upgrade_from(kap12, "0047_first_passwords")
    assert _current(kap12, case.id) == []
    assert all(r.ok for r in kap12.verify([case.id]))


def test_an_upgrade_keeps_the_plan_made_after_a_move(flow, kap12, demo):
    case = flow.report(krenker_type="ansatt", krenker_navn="Per", anklaget_bruker="ansatt2")
    for title in ("Motta melding", "Varsle skoleeier straks"):
        flow.do("rektor", case.id, title)
    kap12.reclassify(demo.users["skoleeier"], case.id, "elev", "Det var en elev.")
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    _plan(flow, "avdelingsleder", case.id)
    kept = _current(kap12, case.id)
    assert len(kept) == 2
    upgrade_from(kap12, "0047_first_passwords")
    assert _current(kap12, case.id) == kept


def _current(kap12, case_id: int) -> list[int]:
    with kap12.db.reading() as session:
        return list(session.scalars(select(Measure.id).where(Measure.case_id == case_id, Measure.current.is_(True))))


def test_the_evaluation_and_its_document_show_what_was_carried_out(flow_on, sqlite_kap12):
    kap12 = sqlite_kap12
    demo = demo_module.ensure_directory(kap12)
    flow = flow_on(kap12, demo)
    case, leader = _to_plan(flow)
    _plan(flow, leader, case.id)
    flow.do(leader, case.id, "Gjennomføre tiltak", tiltak_status=[
        {"tiltak": "Voksen til stede i friminuttene", "status": "delvis", "merknad": "Ikke fredager."},
        {"tiltak": "Samtale med klassen", "status": "ikke", "merknad": "Flyttet til uke 51."}])
    [first, second] = measures.current_plan(kap12, case.id)
    assert (first.status_text, first.note, first.owner) == ("Delvis gjennomført", "Ikke fredager.", "Kari Lærer")
    assert (second.status_text, second.owner) == ("Ikke gjennomført", "Helsesykepleier")
    kap12.evaluate_now(demo.users[leader], case.id, "Eleven sier det er verre.")
    flow.do(leader, case.id, "Evaluere tiltakene", evaluering_resultat="trygt")
    [evaluation] = [d for d in documents.ensure_documents(kap12, case.id) if d.kind == "evaluering"]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        documents.stored_content(kap12, evaluation.id))).pages).split())
    assert "Slik er tiltakene gjennomført" in text and "Flyttet til uke 51." in text and "Delvis gjennomført" in text


def test_mine_tiltak_is_paged_by_case_and_place_in_the_plan(flow, kap12, demo):
    mine = [{"hva": f"Tiltak {n}", "nar": "Uke 50", "ansvarlig_bruker": "ansatt"} for n in range(3)]
    first, leader = _to_plan(flow)
    _plan(flow, leader, first.id, rows=mine)
    second, _ = _to_plan(flow)
    _plan(flow, leader, second.id, rows=mine[:2])
    kari = demo.users["ansatt"]
    seen, cursor = [], None
    while True:
        page = measures.owned_page(kap12, kari, cursor=cursor, limit=2)
        seen += [(m.case_id, m.what) for m in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    ours = [s for s in seen if s[0] in (first.id, second.id)]
    assert ours == [(first.id, "Tiltak 0"), (first.id, "Tiltak 1"), (first.id, "Tiltak 2"),
                    (second.id, "Tiltak 0"), (second.id, "Tiltak 1")]  # every one once, in order
    assert len(seen) == len(set(seen)) == measures.owned_count(kap12, kari)
    assert measures.owned_count(kap12, demo.users["ansatt3"]) == 0


def test_the_owner_picker_asks_as_much_for_a_large_staff_as_for_a_small_one(flow, kap12, demo):
    """The plan page's list of colleagues who may own a measure: the same few statements for any
    number of staff (it asked one or two for each person), the same people as asked one by one."""
    from support.plans import answered

    from engine.store import directory
    from engine.store.models import Case, School, User

    case, _leader = _to_plan(flow, "avdelingsleder", krenker_type="ansatt", anklaget_bruker="ansatt2",
                             krenker_navn="Per")
    few, sent = answered(kap12.db.engine, lambda: measures.owner_choices(kap12, case.id))
    with kap12.db.writing() as session:
        school = session.get(School, case.school_id)
        for n in range(12):
            user = directory.create_user(session, f"larer{n}", f"Lærer {n:02d}", password=None, email=None,
                                         now=kap12.clock.now())
            directory.grant(session, user, "ansatt", school=school)
    many, more = answered(kap12.db.engine, lambda: measures.owner_choices(kap12, case.id))
    assert len(many) == len(few) + 12 and len(more) == len(sent)
    with kap12.db.reading() as session:
        row = session.get(Case, case.id)
        one_by_one = [u.username for u in session.query(User).order_by(User.display_name)
                      if access.measure_owner_problem(session, row, u) is None]
    assert sorted(u for u, _ in many) == sorted(one_by_one) and "ansatt2" not in one_by_one
