"""Form declarations as versions in the database: publishing, no-op on the same content, refusal
of broken declarations with nothing stored, who may publish, and that a completed step keeps the
version it was filled in with while new tasks use the newest one."""
from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from engine.errors import Denied, DeployRefused, InvalidInput
from engine.read import queries
from engine.store.models import FormVersion, HistoryEvent
from processes import forms
from tests.support.diagrams import diagram

OLD_LABEL = "Din vurdering av meldingen"
NEW_LABEL = "Vurdering av meldingen (ny ledetekst)"


def _bundled(key: str) -> dict:
    return json.loads((forms.FORMS_FOLDER / f"{key}.json").read_text(encoding="utf-8"))


def _relabelled(required_strakstiltak: bool = False) -> dict:
    dct = copy.deepcopy(_bundled("motta_melding"))
    for f in dct["fields"]:
        if f["name"] == "mottatt_vurdering":
            f["label"] = NEW_LABEL
        if f["name"] == "strakstiltak" and required_strakstiltak:
            f["required"] = True
    return dct


def _counts(kap12):
    with kap12.db.reading() as s:
        return (s.scalar(select(func.count()).select_from(FormVersion)),
                s.scalar(select(func.count()).select_from(HistoryEvent)))


def test_bundled_forms_are_version_1_and_import_is_idempotent(kap12):
    assert kap12.forms.latest_version("motta_melding") == 1
    assert set(kap12.forms.all()) == set(forms.load_forms())
    before = _counts(kap12)
    kap12.init()
    assert _counts(kap12) == before


def test_publish_new_version_then_same_content_is_a_no_op(kap12, demo):
    owner = demo.users["prosesseier"]
    result = kap12.publish_form(owner, _relabelled(), "Ny ledetekst")
    assert (result.version, result.created) == (2, True)
    assert kap12.forms.get("motta_melding").fields[0].label == NEW_LABEL
    assert kap12.forms.get_version("motta_melding", 1).fields[0].label == OLD_LABEL
    [v2, v1] = kap12.forms.versions("motta_melding")
    assert (v2.version, v2.comment, v2.published_by) == (2, "Ny ledetekst", owner.name)
    assert v1.published_by == "kap12"
    assert all(r.ok for r in kap12.verify())
    with kap12.db.reading() as s:
        published = s.scalars(select(HistoryEvent).where(HistoryEvent.kind == "form_published")).all()
    assert [(e.data["key"], e.data["version"]) for e in published] == [("motta_melding", 2)]

    before = _counts(kap12)
    again = kap12.publish_form(owner, _relabelled(), "Samme en gang til")
    assert (again.version, again.created) == (2, False)
    assert _counts(kap12) == before


def test_broken_declaration_is_refused_and_nothing_is_stored(kap12, demo):
    broken = _relabelled()
    broken["fields"][0]["type"] = "tekstboks"
    broken["fields"][1]["label"] = ""
    before = _counts(kap12)
    with pytest.raises(DeployRefused) as err:
        kap12.publish_form(demo.users["prosesseier"], broken, "Ødelagt")
    assert any("tekstboks" in p for p in err.value.problems)
    assert any("ledetekst" in p for p in err.value.problems)
    with pytest.raises(InvalidInput):
        kap12.publish_form(demo.users["prosesseier"], _relabelled(), "  ")
    assert _counts(kap12) == before


def test_only_process_owners_and_administrators_publish(kap12, demo):
    for who in ("ansatt", "avdelingsleder", "rektor", "revisor"):
        with pytest.raises(Denied):
            kap12.publish_form(demo.users[who], _relabelled(), "Forsøk")
    assert kap12.publish_form(demo.users["admin"], _relabelled(), "Av administrator").created


def test_completed_step_keeps_its_version_new_task_uses_the_newest(flow, kap12, demo):
    lead = demo.users["avdelingsleder"]
    first = flow.report()
    task = next(t for t in kap12.tasks_for(lead) if t.case_id == first.id)
    assert task.form_key == "motta_melding"
    kap12.complete(lead, task.id, {"mottatt_vurdering": "Må undersøkes."})

    kap12.publish_form(demo.users["prosesseier"], _relabelled(required_strakstiltak=True),
                       "Ny ledetekst, strakstiltak må fylles ut")

    [reported, step] = queries.case_steps(kap12, lead, first.id)
    assert (reported.form_version, step.form_version) == (1, 1)
    assert kap12.forms.get_version(step.form_key, step.form_version).fields[0].label == OLD_LABEL

    second = flow.report()
    task = next(t for t in kap12.tasks_for(lead) if t.case_id == second.id)
    with pytest.raises(InvalidInput) as err:
        kap12.complete(lead, task.id, {"mottatt_vurdering": "Må undersøkes."})
    assert "strakstiltak" in err.value.errors
    kap12.complete(lead, task.id, {"mottatt_vurdering": "Må undersøkes.", "strakstiltak": "Tilsyn."})
    done = [e for e in kap12.case_history(second.id) if e.kind == "task_completed"]
    assert done[-1].data["form_version"] == 2
    assert all(r.ok for r in kap12.verify([first.id, second.id]))


def test_a_diagram_may_name_a_form_that_exists_only_in_the_database(kap12, demo):
    dct = copy.deepcopy(_bundled("motta_melding"))
    dct["key"], dct["title"] = "kartlegging", "Kartlegging"
    with pytest.raises(DeployRefused) as err:
        kap12.deploy([("test.bpmn", diagram(form="kartlegging"))], actor=None, comment="før")
    assert any("kartlegging" in p for p in err.value.problems)
    assert kap12.publish_form(demo.users["prosesseier"], dct, "Nytt skjema").version == 1
    [result] = kap12.deploy([("test.bpmn", diagram(form="kartlegging"))], actor=None, comment="etter")
    assert result.created


def test_a_version_that_drops_what_the_law_needs_is_refused_and_nothing_is_stored(kap12, demo):
    """A process owner may reword a plan, not publish one without the evaluation date (§ 12-4)."""
    plan = _bundled("tiltaksplan")
    plan["fields"] = [f for f in plan["fields"] if f["name"] != "evalueringsdato"]
    for language in plan["translations"].values():
        language["fields"].pop("evalueringsdato", None)
    before = _counts(kap12)
    with pytest.raises(DeployRefused) as err:
        kap12.publish_form(demo.users["prosesseier"], plan, "Uten evalueringsdato")
    assert err.value.problems == ["Skjemaet «Tiltaksplan» må ha feltet evalueringsdato (opplæringslova "
                                  "§ 12-4: planen sier når tiltakene skal evalueres)."]
    assert _counts(kap12) == before
    reworded = _bundled("tiltaksplan")
    reworded["intro"] = "Ny innledning."
    assert kap12.publish_form(demo.users["prosesseier"], reworded, "Ny innledning").created
