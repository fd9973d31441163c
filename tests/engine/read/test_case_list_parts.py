"""A reporter's case list is paged in parts (``access.visible_parts``): the cases their roles and
own sets reach, and the cases they reported, each status read backward along the person's
``ReportedCase`` key (migration 0038). The pages are exactly the cases they see, newest first,
with every filter and while cases change underneath; the rows the database keeps are the reports
as they stand; and a page of a teacher's reports is read from her key, not gathered and sorted
from every case she reported (her 2,500 at 100,000 cases were each looked up on every look)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from support.backends import only_postgresql
from support.case_stories import outside_their_own_reports, stories, viewers
from support.migrations import upgrade_from
from support.pages import all_pages, reports_over_time
from support.plans import answered, plan_of

from engine import access
from engine.read import case_list
from engine.store.models import Case, CaseParty, ReportedCase


def _listed(kap12, viewer, **filters) -> list[int]:
    """Every case the viewer sees, newest first: the policy asked as one condition of one query."""
    with kap12.db.reading() as session:
        return [c.id for c in case_list.case_summaries(session, within=access.visible_cases(viewer), **filters)]


def _paged(kap12, viewer, limit: int = 2, between=lambda page_no: None, **filters) -> list[int]:
    return [c.id for c in all_pages(lambda cursor: kap12.case_page(viewer, cursor=cursor, limit=limit, **filters),
                                    between)]


def _close(flow, case_id: int) -> None:
    flow.do("avdelingsleder", case_id, "Motta og registrere melding")
    flow.do("avdelingsleder", case_id, "Undersøke saken", trygt_skolemiljo="ja")
    flow.do("avdelingsleder", case_id, "Avslutte og dokumentere saken")


def test_each_viewers_pages_are_the_cases_they_see(flow, kap12, demo):
    stories(flow, kap12, demo)
    accused_later, bypassed = outside_their_own_reports(flow, kap12, demo)
    for _ in range(3):  # the teacher's reports fill more than a page of each part
        flow.report()
    flow.report(user="rektor")  # a leader's own report, which her role reaches anyway
    for name, viewer in viewers(demo).items():
        for status in (None, "open", "closed"):
            for filters in ({}, {"procedure": "A"}, {"procedure": "B"}, {"school": flow.NORDLI}, {"search": "00"}):
                assert _paged(kap12, viewer, status=status, **filters) == \
                    _listed(kap12, viewer, status=status, **filters), (name, status, filters)
    # Not a test that cannot fail: the teacher's list is two parts (her grant, her reports), and
    # the reporters do not see their reports outside their circle.
    with kap12.db.reading() as session:
        teacher = access.with_reach(session, demo.users["ansatt"])
        later = access.with_reach(session, demo.users["ansatt2"])
    assert len(access.visible_parts(teacher, None)) == 2 and len(access.visible_parts(later, "open")) == 1
    assert accused_later.id not in _paged(kap12, demo.users["ansatt2"])
    assert bypassed.id not in _paged(kap12, demo.users["avdelingsleder"])
    assert len(_paged(kap12, demo.users["ansatt"])) == 9  # five reported, one granted, three more


def test_a_reporters_pages_have_no_duplicates_or_gaps_while_cases_change(flow, kap12, demo, clock):
    """Every status at once: a case that closes between two pages moves from one part to the
    other, and is shown once all the same."""
    teacher = demo.users["ansatt"]
    first = reports_over_time(flow, clock, 4, 6)
    added = []

    def change_underneath(page_no):
        clock.advance(timedelta(minutes=1))
        added.append(flow.report().id)  # newer than every page already shown
        _close(flow, first[page_no])  # an older case closes, shown already or not
        _close(flow, first[-page_no])

    ids = _paged(kap12, teacher, limit=3, between=change_underneath)
    assert len(ids) == len(set(ids))  # no duplicates
    assert set(first) <= set(ids)  # no gaps: every case there from the start and still there
    assert not set(added) & set(ids)
    assert ids == [i for i in _listed(kap12, teacher) if i in set(ids)]  # newest first throughout
    assert {case.id for case in kap12.cases_for(teacher, "closed")} & set(first)  # the parts did move


def _rows(kap12) -> list[tuple]:
    with kap12.db.reading() as session:
        return sorted(session.execute(select(ReportedCase.user_id, ReportedCase.status, ReportedCase.created_at,
                                             ReportedCase.case_id)))


def _reports(kap12) -> list[tuple]:
    """The reports as the parties and the cases say: the rows there should be."""
    with kap12.db.reading() as session:
        return sorted(session.execute(
            select(CaseParty.user_id, Case.status, Case.created_at, Case.id).join(Case, Case.id == CaseParty.case_id)
            .where(CaseParty.relation == "reporter", CaseParty.user_id.is_not(None))))


def test_the_reported_cases_are_the_reports_made_closed_changed_or_upgraded(flow, kap12, demo):
    stories(flow, kap12, demo)
    outside_their_own_reports(flow, kap12, demo)
    reports = _reports(kap12)
    assert {row[1] for row in reports} == {"open", "closed"} and len({row[0] for row in reports}) == 3
    assert _rows(kap12) == reports
    case = flow.report()
    _close(flow, case.id)
    assert _rows(kap12) == _reports(kap12) != reports
    # What no path of kap12 does, done by hand: the rows follow the parties and the cases.
    with kap12.db.writing() as session:
        session.execute(update(Case).where(Case.id == case.id).values(created_at=case.created_at - timedelta(days=1)))
    assert _rows(kap12) == _reports(kap12)
    with kap12.db.writing() as session:
        session.execute(update(CaseParty).where(CaseParty.case_id == case.id).values(relation="accused"))
    assert _rows(kap12) == _reports(kap12) == reports
    with kap12.db.writing() as session:
        session.execute(update(CaseParty).where(CaseParty.case_id == case.id).values(relation="reporter"))
    assert _rows(kap12) == _reports(kap12) != reports
    with kap12.db.writing() as session:
        session.execute(delete(CaseParty).where(CaseParty.case_id == case.id))
    assert _rows(kap12) == reports
    upgrade_from(kap12, "0037_school_cases_index")
    assert _rows(kap12) == reports


@only_postgresql
@pytest.mark.parametrize(("status", "index", "shown"), [(None, "ix_reported_cases_person", [3, 2]),
                                                       ("open", "reported_cases_pkey", [3, 2]),
                                                       ("closed", "reported_cases_pkey", [1])])
def test_a_page_of_a_teachers_reports_is_read_from_her_rows(flow, kap12, demo, status, index, shown):
    """Her reports of one status a range of her ``ReportedCase`` key, of every status a range of
    ``ix_reported_cases_person``: read backward and cut at the page's end, not her reports' ids
    written into the list and each looked up (as the list did before)."""
    reported = [flow.report().id for _ in range(3)]
    _close(flow, reported[0])
    teacher = demo.users["ansatt"]
    page, statements = answered(kap12.db.engine, lambda: kap12.case_page(kap12.with_reach(teacher), status, limit=2))
    assert page is not None and [c.id for c in page.items] == [reported[i - 1] for i in shown]
    [(statement, parameters)] = [s for s in statements if "ORDER BY reported_cases.created_at DESC" in s[0]]
    assert "'{" not in statement  # no ids written in
    plan = plan_of(kap12.db.engine, statement, parameters, "enable_seqscan = off", "enable_bitmapscan = off",
                   "enable_sort = off")
    assert f"Scan Backward using {index} on reported_cases" in plan, plan
    assert "Sort" not in plan, plan


def test_rows_left_wrong_by_hand_show_nothing_the_policy_refuses(flow, kap12, demo):
    """The rows only order a reporter's part: whether she reported the case, and its status, are
    asked of the case. A row that the parties do not back (left by a TRUNCATE of the parties,
    which fires no trigger, or written by hand) shows no case, and a row of the wrong status
    shows none under that tab."""
    theirs = flow.report(user="ansatt2")
    mine = flow.report()
    _close(flow, mine.id)
    teacher = demo.users["ansatt"]
    with kap12.db.writing() as session:
        session.add(ReportedCase(user_id=teacher.id, status="open", created_at=theirs.created_at, case_id=theirs.id))
        session.add(ReportedCase(user_id=teacher.id, status="open", created_at=mine.created_at, case_id=mine.id))
    for status in (None, "open", "closed"):
        assert _paged(kap12, teacher, status=status) == _listed(kap12, teacher, status=status), status
    assert _paged(kap12, teacher, status="closed") == [mine.id] and _paged(kap12, teacher, status="open") == []


def test_an_empty_status_is_every_status(flow, kap12, demo):
    flow.report()
    _close(flow, flow.report().id)
    teacher = demo.users["ansatt"]
    assert [c.id for c in kap12.case_page(teacher, "").items] == [c.id for c in kap12.cases_for(teacher, "")] \
        == _listed(kap12, teacher)
