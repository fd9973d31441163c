"""What the report form asks since issue 15 (the kind of offence, whether it is still going on,
the date it happened), "Mottatt av" taken from the log-in, and a notice time that may not lie
after the moment it is recorded (the overview's counts: tests/engine/read/test_report_counts.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import InvalidInput
from engine.versions.example_data import example_data


@pytest.fixture
def kap12(sqlite_kap12):
    # Form checks: the write path's PostgreSQL behaviour is covered elsewhere.
    return sqlite_kap12


def _task(kap12, case_id, title):
    return next(t for t in kap12.case_tasks(case_id) if t.title == title)


def test_the_report_keeps_kind_ongoing_and_date(flow, kap12, demo):
    case = flow.report(krenkelse_art=["mobbing", "digital"], pagaar="ja", hendelse_dato="2026-11-27")
    reported = next(e for e in kap12.case_history(case.id) if e.kind == "reported").data["report"]
    assert reported["krenkelse_art"] == ["mobbing", "digital"]
    assert (reported["pagaar"], reported["hendelse_dato"]) == ("ja", "2026-11-27")


def test_a_report_refuses_an_unknown_kind_and_a_date_ahead(flow, kap12, demo):
    with pytest.raises(InvalidInput) as err:
        flow.report(krenkelse_art=["sladder"])
    assert err.value.errors["krenkelse_art"] == ["Velg blant alternativene."]
    tomorrow = (kap12.clock.now() + timedelta(days=1)).date().isoformat()
    with pytest.raises(InvalidInput) as err:
        flow.report(hendelse_dato=tomorrow)
    assert "er fram i tid" in err.value.errors["hendelse_dato"][0]


def _b_case_at_the_notice(flow):
    case = flow.report(krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    flow.do("rektor", case.id, "Motta melding")
    return case


def _complete(kap12, demo, user, case_id, title, **data):
    task = _task(kap12, case_id, title)
    payload = example_data(kap12.forms.get(task.form_key), kap12.clock.now().date(), **data)
    kap12.complete(demo.users[user], task.id, payload)


def test_a_notice_time_after_the_moment_it_is_recorded_is_refused(flow, kap12, demo):
    case = _b_case_at_the_notice(flow)
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


def test_received_by_is_the_logged_in_person_whatever_is_posted(flow, kap12, demo):
    case = _b_case_at_the_notice(flow)
    flow.do("rektor", case.id, "Varsle skoleeier straks")
    _complete(kap12, demo, "skoleeier", case.id, "Bekrefte mottatt varsel", mottatt_av="Rune Rektor")
    completed = [e for e in kap12.case_history(case.id) if e.kind == "task_completed"
                 and e.data.get("form") == "bekreft_varsel"]
    assert completed[0].data["data"]["mottatt_av"] == "Sigrid Skoleeier"
    assert completed[0].actor == "Sigrid Skoleeier"
