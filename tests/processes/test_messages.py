"""The engine's and the forms' sentences: bokmål text that the web layer shows in the reader's
language, kept a Message through marshmallow's formatting."""
from __future__ import annotations

import pickle
from datetime import date

import pytest

from engine.errors import InvalidInput
from processes import forms
from processes.messages import Message, use_translator

NYNORSK = {"Datoen %(day)s er passert. Velg i dag (%(today)s) eller en senere dato.":
           "Datoen %(day)s er passert. Vel i dag (%(today)s) eller ein seinare dato.",
           "Feltet må fylles ut.": "Feltet må fyllast ut.",
           "Teksten kan ikke være lengre enn %(max)s tegn.": "Teksten kan ikkje vere lengre enn %(max)s teikn."}


@pytest.fixture
def nynorsk():
    previous = use_translator(lambda template, params: NYNORSK[template] % params if template in NYNORSK else None)
    yield
    use_translator(previous)


FORM = forms.parse_form({"key": "k", "title": "K", "fields": [
    {"name": "dato", "label": "Dato", "type": "date", "required": True, "min_date": "today"},
    {"name": "tekst", "label": "Tekst", "type": "text", "max_length": 3},
    {"name": "svar", "label": "Svar", "type": "text", "required": True}]})


def _errors(data):
    with pytest.raises(forms.FormValidationError) as err:
        forms.validate(FORM, data, today=date(2026, 11, 30))
    return err.value.errors


def test_a_message_is_its_bokmal_text_without_a_translator():
    message = Message("Datoen %(day)s er passert.", day="01.11.2026")
    assert message == "Datoen 01.11.2026 er passert." and str(message) == message
    assert message.template == "Datoen %(day)s er passert." and message.params == {"day": "01.11.2026"}
    assert message.format(x=1) is message
    again = pickle.loads(pickle.dumps(message))
    assert again == message and again.params == message.params


def test_form_errors_are_shown_in_the_readers_language(nynorsk):
    errors = _errors({"dato": "2026-11-01", "tekst": "abcd", "svar": ""})
    assert errors["svar"] == ["Feltet må fylles ut."]  # compared, logged and sent as bokmål
    assert [str(m) for m in errors["svar"]] == ["Feltet må fyllast ut."]
    assert [str(m) for m in errors["tekst"]] == ["Teksten kan ikkje vere lengre enn 3 teikn."]
    date_error = _errors({"dato": "2026-11-01", "svar": "x"})["dato"][0]
    assert str(date_error) == "Datoen 01.11.2026 er passert. Vel i dag (30.11.2026) eller ein seinare dato."
    assert date_error == "Datoen 01.11.2026 er passert. Velg i dag (30.11.2026) eller en senere dato."


def test_a_template_the_translator_lacks_stays_bokmal(nynorsk):
    assert str(_errors({"dato": "x", "svar": "x"})["dato"][0]) == "Ugyldig dato."


def test_what_is_stored_is_bokmal_even_on_a_nynorsk_page(nynorsk):
    error = InvalidInput(forms.REQUIRED)
    assert str(error) == "Feltet må fyllast ut." and error.bokmal == "Feltet må fylles ut."
