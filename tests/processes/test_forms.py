import json
import os
from datetime import date, datetime, timezone

import pytest

from processes.forms import (
    FORMS_FOLDER,
    Choice,
    Field,
    Form,
    FormDeclarationError,
    FormValidationError,
    form_exists,
    get_form,
    load_forms,
    parse_form,
    schema_for,
    validate,
)

CHOICES = [{"value": "fysisk", "label": "Fysisk"}, {"value": "digital", "label": "Digital"}]


def declaration(*fields: dict, key: str = "test") -> dict:
    return {"key": key, "title": "Testskjema", "intro": "Fyll ut.", "fields": list(fields)}


def one(type_: str, required: bool = False, **extra) -> Form:
    """A form with the single field `felt`."""
    field = {"name": "felt", "label": "Felt", "type": type_, "required": required, **extra}
    return parse_form(declaration(field))


def errors(form: Form, data: dict) -> dict:
    with pytest.raises(FormValidationError) as info:
        validate(form, data)
    return info.value.errors


# --- Declarations -------------------------------------------------------------------------


def test_parse_form_builds_frozen_dataclasses():
    form = parse_form(
        declaration(
            {"name": "hendelse", "label": "Hva skjedde?", "type": "textarea", "required": True, "help": "Kort."},
            {"name": "art", "label": "Art", "type": "choice", "choices": CHOICES},
            {
                "name": "tiltak",
                "label": "Tiltak",
                "type": "group",
                "min_items": 1,
                "fields": [{"name": "hva", "label": "Hva", "type": "text", "max_length": 80}],
            },
        )
    )
    assert form == Form(
        key="test",
        title="Testskjema",
        intro="Fyll ut.",
        fields=(
            Field("hendelse", "Hva skjedde?", "textarea", required=True, help="Kort."),
            Field("art", "Art", "choice", choices=(Choice("fysisk", "Fysisk"), Choice("digital", "Digital"))),
            Field("tiltak", "Tiltak", "group", min_items=1, fields=(Field("hva", "Hva", "text", max_length=80),)),
        ),
    )
    with pytest.raises(AttributeError):
        form.title = "Annet"  # type: ignore[misc]
    hash(form)  # usable as a cache key


def fld(type_: str, **extra) -> dict:
    return {"name": "a", "label": "A", "type": type_, **extra}


SUB = [{"name": "b", "label": "B", "type": "text"}]


@pytest.mark.parametrize(
    "field, problem",
    [
        (fld("txt"), "Feltet «a» har ukjent type 'txt'."),
        ({"name": "a", "type": "text"}, "Feltet «a» mangler ledetekst (label)."),
        (fld("text", label=" "), "Feltet «a» mangler ledetekst (label)."),
        (fld("choice"), "Feltet «a» er et valgfelt uten alternativer (choices)."),
        (fld("multichoice", choices=[]), "Feltet «a» er et valgfelt uten alternativer (choices)."),
        (
            fld("choice", choices=[{"value": "x"}]),
            "Feltet «a»: alternativ nr. 1 må ha value og label.",
        ),
        (
            fld("choice", choices=CHOICES + CHOICES[:1]),
            "Feltet «a»: alternativet «fysisk» står to ganger.",
        ),
        (fld("group"), "Feltet «a» er en gruppe uten felt (fields)."),
        (fld("group", fields=[]), "Feltet «a» er en gruppe uten felt (fields)."),
        (fld("text", requried=True), "Feltet «a» har ukjent egenskap «requried»."),
        (fld("text", required="ja"), "Feltet «a»: required må være true eller false."),
        (fld("text", help=3), "Feltet «a»: help må være tekst."),
        (fld("text", choices=CHOICES), "Feltet «a»: bare valgfelt kan ha alternativer (choices)."),
        (fld("text", fields=SUB), "Feltet «a»: bare grupper kan ha felt (fields)."),
        (fld("text", min_items=1), "Feltet «a»: bare grupper kan ha min_items."),
        (fld("date", max_length=5), "Feltet «a»: bare tekstfelt kan ha max_length."),
        (fld("text", max_length=0), "Feltet «a»: max_length må være et positivt heltall."),
        (
            fld("group", min_items=-1, fields=SUB),
            "Feltet «a»: min_items må være et heltall som ikke er negativt.",
        ),
    ],
)
def test_declaration_problems(field, problem):
    with pytest.raises(FormDeclarationError) as info:
        parse_form(declaration(field))
    assert info.value.problems == [problem]


