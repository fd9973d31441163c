"""The overview counts what the school year's reports say (the kind of offence, whether it was
still going on) for the cases the viewer sees in full: counts only, never a name, and never a
case against the viewer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import null, update
from support.migrations import upgrade_from

from engine.read import overview
from engine.store.models import Case
from engine.write.demo import ensure_directory


@pytest.fixture
def kap12(sqlite_kap12):
    # The counting query runs on PostgreSQL in test_counts_on_postgresql below.
    return sqlite_kap12


def _counts(kap12, demo, user, **filters):
    counts = overview.weekly_overview(kap12, demo.users[user], **filters).report_counts
    return counts.reports, dict(counts.kinds), dict(counts.ongoing)


def test_the_overview_counts_kinds_and_ongoing_without_the_accused_case(flow, kap12, demo):
    flow.report(krenkelse_art=["mobbing", "digital"], pagaar="ja")
    flow.report(krenkelse_art=["mobbing"], pagaar="nei")
    flow.report(krenkelse_art=[], pagaar=None)  # nothing said: «Ikke oppgitt»
    # A B case: rektor's and the school owner's, never the department head's.
    flow.report(krenkelse_art=["vold"], pagaar="vet_ikke", krenker_type="ansatt",
           krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")

    n, kinds, ongoing = _counts(kap12, demo, "rektor")
    assert n == 4
    assert kinds == {"Mobbing (gjentatt plaging, utestenging)": 2, "Vold eller trusler": 1,
                     "Digitale krenkelser (nett, sosiale medier)": 1, "Ikke oppgitt": 1}
    assert ongoing == {"Ja, det pågår fortsatt": 1, "Nei, det har stoppet": 1, "Vet ikke": 1, "Ikke oppgitt": 1}
    # The form's order, «Ikke oppgitt» last.
    assert [label for label, _ in overview.weekly_overview(kap12, demo.users["rektor"]).report_counts.kinds] == [
        "Mobbing (gjentatt plaging, utestenging)", "Vold eller trusler",
        "Digitale krenkelser (nett, sosiale medier)", "Ikke oppgitt"]

    n, kinds, _ = _counts(kap12, demo, "avdelingsleder")
    assert n == 3 and "Vold eller trusler" not in kinds
    # The school owner counts what they see: the B case.
    assert _counts(kap12, demo, "skoleeier") == (1, {"Vold eller trusler": 1}, {"Vet ikke": 1})
    # The filters narrow the counts too.
    assert _counts(kap12, demo, "rektor", procedure="B")[0] == 1


def test_the_same_answers_given_in_another_order_count_as_the_same(flow, kap12, demo):
    # The database groups the reports by the answers' text; the kinds are counted one by one.
    flow.report(krenkelse_art=["mobbing", "digital"], pagaar="ja")
    flow.report(krenkelse_art=["digital", "mobbing"], pagaar="ja")
    flow.report(krenkelse_art=["digital"], pagaar="nei")
    n, kinds, ongoing = _counts(kap12, demo, "rektor")
    assert n == 3
    assert kinds == {"Mobbing (gjentatt plaging, utestenging)": 2, "Digitale krenkelser (nett, sosiale medier)": 3}
    assert ongoing == {"Ja, det pågår fortsatt": 2, "Nei, det har stoppet": 1}


def test_the_accused_never_counts_a_case_against_them(flow, kap12, demo):
    # rektor is accused (C): rektor's own overview neither lists nor counts it.
    flow.report(krenkelse_art=["vold"], krenker_type="ledelse", krenker_navn="Rune Rektor",
           anklaget_bruker="rektor")
    assert _counts(kap12, demo, "rektor")[0] == 0
    assert _counts(kap12, demo, "skoleeier")[1] == {"Vold eller trusler": 1}


def test_last_school_years_reports_are_not_counted(flow, kap12, demo):
    flow.report(krenkelse_art=["mobbing"])
    kap12.clock.advance(timedelta(days=365))
    assert _counts(kap12, demo, "rektor")[0] == 0


@pytest.mark.postgres
def test_counts_on_postgresql(flow_on, pg_server, tmp_path, new_kap12):
    engine = new_kap12(pg_server.create_database("t_report_counts"), tmp_path)
    try:
        demo = ensure_directory(engine)
        flow = flow_on(engine, demo)
        flow.report(krenkelse_art=["mobbing", "digital"], pagaar="ja")
        flow.report(krenkelse_art=["mobbing"], pagaar=None)
        n, kinds, ongoing = _counts(engine, demo, "rektor")
        assert n == 2 and kinds["Mobbing (gjentatt plaging, utestenging)"] == 2
        assert kinds["Digitale krenkelser (nett, sosiale medier)"] == 1
        assert ongoing == {"Ja, det pågår fortsatt": 1, "Ikke oppgitt": 1}
        with engine.db.writing() as session:  # answers not kept: read from the report
            session.execute(update(Case).where(Case.id == flow.report(krenkelse_art=["vold"]).id)
                            .values(report_answers=null()))
        n, kinds, _ = _counts(engine, demo, "rektor")
        assert n == 3 and kinds["Vold eller trusler"] == 1
    finally:
        engine.close()


def test_the_answers_of_reports_made_before_the_upgrade_are_counted(flow, kap12, demo):
    # The answers are kept on the case from migration 0017 on; an older database's reports are
    # copied there from the history by the upgrade itself.
    flow.report(krenkelse_art=["mobbing", "digital"], pagaar="ja")
    flow.report(krenkelse_art=[], pagaar=None)
    before = _counts(kap12, demo, "rektor")
    upgrade_from(kap12, "0016_figure_indexes")
    assert _counts(kap12, demo, "rektor") == before
    assert before[0] == 2 and before[2] == {"Ja, det pågår fortsatt": 1, "Ikke oppgitt": 1}


def test_a_report_the_release_before_made_after_the_upgrade_is_counted_from_its_history(flow, kap12, demo):
    # Between ``kap12 init`` and the workers' restart, the old release makes cases without the
    # kept answers: the counts read those few from the reports themselves.
    flow.report(krenkelse_art=["mobbing", "digital"], pagaar="ja")
    flow.report(krenkelse_art=["mobbing"], pagaar="nei")
    before = _counts(kap12, demo, "rektor")
    with kap12.db.writing() as session:
        session.execute(update(Case).where(Case.id == flow.report(krenkelse_art=["vold"], pagaar="vet_ikke").id)
                        .values(report_answers=null()))
    n, kinds, ongoing = _counts(kap12, demo, "rektor")
    assert n == before[0] + 1 and kinds["Vold eller trusler"] == 1
    assert kinds["Mobbing (gjentatt plaging, utestenging)"] == 2 and ongoing == {**before[2], "Vet ikke": 1}
