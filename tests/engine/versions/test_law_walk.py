"""What the law needs the case process to do (processes/diagram_minimum.py), checked by walking
cases through new diagrams before they are deployed: a process owner's diagram that lets a case
skip a duty is refused, naming the duty and the way the case went; nothing is stored."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT
from engine.versions import definitions
from engine.write import law_walk
from processes import diagram_minimum
from tests.engine.versions.test_deploy_validation import _refused

BPMN = Path(PROJECT_ROOT, "bpmn")


def _bundled(name: str) -> str:
    return (BPMN / name).read_text(encoding="utf-8")


def _walk(name: str, text: str) -> list[str]:
    files = [(n, (text if n == name else data.decode("utf-8")).encode("utf-8"))
             for n, data in definitions.bundled_files(BPMN)]
    sources, metas, closures, parser, _ = definitions.analyse(files)
    return law_walk.problems(parser, metas, closures, sources, None)


def test_the_bundled_process_does_what_the_law_needs():
    files = definitions.bundled_files(BPMN)
    sources, metas, closures, parser, _ = definitions.analyse(files)
    spec, subs = parser.get_spec("kap12_sak"), parser.get_subprocess_specs("kap12_sak")
    met = {walk.when: law_walk.walk_forms(walk, spec, subs, metas, None) for walk in diagram_minimum.WALKS}
    assert all(end == law_walk.ENDED for _, end in met.values())
    assert met[diagram_minimum.WALKS[0].when][0] == [
        "motta_melding", "undersokelse", "tiltaksplan", "evaluering", "tiltaksplan", "evaluering", "avslutning"]
    assert law_walk.problems(parser, metas, closures, sources, None) == []


def test_swapped_conditions_that_close_a_case_the_pupil_says_is_unsafe_are_refused(sqlite_kap12):
    """The reviewer's own diagram: «ja» and «nei» swapped on the investigation's gateway, so a
    pupil who says it is not safe went straight to the ending, with no plan (it was deployed)."""
    text = _bundled("oppfolging.bpmn")
    swapped = (text.replace("trygt_skolemiljo == 'ja'", "§§")
               .replace("trygt_skolemiljo in ('nei', 'ja_tiltak')", "trygt_skolemiljo == 'ja'")
               .replace("§§", "trygt_skolemiljo in ('nei', 'ja_tiltak')"))
    assert swapped != text
    problems = _refused(sqlite_kap12, swapped.encode("utf-8"), "oppfolging.bpmn")
    assert any("eleven sier at det ikke er trygt og godt" in p and "undersokelse → tiltaksplan → evaluering" in p
               and "§ 12-4" in p and "Saken gikk slik med eksempelsvar: motta_melding → undersokelse → avslutning"
               in p for p in problems), problems


def test_a_procedure_b_without_the_school_owners_notice_is_refused(sqlite_kap12):
    text = _bundled("prosedyre_b.bpmn")
    dropped = text.replace('camunda:formKey="varsle_skoleeier"', 'camunda:formKey="bekreft_varsel"')
    assert dropped != text
    problems = _refused(sqlite_kap12, dropped.encode("utf-8"), "prosedyre_b.bpmn")
    assert any("en ansatt krenker" in p and "varsle_skoleeier → avslutning" in p and "§ 12-5" in p for p in problems)


def test_a_case_that_never_ends_is_refused():
    text = _bundled("oppfolging.bpmn")
    looping = text.replace("evaluering_resultat == 'trygt'", "evaluering_resultat == 'aldri'").replace(
        "evaluering_resultat == 'fortsette'", "evaluering_resultat in ('fortsette', 'trygt')")
    assert looping != text
    problems = _walk("oppfolging.bpmn", looping)
    assert any("kommer ikke til en slutt" in p and "går i ring" in p for p in problems), problems


@pytest.mark.parametrize("walk", diagram_minimum.WALKS, ids=lambda w: f"{w.offender}-{len(w.requirements)}")
def test_every_walk_fails_when_its_first_requirement_is_out_of_order(walk):
    """Each requirement can fail: the order is checked, not only the presence."""
    first = walk.requirements[0].forms
    assert law_walk._in_order(first, list(first))
    assert not law_walk._in_order(first, list(reversed(first)))



def test_every_form_the_law_names_is_a_bundled_form():
    from processes import forms

    named = {key for walk in diagram_minimum.WALKS for r in walk.requirements for key in r.forms}
    named |= {key for walk in diagram_minimum.WALKS for key in walk.answers}
    assert all(forms.get_form(key).key == key for key in named)
