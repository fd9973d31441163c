"""What the law needs the bundled forms to keep: the bundled forms keep it, and each way of
dropping or weakening a kept field is named in plain words."""
from __future__ import annotations

import copy
import json

import pytest

from processes import form_minimum
from processes.forms import FORMS_FOLDER, parse_form


def _bundled(key: str) -> dict:
    return json.loads((FORMS_FOLDER / f"{key}.json").read_text(encoding="utf-8"))


def _field(dct: dict, name: str) -> dict:
    return next(f for f in dct["fields"] if f["name"] == name)


@pytest.mark.parametrize("key", sorted(form_minimum.MINIMUM))
def test_the_bundled_forms_keep_what_the_law_needs(key):
    assert form_minimum.problems(parse_form(_bundled(key))) == []


KEPT = [(key, kept.name) for key, fields in form_minimum.MINIMUM.items() for kept in fields]


@pytest.mark.parametrize("key,name", KEPT)
def test_dropping_a_kept_field_is_named(key, name):
    dct = _bundled(key)
    dct["fields"] = [f for f in dct["fields"] if f["name"] != name]
    for f in dct["fields"]:  # a rule that names the dropped field would be refused first
        f.pop("required_when", None)
        f.pop("refused_when", None)
    for language in dct.get("translations", {}).values():
        language.get("fields", {}).pop(name, None)
    problems = form_minimum.problems(parse_form(dct))
    assert len([p for p in problems if f"må ha feltet {name} (" in p]) == 1


@pytest.mark.parametrize("key,name", KEPT)
def test_making_a_kept_field_optional_is_named(key, name):
    """Required always, or (a field kept only when another has an answer, such as the pupil's
    voice when the pupil was heard) required when it has that answer: each answer named."""
    dct = _bundled(key)
    field = _field(dct, name)
    field["required"] = False
    field.pop("required_when", None)
    problems = form_minimum.problems(parse_form(dct))
    when = next(k for k in form_minimum.MINIMUM[key] if k.name == name).when
    assert len(problems) == max(1, len(when)) and all("må fylles ut" in p for p in problems)
    for (other, value), problem in zip(when, problems, strict=False):
        assert f"må fylles ut når {other} er «{value}»" in problem


def test_a_field_kept_when_the_pupil_was_heard_may_be_required_always():
    dct = _bundled("annen_avslutning")
    field = _field(dct, "elevens_stemme")
    field["required"] = True
    field.pop("required_when")
    assert form_minimum.problems(parse_form(dct)) == []
    field["required"], field["required_when"] = False, {"eleven_hort": ["ja", "nei"]}
    assert form_minimum.problems(parse_form(dct)) == []
    field["required_when"] = {"eleven_hort": "nei"}
    [problem] = form_minimum.problems(parse_form(dct))
    assert "må fylles ut når eleven_hort er «ja»" in problem


def test_a_dropped_answer_a_dropped_refusal_and_a_weakened_row_are_named():
    dct = _bundled("undersokelse")
    field = _field(dct, "trygt_skolemiljo")
    field["choices"] = [c for c in field["choices"] if c["value"] != "nei"]
    field["refused_when"] = {"ja_tiltak": {"eleven_sier": "nei"}}
    for language in dct["translations"].values():
        language["fields"]["trygt_skolemiljo"]["choices"].pop("nei")
    problems = form_minimum.problems(parse_form(dct))
    assert any("må ha svaret «nei»" in p for p in problems)
    assert any("må avvise «ja» når eleven_sier er «nei»" in p for p in problems)
    plan = _bundled("tiltaksplan")
    rows = _field(plan, "tiltak")["fields"]
    next(r for r in rows if r["name"] == "nar")["required"] = False
    [problem] = form_minimum.problems(parse_form(plan))
    assert "Hver rad i «Tiltak»" in problem and "nar, fylt ut" in problem


def test_forms_the_law_names_nothing_in_are_free():
    dct = copy.deepcopy(_bundled("arshjul_gjennomfort"))
    for f in dct["fields"]:
        f["required"] = False
    assert form_minimum.problems(parse_form(dct)) == []
