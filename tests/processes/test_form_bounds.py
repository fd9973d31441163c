"""Fields whose value the server decides: a time that may not lie after the moment the form is
sent (max_date «now»), and a field taken from the log-in (value_from «user»), never from input."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from processes import forms

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 30, 12, 0, 40, tzinfo=OSLO)
TODAY = NOW.date()


def _form(**extra) -> forms.Form:
    return forms.parse_form({"key": "t", "title": "T", "fields": [
        {"name": "varslet", "label": "Når ble skoleeier varslet?", "type": "datetime", "required": True,
         "max_date": "now"},
        {"name": "mottatt_av", "label": "Mottatt av", "type": "text", "required": True, "value_from": "user"},
        *extra.get("more", [])]})


def test_a_time_ahead_of_now_is_refused_in_plain_norwegian():
    with pytest.raises(forms.FormValidationError) as err:
        forms.validate(_form(), {"varslet": "2026-11-30T12:01", "mottatt_av": "x"}, TODAY, NOW)
    assert err.value.errors == {"varslet": [
        "Tidspunktet 30.11.2026 kl. 12:01 er fram i tid. Skriv når det skjedde, senest nå (30.11.2026 kl. 12:00)."]}


@pytest.mark.parametrize("typed", ["2026-11-30T12:00", "2026-11-29T23:59", "2026-11-30T11:00:00+00:00"])
def test_now_and_earlier_are_accepted(typed):
    # 11:00 UTC is 12:00 in Oslo: the moment, not the digits, is compared.
    clean = forms.validate(_form(), {"varslet": typed, "mottatt_av": "x"}, TODAY, NOW)
    assert clean["varslet"] <= NOW.isoformat()


def test_without_a_clock_the_bound_is_not_checked():
    # Forms checked without the engine's clock (a preview) keep what was typed.
    assert forms.validate(_form(), {"varslet": "2030-01-01T08:00", "mottatt_av": "x"})["varslet"].startswith("2030")


def test_the_sender_replaces_whatever_was_posted_and_fills_what_was_not():
    form = _form()
    assert forms.with_sender(form, {"mottatt_av": "Rune Rektor"}, "Sigrid Skoleeier") == {
        "mottatt_av": "Sigrid Skoleeier"}
    assert forms.with_sender(form, {}, "Sigrid Skoleeier") == {"mottatt_av": "Sigrid Skoleeier"}
    plain = forms.parse_form({"key": "p", "title": "P", "fields": [{"name": "a", "label": "A", "type": "text"}]})
    assert forms.with_sender(plain, {"a": "b"}, "Sigrid Skoleeier") == {"a": "b"}


@pytest.mark.parametrize("field, message", [
    ({"name": "d", "label": "D", "type": "date", "max_date": "now"}, "max_date «now» på tidspunktfelt"),
    ({"name": "d", "label": "D", "type": "datetime", "min_date": "now"}, "max_date «now» på tidspunktfelt"),
    ({"name": "d", "label": "D", "type": "datetime", "max_date": "today"}, "max_date «now» på tidspunktfelt"),
    ({"name": "d", "label": "D", "type": "textarea", "value_from": "user"}, "value_from kan bare være «user»"),
    ({"name": "d", "label": "D", "type": "text", "value_from": "session"}, "value_from kan bare være «user»"),
])
def test_declarations_name_these_only_where_they_fit(field, message):
    with pytest.raises(forms.FormDeclarationError) as err:
        forms.parse_form({"key": "t", "title": "T", "fields": [field]})
    assert message in str(err.value)


def test_the_bundled_forms_use_them():
    assert forms.get_form("varsle_skoleeier").fields[0].max_date == forms.NOW
    received = next(f for f in forms.get_form("bekreft_varsel").fields if f.name == "mottatt_av")
    assert received.value_from == forms.FROM_USER
    report = {f.name: f for f in forms.get_form("meldingsskjema").fields}
    assert report["krenkelse_art"].type == "multichoice" and report["hendelse_dato"].max_date == forms.TODAY
    assert [c.value for c in report["pagaar"].choices] == ["ja", "nei", "vet_ikke"]
