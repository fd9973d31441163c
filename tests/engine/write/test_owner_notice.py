"""A serious A case told to the school owner later than at the receipt: the one who leads it asks,
with why; rektor gets «Varsle skoleeier» with its deadline beside the follow-up, which goes on;
once told, the school owner reads the case. Nobody else can ask, not twice, and not in B or C."""
from __future__ import annotations

import pytest

from engine.audit.replay import verify_case
from engine.errors import Conflict, Denied, InvalidInput, NotFound


def _received(flow):
    case = flow.report()
    flow.do("avdelingsleder", case.id, "Motta og registrere melding", alvorlig_sak=False)
    return case


def test_the_investigation_shows_it_is_serious_and_the_owner_is_told(flow, kap12, demo):
    case = _received(flow)
    assert not kap12.cases_for(demo.users["skoleeier"])
    kap12.ask_owner_notice(demo.users["avdelingsleder"], case.id, "Gjentatt vold i friminuttene, også utenfor skolen.")
    assert flow.open_titles(case.id) == ["Undersøke saken", "Varsle skoleeier"]  # beside, not instead
    [asked] = [e for e in kap12.case_history(case.id) if e.kind == "owner_notice_asked"]
    assert asked.actor == "Anne Avdelingsleder" and asked.data["reason"].startswith("Gjentatt vold")
    notice = next(t for t in kap12.case_tasks(case.id) if t.title == "Varsle skoleeier")
    assert notice.due_at is not None and notice.id in {t.id for t in kap12.tasks_for(demo.users["rektor"])}
    with pytest.raises(Conflict, match="allerede en åpen oppgave"):
        kap12.ask_owner_notice(demo.users["rektor"], case.id, "Igjen")
    flow.do("rektor", case.id, "Varsle skoleeier")
    assert case.id in {c.id for c in kap12.cases_for(demo.users["skoleeier"])}
    with pytest.raises(Conflict, match="allerede varslet"):
        kap12.ask_owner_notice(demo.users["rektor"], case.id, "Igjen")
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei", eleven_sier="nei")
    assert flow.open_titles(case.id) == ["Utarbeide tiltaksplan"]
    assert verify_case(kap12, case.id).verified


def test_who_cannot_ask_and_when_and_nothing_is_stored(flow, kap12, demo):
    case = _received(flow)
    before = len(kap12.case_history(case.id))
    for who, error in (("revisor", Denied), ("ansatt", NotFound), ("rektor2", NotFound)):
        with pytest.raises(error):
            kap12.ask_owner_notice(demo.users[who], case.id, "Alvorlig")
    with pytest.raises(InvalidInput):
        kap12.ask_owner_notice(demo.users["avdelingsleder"], case.id, "  ")
    assert len(kap12.case_history(case.id)) == before
    unread = flow.report()  # before the receipt the receipt decides it
    with pytest.raises(Conflict, match="ikke i oppfølgingen"):
        kap12.ask_owner_notice(demo.users["rektor"], unread.id, "Alvorlig")
    b = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    with pytest.raises(Denied):  # B tells the school owner by its own step
        kap12.ask_owner_notice(demo.users["rektor"], b.id, "Alvorlig")
