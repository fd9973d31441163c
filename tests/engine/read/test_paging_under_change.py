"""Keyset paging of Varsler, Mine tiltak and the case list (the auditor's, and a list of two
parts) while rows come and go between the pages, on SQLite and on PostgreSQL: what was there
throughout is shown once, in order, and nothing twice. An OFFSET page would repeat a row when a
newer one arrives in front of the page reached, and skip one when a row already shown leaves."""
from __future__ import annotations

from datetime import timedelta

import pytest
from support.pages import all_pages, reports_over_time

from engine import access
from engine.read import measures

# Ending a case for another reason (the pupil moved): it closes at once, its tasks and measures go.
LEFT = {"grunn": "sluttet", "begrunnelse": "Familien har flyttet til Bergen.", "ny_skole": "Bergen katedralskole",
        "eleven_hort": "ja", "elevens_stemme": "Jeg gleder meg til ny skole."}


def test_notice_pages_stay_whole_while_new_notices_arrive(flow, kap12, demo, clock):
    """Varsler, newest first: each report between the pages tells rektor of a new task, a notice
    newer than every one shown, and she marks them read meanwhile. The pages are exactly the
    notices there when she began, each once and newest first; the new ones wait for a new first
    page. With OFFSET every arrival pushed a notice already shown onto the next page again."""
    rektor = demo.users["rektor"]
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        flow.report()
    before = [n.id for n in kap12.notice_page(rektor, limit=500).items]
    assert len(before) >= 5

    def arrive(page_no: int) -> None:
        clock.advance(timedelta(minutes=1))
        flow.report()
        if page_no == 1:
            kap12.mark_notices_read(rektor)  # being read moves no notice in the list

    ids = [n.id for n in all_pages(lambda cursor: kap12.notice_page(rektor, cursor=cursor, limit=2), arrive)]
    assert ids == before
    assert kap12.notice_page(rektor, limit=1).items[0].id > max(before)  # the new ones are there, in front


def _planned(flow, clock, count: int = 2) -> int:
    """A case of Nordli at its action plan, with ``count`` measures Kari (ansatt) is responsible for."""
    clock.advance(timedelta(minutes=5))
    case = flow.report("ansatt2")
    flow.do("avdelingsleder", case.id)
    flow.do("avdelingsleder", case.id, "Undersøke saken", trygt_skolemiljo="nei")
    flow.do("avdelingsleder", case.id, "Utarbeide tiltaksplan", evalueringsdato=flow.plan_date(),
            tiltak=[{"hva": f"Tiltak {n}", "nar": "Uke 50", "ansvarlig_bruker": "ansatt"} for n in range(count)])
    return case.id


def test_mine_tiltak_pages_stay_whole_while_cases_end_and_plans_arrive(flow, kap12, demo, clock):
    """Mine tiltak, by case (oldest first) and place in the plan, two measures a page: after the
    first page its case ends (its measures leave Kari's list); after the second she records one
    (which moves nothing) and a new case's plan names her. The measures of the cases that stay
    open are shown once each, in order, and the new plan's last, once. With OFFSET, the ended
    case's two measures gone, the next page skipped the second case's."""
    kari = demo.users["ansatt"]
    cases = [_planned(flow, clock) for _ in range(3)]
    before = measures.owned_page(kap12, kari, limit=500).items
    assert [m.case_id for m in before] == [cases[0]] * 2 + [cases[1]] * 2 + [cases[2]] * 2

    def change(page_no: int) -> None:
        clock.advance(timedelta(minutes=1))
        if page_no == 1:
            kap12.end_case(demo.users["rektor"], cases[0], LEFT)
        elif page_no == 2:
            kap12.record_measure(kari, before[2].id, "delvis", "Startet uke 49.")
            cases.append(_planned(flow, clock, 1))

    shown = all_pages(lambda cursor: measures.owned_page(kap12, kari, cursor=cursor, limit=2), change)
    ids = [m.id for m in shown]
    assert len(ids) == len(set(ids)), "a measure was shown twice"
    assert {m.id for m in before if m.case_id != cases[0]} <= set(ids), "a measure there throughout was skipped"
    # Cases made one after the other: their ids order them as their moments do.
    assert [(m.case_id, m.position, m.id) for m in shown] == sorted((m.case_id, m.position, m.id) for m in shown)
    assert shown[-1].case_id == cases[3]  # the plan that came meanwhile, after the page reached


@pytest.mark.parametrize("status", [None, "open"])
@pytest.mark.parametrize("person", ["revisor", "avdelingsleder"])
def test_case_pages_stay_whole_while_cases_are_reported_and_ended(flow, kap12, demo, clock, person, status):
    """The case list, newest first, two a page: the auditor's (every case of the county), and
    avdelingsleder's, who reported some of the cases herself (two parts: her role's cases and
    her own reports, each paged in its own columns). Between the pages new cases are reported (in
    front of every page shown), a case already shown ends and one not yet reached ends. Every
    case is shown once, in order, as the list stood when it began — but the one that ended before
    it was reached, under «open». With OFFSET, the new cases repeated rows, and under «open» the
    shown case that closed made the next page skip one."""
    viewer, rektor = demo.users[person], demo.users["rektor"]
    reports_over_time(flow, clock, 3, 2)
    for _ in range(3):  # avdelingsleder's own reports, among the others
        clock.advance(timedelta(minutes=3))
        flow.report("avdelingsleder")
        clock.advance(timedelta(minutes=3))
        flow.report()
    before = [c.id for c in kap12.case_page(viewer, status, limit=500).items]
    assert len(before) == 11
    assert len(access.visible_parts(kap12.with_reach(viewer), status)) == (2 if person == "avdelingsleder" else 1)

    def change(page_no: int) -> None:
        clock.advance(timedelta(minutes=1))
        flow.report("avdelingsleder" if page_no % 2 else "ansatt")  # newer than every case shown
        if page_no == 1:
            kap12.end_case(rektor, before[0], LEFT)  # shown already
        elif page_no == 2:
            kap12.end_case(rektor, before[-1], LEFT)  # not reached yet

    shown = all_pages(lambda cursor: kap12.case_page(viewer, status, cursor=cursor, limit=2), change)
    ids = [c.id for c in shown]
    assert ids == [i for i in before if not (status == "open" and i == before[-1])]
    assert [(c.created_at, c.id) for c in shown] == sorted(((c.created_at, c.id) for c in shown), reverse=True)
    if status is None:
        assert shown[-1].status == "closed"  # the one that ended on the way is shown as it is now
