"""Form questions as translatable data: a declaration may carry its texts in nynorsk and English
beside bokmål; each text must name a field and a choice that exist; a localised form has the same
names, types and values, so what is filled in is the same data."""
from __future__ import annotations

import pytest

from processes import forms

BASE = {"key": "kartlegging", "title": "Kartlegging", "intro": "Fyll ut.",
        "fields": [{"name": "svar", "label": "Hvordan har du det?", "type": "choice", "required": True,
                    "choices": [{"value": "bra", "label": "Bra"}, {"value": "ikke_bra", "label": "Ikke bra"}]},
                   {"name": "tiltak", "label": "Tiltak", "type": "group",
                    "fields": [{"name": "hva", "label": "Hva", "type": "text"}]}]}


def declaration(translations):
    return {**BASE, "translations": translations}


def test_texts_in_nynorsk_and_bokmal_where_missing():
    form = forms.parse_form(declaration({"nn": {"title": "Kartlegging", "intro": "Fyll ut.",
                                                "fields": {"svar": {"label": "Korleis har du det?",
                                                                    "choices": {"ikke_bra": "Ikkje bra"}},
                                                           "tiltak": {"fields": {"hva": {"label": "Kva"}}}}}}))
    nn = forms.localised(form, "nn")
    assert nn.fields[0].label == "Korleis har du det?"
    assert [c.label for c in nn.fields[0].choices] == ["Bra", "Ikkje bra"]
    assert [c.value for c in nn.fields[0].choices] == ["bra", "ikke_bra"]
    assert nn.fields[1].label == "Tiltak" and nn.fields[1].fields[0].label == "Kva"
    assert forms.localised(form, "en") == form and forms.localised(form, "nb") == form
    # The same data validates against both.
    data = {"svar": "ikke_bra", "tiltak": [{"hva": "Samtale"}]}
    assert forms.validate(form, data) == forms.validate(nn, data)


@pytest.mark.parametrize("translations, says", [
    ({"de": {"title": "Erfassung"}}, "bruk «nn»"),
    ({"nn": {"fields": {"finst_ikkje": {"label": "X"}}}}, "ikke er i skjemaet"),
    ({"nn": {"fields": {"svar": {"choices": {"kanskje": "Kanskje"}}}}}, "har ikke alternativet «kanskje»"),
    ({"nn": {"fields": {"svar": {"label": ""}}}}, "må være tekst"),
    ({"nn": {"fields": {"svar": {"farge": "raud"}}}}, "ukjent del «farge»"),
    ({"nn": {"undertittel": "X"}}, "ukjent del «undertittel»"),
    (["nn"], "må være et objekt"),
])
def test_bad_translations_are_refused_with_a_sentence(translations, says):
    with pytest.raises(forms.FormDeclarationError) as err:
        forms.parse_form(declaration(translations))
    assert any(says in p for p in err.value.problems), err.value.problems


def test_the_bundled_report_form_has_every_question_in_nynorsk():
    form = forms.get_form("meldingsskjema")
    nn = forms.localised(form, "nn")
    for plain, local in zip(form.fields, nn.fields, strict=True):
        assert local.label != plain.label or plain.label in ("Klasse",), plain.name


@pytest.mark.parametrize("language", ["nn", "en"])
@pytest.mark.parametrize("key", sorted(forms.load_forms()))
def test_every_bundled_form_has_every_text_in_nynorsk_and_english(key, language):
    assert forms.untranslated(forms.get_form(key), language) == []


def test_a_text_without_nynorsk_is_named():
    form = forms.parse_form(declaration({"nn": {"title": "Kartlegging",
                                                "fields": {"svar": {"choices": {"bra": "Bra"}}}}}))
    assert forms.untranslated(form, "nn") == ["intro", "svar.label", "svar.choices.ikke_bra", "tiltak.label",
                                              "tiltak.hva.label"]
    assert forms.untranslated(form, "en")[0] == "title"
