"""Deploying broken diagrams: one plain sentence per problem, naming the element; nothing stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import DeployRefused
from engine.store.models import DefinitionVersion, HistoryEvent
from tests.support.diagrams import diagram


def _refused(kap12, data: bytes, name="test.bpmn") -> list[str]:
    with kap12.db.reading() as s:
        before = (s.scalar(select(func.count()).select_from(DefinitionVersion)),
                  s.scalar(select(func.count()).select_from(HistoryEvent)))
    with pytest.raises(DeployRefused) as err:
        kap12.deploy([(name, data)], actor=None, comment="test")
    with kap12.db.reading() as s:
        after = (s.scalar(select(func.count()).select_from(DefinitionVersion)),
                 s.scalar(select(func.count()).select_from(HistoryEvent)))
    assert after == before, "a refused deploy must store nothing"
    assert err.value.problems and all(p.endswith(".") for p in err.value.problems)
    return err.value.problems


def test_the_valid_test_diagram_deploys(sqlite_kap12):
    results = sqlite_kap12.deploy([("test.bpmn", diagram())], actor=None, comment="ok")
    assert [(r.process_id, r.version, r.created) for r in results] == [("test_prosess", 1, True)]


def test_not_xml(sqlite_kap12):
    [problem] = _refused(sqlite_kap12, b"this is not <xml")
    assert problem.startswith("Filen test.bpmn er ikke gyldig XML")


def test_not_bpmn(sqlite_kap12):
    [problem] = _refused(sqlite_kap12, b'<?xml version="1.0"?><html><body/></html>')
    assert "ikke et BPMN 2.0-diagram" in problem and "«html»" in problem


def test_no_executable_process(sqlite_kap12):
    [problem] = _refused(sqlite_kap12, diagram(executable="false"))
    assert "ingen kjørbar prosess" in problem


def test_unsupported_element(sqlite_kap12):
    problems = _refused(sqlite_kap12, diagram(extra='<bpmn:complexGateway id="Kompleks" name="Kompleks port"/>',
                                              extra_di='<bpmndi:BPMNShape id="K_di" bpmnElement="Kompleks">'
                                                       '<dc:Bounds x="0" y="0" width="50" height="50"/></bpmndi:BPMNShape>'))
    assert any("«Kompleks port» (Kompleks)" in p and "complexGateway" in p for p in problems)


def test_lane_with_no_role(sqlite_kap12):
    problems = _refused(sqlite_kap12, diagram(lane="Vaktmester"))
    assert any(p.startswith("Svømmebanen «Vaktmester»") and "svarer ikke til noen rolle" in p for p in problems)


def test_user_task_whose_form_does_not_exist(sqlite_kap12):
    problems = _refused(sqlite_kap12, diagram(form="finnes_ikke"))
    assert problems == ["Brukeroppgaven «Motta melding» (Oppgave) viser til skjemaet «finnes_ikke», som ikke finnes."]


def test_user_task_without_form(sqlite_kap12):
    problems = _refused(sqlite_kap12, diagram(form=""))
    assert problems == ["Brukeroppgaven «Motta melding» (Oppgave) har ikke noe skjema (camunda:formKey)."]


@pytest.mark.parametrize("expression", ["arbeidsdagr(5)", "'i morgen'", "arbeidsdager(", "42"])
def test_timer_expression_that_does_not_evaluate(sqlite_kap12, expression):
    [problem] = _refused(sqlite_kap12, diagram(timer=expression))
    assert problem.startswith(f"Tidsuttrykket «{expression}» på hendelsen «Frist» (Frist) kan ikke beregnes")


def test_missing_diagram_interchange(sqlite_kap12):
    problems = _refused(sqlite_kap12, diagram(draw_task=False))
    assert problems == ["Brukeroppgaven «Motta melding» (Oppgave) i prosessen «test_prosess» mangler tegning "
                        "(diagram interchange)."]


def test_call_activity_to_a_process_that_does_not_exist(sqlite_kap12):
    extra = '<bpmn:callActivity id="Kall" name="Kall" calledElement="finnes_ikke"/>'
    extra_di = '<bpmndi:BPMNShape id="Kall_di" bpmnElement="Kall"><dc:Bounds x="0" y="0" width="9" height="9"/></bpmndi:BPMNShape>'
    problems = _refused(sqlite_kap12, diagram(extra=extra, extra_di=extra_di))
    assert any("finnes_ikke" in p for p in problems)


def test_oversized_file(sqlite_kap12):
    [problem] = _refused(sqlite_kap12, diagram(extra="<!--" + "x" * 3_000_000 + "-->"))
    assert "er for stor" in problem


def test_external_entities_are_not_resolved(sqlite_kap12, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("HEMMELIG")
    data = diagram().replace(b'<?xml version="1.0" encoding="UTF-8"?>\n',
                             f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'.encode())
    data = data.replace(b'name="Test"', b'name="&x;"')
    try:
        results = sqlite_kap12.deploy([("test.bpmn", data)], actor=None, comment="xxe")
    except DeployRefused:
        return  # refusing is fine too; leaking is not
    with sqlite_kap12.db.reading() as s:
        row = s.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == results[0].process_id)).one()
    assert "HEMMELIG" not in row.name and "HEMMELIG" not in str(row.sources)


def test_latin1_file_deploys(sqlite_kap12):
    data = diagram().decode("utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        'name="Test"', 'name="Prøve på særtegn"').encode("latin-1")
    [result] = sqlite_kap12.deploy([("latin1.bpmn", data)], actor=None, comment="latin-1")
    with sqlite_kap12.db.reading() as s:
        row = s.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == "test_prosess")).one()
        assert row.name == "Prøve på særtegn"
    assert result.created


def test_several_problems_are_all_reported(sqlite_kap12):
    problems = _refused(sqlite_kap12, diagram(lane="Vaktmester", form="finnes_ikke", timer="nei("))
    assert len(problems) == 3


def test_a_timer_must_name_its_calendar(sqlite_kap12):
    [problem] = _refused(sqlite_kap12, diagram(calendar=""))
    assert "«Frist» (Frist)" in problem and "kap12.kalender" in problem and "fylke" in problem


def test_an_unknown_calendar_is_refused(sqlite_kap12):
    [problem] = _refused(sqlite_kap12, diagram(calendar="ferie"))
    assert "ukjent kalender «ferie»" in problem


def test_clock_hours_refuse_working_day_helpers(sqlite_kap12):
    [problem] = _refused(sqlite_kap12, diagram(calendar="klokke", timer="arbeidsdager(1)"))
    assert "klokketimer" in problem and "arbeidsdager(1)" in problem
    [result] = sqlite_kap12.deploy([("klokke.bpmn", diagram(calendar="klokke", timer="klokketimer(2)"))],
                                   actor=None, comment="klokketimer")
    assert result.created
