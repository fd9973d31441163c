"""HTML posts turned into a form's data (webui/form_post.py), validated by the declaration."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from processes.forms import Form, FormValidationError, parse_form, validate
from webui.form_post import from_html_form

CHOICES = [{"value": "fysisk", "label": "Fysisk"}, {"value": "digital", "label": "Digital"}]


def declaration(*fields: dict, key: str = "test") -> dict:
    return {"key": key, "title": "Testskjema", "intro": "Fyll ut.", "fields": list(fields)}


def errors(form: Form, data: dict) -> dict:
    with pytest.raises(FormValidationError) as info:
        validate(form, data)
    return info.value.errors


HTML_FORM = declaration(
    {"name": "beskrivelse", "label": "Beskrivelse", "type": "textarea", "required": True},
    {"name": "dato", "label": "Dato", "type": "date"},
    {"name": "kanaler", "label": "Kanaler", "type": "multichoice", "choices": CHOICES},
    {"name": "varslet", "label": "Foresatte varslet", "type": "boolean"},
    {"name": "antall", "label": "Antall", "type": "integer"},
    {
        "name": "tiltak",
        "label": "Tiltak",
        "type": "group",
        "min_items": 1,
        "fields": [
            {"name": "hva", "label": "Hva", "type": "text", "required": True},
            {"name": "gjort", "label": "Gjort", "type": "boolean"},
        ],
    },
)


def test_from_html_form_builds_nested_data():
    form = parse_form(HTML_FORM)
    post = MultiDict(
        [
            ("csrf_token", "abc"),
            ("beskrivelse", "Det skjedde noe."),
            ("dato", "2026-11-27"),
            ("kanaler", "fysisk"),
            ("kanaler", "digital"),
            ("antall", "3"),
            ("tiltak-10-hva", "Tredje"),
            ("tiltak-0-hva", "Første"),
            ("tiltak-0-gjort", "on"),
            ("tiltak-2-hva", "Andre"),
            ("tiltak-3-hva", ""),  # an untouched template row
            ("tiltak-x-hva", "ikke en rad"),
            ("send", "Send inn"),
        ]
    )
    data = from_html_form(form, post)
    assert data == {
        "beskrivelse": "Det skjedde noe.",
        "dato": "2026-11-27",
        "kanaler": ["fysisk", "digital"],
        "varslet": False,
        "antall": "3",
        "tiltak": [{"hva": "Første", "gjort": "on"}, {"hva": "Andre", "gjort": False}, {"hva": "Tredje", "gjort": False}],
    }
    assert validate(form, data) == {
        "beskrivelse": "Det skjedde noe.",
        "dato": "2026-11-27",
        "kanaler": ["fysisk", "digital"],
        "varslet": False,
        "antall": 3,
        "tiltak": [{"hva": "Første", "gjort": True}, {"hva": "Andre", "gjort": False}, {"hva": "Tredje", "gjort": False}],
    }


def test_from_html_form_empty_post_gives_required_errors():
    form = parse_form(HTML_FORM)
    data = from_html_form(form, MultiDict([("tiltak-0-hva", " ")]))
    assert data == {"kanaler": [], "varslet": False, "tiltak": []}
    assert errors(form, data) == {"beskrivelse": ["Feltet må fylles ut."], "tiltak": ["Legg til minst 1 rad."]}


def test_from_html_form_checkbox_with_hidden_fallback_takes_the_last_value():
    form = parse_form(HTML_FORM)
    assert from_html_form(form, MultiDict([("varslet", "0"), ("varslet", "on")]))["varslet"] == "on"
    assert from_html_form(form, MultiDict([("varslet", "0")]))["varslet"] == "0"


def test_from_html_form_row_with_only_a_checked_box_is_kept():
    form = parse_form(HTML_FORM)
    data = from_html_form(form, MultiDict([("beskrivelse", "x"), ("tiltak-0-gjort", "on")]))
    assert data["tiltak"] == [{"gjort": "on"}]
    assert errors(form, data) == {"tiltak": {0: {"hva": ["Feltet må fylles ut."]}}}