@pytest.mark.parametrize("name", ["Navn", "1felt", "felt-navn", "fødselsdato", "class", "_skjult", "", None])
def test_bad_field_names(name):
    with pytest.raises(FormDeclarationError) as info:
        parse_form(declaration({"name": name, "label": "A", "type": "text"}))
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"Felt nr. 1 har ugyldig navn {name!r}")


def test_duplicate_names_at_top_level_and_in_group():
    with pytest.raises(FormDeclarationError) as info:
        parse_form(
            declaration(
                {"name": "a", "label": "A", "type": "text"},
                {"name": "a", "label": "A2", "type": "date"},
                {
                    "name": "rader",
                    "label": "Rader",
                    "type": "group",
                    "fields": SUB + SUB,
                },
            )
        )
    assert info.value.problems == [
        "Feltnavnet «a» står to ganger.",
        "Feltnavnet «b» står to ganger i gruppen «rader».",
    ]


def test_group_inside_group_and_problems_in_group_fields():
    inner = {"name": "indre", "label": "Indre", "type": "group", "fields": SUB}
    outer = {"name": "ytre", "label": "Ytre", "type": "group", "fields": [inner, {"name": "d", "type": "x"}]}
    with pytest.raises(FormDeclarationError) as info:
        parse_form(declaration(outer))
    assert info.value.problems == [
        "Feltet «ytre», felt nr. 1 (indre) er en gruppe inne i en gruppe, det støttes ikke.",
        "Feltet «ytre», felt nr. 2 (d) mangler ledetekst (label).",
        "Feltet «ytre», felt nr. 2 (d) har ukjent type 'x'.",
    ]


def test_every_problem_of_a_form_is_listed():
    with pytest.raises(FormDeclarationError) as info:
        parse_form({"key": "Ugyldig nøkkel", "fields": [], "extra": 1})
    assert info.value.problems == [
        "Skjemaet har ugyldig nøkkel 'Ugyldig nøkkel': bruk små bokstaver a-z, sifre, _ og -.",
        "Skjemaet mangler tittel (title).",
        "Skjemaet har ukjent egenskap «extra».",
        "Skjemaet har ingen felt (fields).",
    ]
    assert str(info.value).startswith("Skjemaet har ugyldig nøkkel")


def test_declaration_must_be_an_object():
    with pytest.raises(FormDeclarationError) as info:
        parse_form(["not", "a", "dict"])  # type: ignore[arg-type]
    assert info.value.problems == ["Skjemaet må være et JSON-objekt."]
    with pytest.raises(FormDeclarationError) as info:
        parse_form(declaration("tekst"))  # type: ignore[arg-type]
    assert info.value.problems == ["Felt nr. 1 må være et objekt."]


# --- Loading ------------------------------------------------------------------------------


def write(folder, key: str, content: dict | str) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    (folder / f"{key}.json").write_text(text, encoding="utf-8")


def test_load_forms_from_folder(tmp_path):
    write(tmp_path, "melding", declaration({"name": "a", "label": "A", "type": "text"}, key="melding"))
    write(tmp_path, "plan", declaration({"name": "b", "label": "B", "type": "date"}, key="plan"))
    (tmp_path / "README.txt").write_text("not a form")
    forms = load_forms(tmp_path)
    assert sorted(forms) == ["melding", "plan"]
    assert forms["plan"].fields[0].type == "date"
    assert get_form("melding", tmp_path) is forms["melding"]
    assert form_exists("plan", tmp_path)
    assert not form_exists("ukjent", tmp_path)
    with pytest.raises(KeyError, match="Ukjent skjema: 'ukjent'"):
        get_form("ukjent", tmp_path)


