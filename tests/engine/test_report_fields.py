"""What the report form asks since issue 15 (the kind of offence, whether it is still going on,
the date it happened), the overview counting those answers without names, "Mottatt av" taken
from the log-in, and a notice time that may not lie after the moment it is recorded."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flow import do, report

from engine.demo import ensure_directory
from engine.errors import InvalidInput
from engine.read import overview
from engine.versions.example_data import example_data


@pytest.fixture
def kap12(sqlite_kap12):
    # Form checks and counting: the write path's PostgreSQL behaviour is covered elsewhere,
    # and the counting query is run on PostgreSQL by test_counts_on_postgresql below.
    return sqlite_kap12


def _task(kap12, case_id, title):
    return next(t for t in kap12.case_tasks(case_id) if t.title == title)


def _counts(kap12, demo, user, **filters):
    counts = overview.weekly_overview(kap12, demo.users[user], **filters).report_counts
    return counts.reports, dict(counts.kinds), dict(counts.ongoing)


def test_the_report_keeps_kind_ongoing_and_date(kap12, demo):
    case = report(kap12, demo, krenkelse_art=["mobbing", "digital"], pagaar="ja", hendelse_dato="2026-11-27")
    reported = next(e for e in kap12.case_history(case.id) if e.kind == "reported").data["report"]
    assert reported["krenkelse_art"] == ["mobbing", "digital"]
    assert (reported["pagaar"], reported["hendelse_dato"]) == ("ja", "2026-11-27")


def test_a_report_refuses_an_unknown_kind_and_a_date_ahead(kap12, demo):
    with pytest.raises(InvalidInput) as err:
        report(kap12, demo, krenkelse_art=["sladder"])
    assert err.value.errors["krenkelse_art"] == ["Velg blant alternativene."]
    tomorrow = (kap12.clock.now() + timedelta(days=1)).date().isoformat()
    with pytest.raises(InvalidInput) as err:
        report(kap12, demo, hendelse_dato=tomorrow)
    assert "er fram i tid" in err.value.errors["hendelse_dato"][0]


def test_the_overview_counts_kinds_and_ongoing_without_the_accused_case(kap12, demo):
    report(kap12, demo, krenkelse_art=["mobbing", "digital"], pagaar="ja")
    report(kap12, demo, krenkelse_art=["mobbing"], pagaar="nei")
    report(kap12, demo, krenkelse_art=[], pagaar=None)  # nothing said: «Ikke oppgitt»
    # A B case: rektor's and the school owner's, never the department head's.
    report(kap12, demo, krenkelse_art=["vold"], pagaar="vet_ikke", krenker_type="ansatt",
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


def test_the_accused_never_counts_a_case_against_them(kap12, demo):
    # rektor is accused (C): rektor's own overview neither lists nor counts it.
    report(kap12, demo, krenkelse_art=["vold"], krenker_type="ledelse", krenker_navn="Rune Rektor",
           anklaget_bruker="rektor")
    assert _counts(kap12, demo, "rektor")[0] == 0
    assert _counts(kap12, demo, "skoleeier")[1] == {"Vold eller trusler": 1}


def test_last_school_years_reports_are_not_counted(kap12, demo):
    report(kap12, demo, krenkelse_art=["mobbing"])
    kap12.clock.advance(timedelta(days=365))
    assert _counts(kap12, demo, "rektor")[0] == 0


def _b_case_at_the_notice(kap12, demo):
    case = report(kap12, demo, krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    do(kap12, demo, "rektor", case.id, "Motta melding")
    return case


def _complete(kap12, demo, user, case_id, title, **data):
    task = _task(kap12, case_id, title)
    payload = example_data(kap12.forms.get(task.form_key), kap12.clock.now().date(), **data)
    kap12.complete(demo.users[user], task.id, payload)


def test_a_notice_time_after_the_moment_it_is_recorded_is_refused(kap12, demo):
    case = _b_case_at_the_notice(kap12, demo)
    later = (kap12.clock.now() + timedelta(hours=2)).isoformat(timespec="minutes")
    with pytest.raises(InvalidInput) as err:
        _complete(kap12, demo, "rektor", case.id, "Varsle skoleeier straks", varslet_tidspunkt=later)
    message = err.value.errors["varslet_tidspunkt"][0]
    assert message == ("Tidspunktet 30.11.2026 kl. 11:00 er fram i tid. Skriv når det skjedde, "
                       "senest nå (30.11.2026 kl. 09:00).")
    assert "Varsle skoleeier straks" in {t.title for t in kap12.case_tasks(case.id)}  # nothing changed
    # The very minute it is recorded is not ahead.
    now = kap12.clock.now().isoformat(timespec="minutes")
    _complete(kap12, demo, "rektor", case.id, "Varsle skoleeier straks", varslet_tidspunkt=now)
    assert "Bekrefte mottatt varsel" in {t.title for t in kap12.case_tasks(case.id)}


def test_received_by_is_the_logged_in_person_whatever_is_posted(kap12, demo):
    case = _b_case_at_the_notice(kap12, demo)
    do(kap12, demo, "rektor", case.id, "Varsle skoleeier straks")
    _complete(kap12, demo, "skoleeier", case.id, "Bekrefte mottatt varsel", mottatt_av="Rune Rektor")
    completed = [e for e in kap12.case_history(case.id) if e.kind == "task_completed"
                 and e.data.get("form") == "bekreft_varsel"]
    assert completed[0].data["data"]["mottatt_av"] == "Sigrid Skoleeier"
    assert completed[0].actor == "Sigrid Skoleeier"


@pytest.mark.postgres
def test_counts_on_postgresql(pg_server, tmp_path, new_kap12):
    engine = new_kap12(pg_server.create_database("t_report_counts"), tmp_path)
    try:
        demo = ensure_directory(engine)
        report(engine, demo, krenkelse_art=["mobbing", "digital"], pagaar="ja")
        report(engine, demo, krenkelse_art=["mobbing"], pagaar=None)
        n, kinds, ongoing = _counts(engine, demo, "rektor")
        assert n == 2 and kinds["Mobbing (gjentatt plaging, utestenging)"] == 2
        assert kinds["Digitale krenkelser (nett, sosiale medier)"] == 1
        assert ongoing == {"Ja, det pågår fortsatt": 1, "Ikke oppgitt": 1}
    finally:
        engine.close()