def test_load_forms_sees_changes(tmp_path):
    write(tmp_path, "melding", declaration({"name": "a", "label": "A", "type": "text"}, key="melding"))
    assert load_forms(tmp_path) is load_forms(tmp_path)  # cached while nothing changed
    path = tmp_path / "melding.json"
    write(tmp_path, "melding", declaration({"name": "a", "label": "Ny ledetekst", "type": "text"}, key="melding"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert get_form("melding", tmp_path).fields[0].label == "Ny ledetekst"
    write(tmp_path, "ny", declaration({"name": "a", "label": "A", "type": "text"}, key="ny"))
    assert form_exists("ny", tmp_path)


def test_load_forms_reports_bad_files(tmp_path):
    write(tmp_path, "feil_json", "{not json")
    write(tmp_path, "feil_nokkel", declaration({"name": "a", "label": "A", "type": "text"}, key="annen"))
    write(tmp_path, "feil_type", declaration({"name": "a", "label": "A", "type": "tall"}, key="feil_type"))
    with pytest.raises(FormDeclarationError) as info:
        load_forms(tmp_path)
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("feil_json.json: ugyldig JSON")
    assert problems[1] == "feil_nokkel.json: nøkkelen «annen» er ikke lik filnavnet."
    assert problems[2] == "feil_type.json: Feltet «a» har ukjent type 'tall'."


def test_every_declared_form_in_the_project_builds_a_schema():
    forms = load_forms(FORMS_FOLDER)
    for key, form in forms.items():
        assert form.key == key
        assert schema_for(form) is schema_for(form)


# --- Schemas: common rules ------------------------------------------------------------------


def test_unknown_keys_are_rejected():
    form = one("text")
    assert errors(form, {"felt": "x", "annet": "y"}) == {"annet": ["Ukjent felt."]}


def test_data_must_be_a_mapping():
    assert errors(one("text"), ["x"]) == {"_schema": ["Ugyldige skjemadata."]}  # type: ignore[arg-type]


def test_missing_optional_fields_get_empty_values():
    form = parse_form(
        declaration(
            {"name": "t", "label": "T", "type": "text"},
            {"name": "ta", "label": "TA", "type": "textarea"},
            {"name": "d", "label": "D", "type": "date"},
            {"name": "dt", "label": "DT", "type": "datetime"},
            {"name": "c", "label": "C", "type": "choice", "choices": CHOICES},
            {"name": "mc", "label": "MC", "type": "multichoice", "choices": CHOICES},
            {"name": "b", "label": "B", "type": "boolean"},
            {"name": "i", "label": "I", "type": "integer"},
            {"name": "g", "label": "G", "type": "group", "fields": [{"name": "x", "label": "X", "type": "text"}]},
        )
    )
    expected = {"t": None, "ta": None, "d": None, "dt": None, "c": None, "mc": [], "b": False, "i": None, "g": []}
    assert validate(form, {}) == expected
    blank = {"t": " ", "ta": "", "d": "", "dt": "", "c": "", "mc": [], "b": "", "i": "", "g": []}
    assert validate(form, blank) == expected
    assert validate(form, dict.fromkeys(["t", "ta", "d", "dt", "c", "i"])) == expected


@pytest.mark.parametrize("type_", ["text", "textarea", "date", "datetime", "integer"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_required_blank_counts_as_missing(type_, value):
    form = one(type_, required=True)
    assert errors(form, {"felt": value}) == {"felt": ["Feltet må fylles ut."]}
    assert errors(form, {}) == {"felt": ["Feltet må fylles ut."]}


def test_clean_data_are_json_serializable():
    form = parse_form(
        declaration(
            {"name": "d", "label": "D", "type": "date"},
            {"name": "dt", "label": "DT", "type": "datetime"},
            {"name": "g", "label": "G", "type": "group", "fields": [{"name": "d", "label": "D", "type": "date"}]},
        )
    )
    clean = validate(form, {"d": date(2026, 11, 27), "dt": "2026-11-27T14:30", "g": [{"d": "2026-12-01"}]})
    assert json.loads(json.dumps(clean)) == clean


def test_schema_is_cached_per_form():
    assert schema_for(one("text")) is schema_for(one("text"))
    assert schema_for(one("text")) is not schema_for(one("date"))


# --- Schemas: each type ---------------------------------------------------------------------


def test_text_is_stripped_and_limited_to_500_by_default():
    form = one("text", required=True)
    assert validate(form, {"felt": "  Ola Nordmann \n"}) == {"felt": "Ola Nordmann"}
    assert validate(form, {"felt": "x" * 500}) == {"felt": "x" * 500}
    assert errors(form, {"felt": "x" * 501}) == {"felt": ["Teksten kan ikke være lengre enn 500 tegn."]}
    assert errors(form, {"felt": 12}) == {"felt": ["Ugyldig tekst."]}


def test_text_max_length_from_declaration():
    form = one("text", max_length=10)
    assert errors(form, {"felt": "x" * 11}) == {"felt": ["Teksten kan ikke være lengre enn 10 tegn."]}
    assert validate(form, {"felt": "  " + "x" * 10 + "  "}) == {"felt": "x" * 10}


def test_textarea_keeps_lines_and_allows_20000():
    form = one("textarea")
    assert validate(form, {"felt": " linje 1\r\nlinje 2 \n"}) == {"felt": "linje 1\nlinje 2"}
    assert validate(form, {"felt": "x" * 20_000}) == {"felt": "x" * 20_000}
    assert errors(form, {"felt": "x" * 20_001}) == {"felt": ["Teksten kan ikke være lengre enn 20000 tegn."]}


def test_date():
    form = one("date")
    assert validate(form, {"felt": "2026-11-27"}) == {"felt": "2026-11-27"}
    assert validate(form, {"felt": date(2027, 3, 25)}) == {"felt": "2027-03-25"}
    for bad in ["27.11.2026", "20261127", "2026-02-30", "2026-11-27T10:00", 20261127, datetime(2026, 11, 27)]:
        assert errors(form, {"felt": bad}) == {"felt": ["Ugyldig dato."]}, bad


def test_dates_outside_the_range_people_type_are_refused_in_plain_words():
    """Year 1 and 9999 parse in Python but overflow the time-zone shift, the databases' ranges
    or the working-day calendar further on: refused at the form, with the range named."""
    message = ["Velg en dato mellom 01.01.1900 og 31.12.2199."]
    for bad in ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"]:
        assert errors(one("date"), {"felt": bad}) == {"felt": message}, bad
    for bad in ["0001-01-01T00:00", "9999-12-31T23:59", "0001-01-01T00:00:00Z"]:
        assert errors(one("datetime"), {"felt": bad}) == {"felt": message}, bad
    assert validate(one("date"), {"felt": "1900-01-01"}) == {"felt": "1900-01-01"}
    assert validate(one("date"), {"felt": "2199-12-31"}) == {"felt": "2199-12-31"}


def test_datetime_is_stored_as_iso_in_oslo():
    form = one("datetime")
    assert validate(form, {"felt": "2026-11-27T14:30"}) == {"felt": "2026-11-27T14:30:00+01:00"}
    assert validate(form, {"felt": "2026-07-01T12:00:00Z"}) == {"felt": "2026-07-01T14:00:00+02:00"}
    aware = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    assert validate(form, {"felt": aware}) == {"felt": "2026-11-27T13:00:00+01:00"}
    for bad in ["2026-11-27", "i morgen", "2026-11-27T25:00", 5]:
        assert errors(form, {"felt": bad}) == {"felt": ["Ugyldig dato og klokkeslett."]}, bad


def test_choice():
    form = one("choice", required=True, choices=CHOICES)
    assert validate(form, {"felt": "digital"}) == {"felt": "digital"}
    assert errors(form, {"felt": "muntlig"}) == {"felt": ["Velg et av alternativene."]}
    assert errors(form, {"felt": 1}) == {"felt": ["Velg et av alternativene."]}
    assert errors(form, {"felt": ""}) == {"felt": ["Feltet må fylles ut."]}


def test_multichoice():
    form = one("multichoice", choices=CHOICES)
    assert validate(form, {"felt": ["digital", "fysisk", "digital"]}) == {"felt": ["digital", "fysisk"]}
    assert validate(form, {"felt": []}) == {"felt": []}
    assert errors(form, {"felt": ["fysisk", "muntlig"]}) == {"felt": ["Velg blant alternativene."]}
    assert errors(form, {"felt": "fysisk"}) == {"felt": ["Velg blant alternativene."]}
    assert errors(form, {"felt": [1]}) == {"felt": ["Velg blant alternativene."]}


def test_required_multichoice_needs_one_choice():
    form = one("multichoice", required=True, choices=CHOICES)
    assert errors(form, {"felt": []}) == {"felt": ["Feltet må fylles ut."]}
    assert errors(form, {"felt": [""]}) == {"felt": ["Feltet må fylles ut."]}
    assert validate(form, {"felt": ["fysisk"]}) == {"felt": ["fysisk"]}


@pytest.mark.parametrize("value", [True, "on", "true", "1", "ja", "Ja", 1])
def test_boolean_true_values(value):
    assert validate(one("boolean"), {"felt": value}) == {"felt": True}


@pytest.mark.parametrize("value", [False, "false", "0", "nei", "off", 0, ""])
def test_boolean_false_values(value):
    assert validate(one("boolean"), {"felt": value}) == {"felt": False}


def test_boolean_invalid_and_required():
    assert errors(one("boolean"), {"felt": "kanskje"}) == {"felt": ["Ugyldig ja/nei-verdi."]}
    confirm = one("boolean", required=True)
    assert validate(confirm, {"felt": "on"}) == {"felt": True}
    assert errors(confirm, {"felt": False}) == {"felt": ["Feltet må krysses av."]}
    assert errors(confirm, {}) == {"felt": ["Feltet må krysses av."]}
    assert errors(confirm, {"felt": ""}) == {"felt": ["Feltet må krysses av."]}


def test_integer():
    form = one("integer")
    assert validate(form, {"felt": 12}) == {"felt": 12}
    assert validate(form, {"felt": " -3 "}) == {"felt": -3}
    for bad in [1.5, "1.5", "12 elever", True, [1], "1" * 16]:
        assert errors(form, {"felt": bad}) == {"felt": ["Skriv et heltall."]}, bad


PLAN = declaration(
    {"name": "mal", "label": "Mål", "type": "text", "required": True},
    {
        "name": "tiltak",
        "label": "Tiltak",
        "type": "group",
        "min_items": 2,
        "fields": [
            {"name": "hva", "label": "Hva", "type": "textarea", "required": True},
            {"name": "frist", "label": "Frist", "type": "date"},
            {"name": "ansvarlig", "label": "Ansvarlig", "type": "choice", "choices": CHOICES},
            {"name": "gjort", "label": "Gjennomført", "type": "boolean"},
        ],
    },
)


def test_group_rows_are_cleaned():
    form = parse_form(PLAN)
    rows = [{"hva": " Samtale "}, {"hva": "Oppfølging", "frist": "2027-01-15", "gjort": "on"}]
    clean = validate(form, {"mal": "Trygt miljø", "tiltak": rows})
    assert clean == {
        "mal": "Trygt miljø",
        "tiltak": [
            {"hva": "Samtale", "frist": None, "ansvarlig": None, "gjort": False},
            {"hva": "Oppfølging", "frist": "2027-01-15", "ansvarlig": None, "gjort": True},
        ],
    }


def test_group_min_items():
    form = parse_form(PLAN)
    assert errors(form, {"mal": "x", "tiltak": [{"hva": "a"}]}) == {"tiltak": ["Legg til minst 2 rader."]}
    assert errors(form, {"mal": "x", "tiltak": []}) == {"tiltak": ["Legg til minst 2 rader."]}
    assert errors(form, {"mal": "x"}) == {"tiltak": ["Legg til minst 2 rader."]}


def test_required_group_needs_one_row():
    form = one("group", required=True, fields=[{"name": "hva", "label": "Hva", "type": "text"}])
    assert errors(form, {"felt": []}) == {"felt": ["Legg til minst 1 rad."]}
    assert errors(form, {}) == {"felt": ["Legg til minst 1 rad."]}
    assert validate(form, {"felt": [{"hva": "a"}]}) == {"felt": [{"hva": "a"}]}


def test_group_errors_are_nested_per_row():
    form = parse_form(PLAN)
    rows = [{"hva": "", "frist": "i morgen"}, "rad", {"hva": "a", "ansvarlig": "rektor", "ukjent": 1}]
    assert errors(form, {"mal": "x", "tiltak": rows}) == {
        "tiltak": {
            0: {"hva": ["Feltet må fylles ut."], "frist": ["Ugyldig dato."]},
            1: {"_schema": ["Ugyldig rad."]},
            2: {"ansvarlig": ["Velg et av alternativene."], "ukjent": ["Ukjent felt."]},
        }
    }
    assert errors(form, {"mal": "x", "tiltak": "a, b"}) == {"tiltak": ["Ugyldig liste med rader."]}


def test_required_when_another_field_has_a_value():
    from processes import forms

    form = forms.parse_form({"key": "t", "title": "T", "fields": [
        {"name": "resultat", "label": "Resultat", "type": "choice", "required": True,
         "choices": [{"value": "trygt", "label": "Trygt"}, {"value": "fortsette", "label": "Fortsette"}]},
        {"name": "ny_dato", "label": "Ny dato", "type": "date", "required_when": {"resultat": "fortsette"}}]})
    assert forms.validate(form, {"resultat": "trygt"})["ny_dato"] is None
    with pytest.raises(forms.FormValidationError) as err:
        forms.validate(form, {"resultat": "fortsette"})
    assert err.value.errors == {"ny_dato": ["Feltet må fylles ut."]}
    assert forms.validate(form, {"resultat": "fortsette", "ny_dato": "2026-12-01"})["ny_dato"] == "2026-12-01"


def test_a_choice_refused_beside_another_answer():
    """«Safe» is not the school's answer when the pupil says it is not (§ 12-4)."""
    from processes import forms

    form = forms.parse_form({"key": "t", "title": "T", "fields": [
        {"name": "eleven_sier", "label": "Sier eleven at det er trygt?", "type": "choice", "required": True,
         "choices": [{"value": "ja", "label": "Ja"}, {"value": "nei", "label": "Nei, eleven sier det ikke er trygt"}]},
        {"name": "trygt", "label": "Har eleven det trygt?", "type": "choice", "required": True,
         "choices": [{"value": "ja", "label": "Ja, trygt"}, {"value": "nei", "label": "Nei"}],
         "refused_when": {"ja": {"eleven_sier": "nei"}}}]})
    with pytest.raises(forms.FormValidationError) as err:
        forms.validate(form, {"eleven_sier": "nei", "trygt": "ja"})
    assert err.value.errors == {"trygt": ["«Ja, trygt» kan ikke velges når svaret på «Sier eleven at det er trygt?» "
                                          "er «Nei, eleven sier det ikke er trygt»."]}
    assert forms.validate(form, {"eleven_sier": "nei", "trygt": "nei"})["trygt"] == "nei"
    assert forms.validate(form, {"eleven_sier": "ja", "trygt": "ja"})["trygt"] == "ja"
    assert forms.validate(form, {"eleven_sier": "ja", "trygt": "nei"})["trygt"] == "nei"  # the school may see more


@pytest.mark.parametrize("refused, problem", [
    ({"kanskje": {"a": "x"}}, "kanskje"),  # not one of the field's choices
    ({"ja": {"finnes_ikke": "x"}}, "finnes_ikke"),  # no such field
    ({"ja": {"a": []}}, "refused_when for «ja»"),
    ("ja", "refused_when må være"),
])
def test_refused_when_is_checked_when_the_form_is_read(refused, problem):
    from processes import forms

    with pytest.raises(forms.FormDeclarationError) as err:
        forms.parse_form({"key": "t", "title": "T", "fields": [
            {"name": "a", "label": "A", "type": "text"},
            {"name": "b", "label": "B", "type": "choice", "choices": [{"value": "ja", "label": "Ja"}],
             "refused_when": refused}]})
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_required_when_must_name_a_field_of_the_form():
    from processes import forms

    with pytest.raises(forms.FormDeclarationError) as err:
        forms.parse_form({"key": "t", "title": "T", "fields": [
            {"name": "a", "label": "A", "type": "text", "required_when": {"finnes_ikke": "x"}}]})
    assert "finnes_ikke" in err.value.problems[0]


# A day on which something has happened is never ahead of the day the form is sent: a report
# "known about" tomorrow, a conversation with the pupil next month, or a routine "done" next week
# would make the record say what did not happen (and hide a report made late).
HAPPENED = [("meldingsskjema", "kjent_dato"), ("undersokelse", "samtale_elev_dato"),
            ("kontradiksjon", "informert_dato"), ("arshjul_gjennomfort", "dato"),
            ("motta_melding", "tatt_opp_dato"), ("motta_melding_b", "tatt_opp_dato"),
            ("motta_melding_c", "tatt_opp_dato")]


@pytest.mark.parametrize("form_key,field", HAPPENED)
def test_a_day_that_has_happened_is_not_ahead(form_key, field):
    from engine.versions.example_data import example_data

    today = date(2026, 11, 30)
    form = get_form(form_key)
    data = example_data(form, today)
    assert validate(form, {**data, field: "2026-11-30"}, today=today)[field] == "2026-11-30"
    with pytest.raises(FormValidationError) as err:
        validate(form, {**data, field: "2026-12-01"}, today=today)
    assert list(err.value.errors) == [field]
