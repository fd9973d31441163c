"""Diagram texts the tests deploy: a small valid process to vary one part at a time, the
bundled procedure A with changes, and the corpus of diagrams from other tools with what each
must give. Data and text only; nothing here touches an engine."""
from __future__ import annotations

import re
from pathlib import Path

from engine.config import PROJECT_ROOT

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" targetNamespace="http://kap12.no/test">')


def diagram(*, lane="Skoleledelse", form="motta_melding", timer="arbeidstimer(2)", extra="", extra_di="",
            executable="true", task_tag="userTask", draw_task=True, calendar="fylke") -> bytes:
    shapes = ["Start", "Frist", "Slutt", "Slutt2"] + (["Oppgave"] if draw_task else [])
    di = "".join(f'<bpmndi:BPMNShape id="{s}_di" bpmnElement="{s}"><dc:Bounds x="0" y="0" width="36" height="36"/>'
                 f'</bpmndi:BPMNShape>' for s in shapes)
    di += "".join(f'<bpmndi:BPMNEdge id="{e}_di" bpmnElement="{e}"><di:waypoint x="0" y="0"/><di:waypoint x="1" y="0"/>'
                  f'</bpmndi:BPMNEdge>' for e in ("F1", "F2", "F3"))
    form_attr = f' camunda:formKey="{form}"' if form else ""
    calendar_prop = f'<camunda:property name="kap12.kalender" value="{calendar}"/>' if calendar else ""
    return (HEAD + f'''
<bpmn:process id="test_prosess" name="Test" isExecutable="{executable}">
  <bpmn:laneSet id="LS"><bpmn:lane id="Lane1" name="{lane}">
    <bpmn:flowNodeRef>Start</bpmn:flowNodeRef><bpmn:flowNodeRef>Oppgave</bpmn:flowNodeRef>
  </bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="Start" name="Start"/>
  <bpmn:{task_tag} id="Oppgave" name="Motta melding"{form_attr}/>
  <bpmn:boundaryEvent id="Frist" name="Frist" attachedToRef="Oppgave" cancelActivity="false">
    <bpmn:extensionElements><camunda:properties><camunda:property name="kap12.type" value="frist"/>{calendar_prop}</camunda:properties></bpmn:extensionElements>
    <bpmn:timerEventDefinition><bpmn:timeDate xsi:type="bpmn:tFormalExpression">{timer}</bpmn:timeDate></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:endEvent id="Slutt" name="Slutt"/>
  <bpmn:endEvent id="Slutt2" name="Slutt 2"/>
  <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Oppgave"/>
  <bpmn:sequenceFlow id="F2" sourceRef="Oppgave" targetRef="Slutt"/>
  <bpmn:sequenceFlow id="F3" sourceRef="Frist" targetRef="Slutt2"/>
  {extra}
</bpmn:process>
<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="test_prosess">{di}{extra_di}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>''').encode("utf-8")


NEW_TASK = "Snakke med foresatte"


def prosedyre_a(*, new_task: bool = False, rename_motta: str | None = None, mottak_frist: str | None = None) -> bytes:
    """prosedyre_a.bpmn, optionally with a user task inserted after «Motta og registrere
    melding» (in the lane Skoleledelse, with an existing form) or with elements changed."""
    xml = (PROJECT_ROOT / "bpmn" / "prosedyre_a.bpmn").read_text(encoding="utf-8")
    if new_task:
        xml = xml.replace('<bpmn:flowNodeRef>Task_motta_melding</bpmn:flowNodeRef>',
                          '<bpmn:flowNodeRef>Task_motta_melding</bpmn:flowNodeRef>'
                          '<bpmn:flowNodeRef>Task_foresatte</bpmn:flowNodeRef>', 1)
        xml = xml.replace(
            '<bpmn:sequenceFlow id="Flow_Task_motta_melding_Gw_alvorlig" sourceRef="Task_motta_melding" targetRef="Gw_alvorlig"/>',
            '<bpmn:sequenceFlow id="Flow_Task_motta_melding_Gw_alvorlig" sourceRef="Task_motta_melding" targetRef="Task_foresatte"/>'
            f'<bpmn:userTask id="Task_foresatte" name="{NEW_TASK}" camunda:formKey="gjennomforing">'
            '<bpmn:incoming>Flow_Task_motta_melding_Gw_alvorlig</bpmn:incoming>'
            '<bpmn:outgoing>Flow_foresatte_alvorlig</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="Flow_foresatte_alvorlig" sourceRef="Task_foresatte" targetRef="Gw_alvorlig"/>')
        xml = xml.replace('<bpmn:outgoing>Flow_Task_motta_melding_Gw_alvorlig</bpmn:outgoing>\n    </bpmn:userTask>',
                          '<bpmn:outgoing>Flow_Task_motta_melding_Gw_alvorlig</bpmn:outgoing>\n    </bpmn:userTask>', 1)
        xml = xml.replace('<bpmn:incoming>Flow_Task_motta_melding_Gw_alvorlig</bpmn:incoming>\n      <bpmn:outgoing>Flow_Gw_alvorlig_Task',
                          '<bpmn:incoming>Flow_foresatte_alvorlig</bpmn:incoming>\n      <bpmn:outgoing>Flow_Gw_alvorlig_Task', 1)
        xml = xml.replace(
            '<bpmndi:BPMNEdge id="Flow_Task_motta_melding_Gw_alvorlig_di" bpmnElement="Flow_Task_motta_melding_Gw_alvorlig">\n'
            '        <di:waypoint x="620" y="160"/>\n        <di:waypoint x="925" y="160"/>',
            '<bpmndi:BPMNShape id="Task_foresatte_di" bpmnElement="Task_foresatte"><dc:Bounds x="700" y="115" width="140" height="90"/></bpmndi:BPMNShape>'
            '<bpmndi:BPMNEdge id="Flow_foresatte_alvorlig_di" bpmnElement="Flow_foresatte_alvorlig">'
            '<di:waypoint x="840" y="160"/><di:waypoint x="925" y="160"/></bpmndi:BPMNEdge>'
            '<bpmndi:BPMNEdge id="Flow_Task_motta_melding_Gw_alvorlig_di" bpmnElement="Flow_Task_motta_melding_Gw_alvorlig">\n'
            '        <di:waypoint x="620" y="160"/>\n        <di:waypoint x="700" y="160"/>')
        assert xml.count("Task_foresatte") >= 5
    if rename_motta:
        xml = xml.replace('name="Motta og registrere melding"', f'name="{rename_motta}"')
    if mottak_frist:
        xml = xml.replace(">slutt_arbeidsdag()<", f">{mottak_frist}<")
    return xml.encode("utf-8")


CORPUS = Path(__file__).resolve().parents[1] / "engine" / "versions" / "corpus"

# file -> the processes it deploys, or a phrase every refusal must contain
CORPUS_EXPECTED: dict[str, list[str] | str] = {
    "bpmnjs_colors.bpmn": ["korpus_farger"],
    "signavio.bpmn": ["korpus_signavio"],
    "camunda7_extras.bpmn": ["korpus_camunda7"],
    "latin1_encoding.bpmn": ["korpus_latin1"],
    "collaboration_two_processes.bpmn": ["korpus_samarbeid_a", "korpus_samarbeid_b"],
    "camunda8_zeebe.bpmn": "har ikke noe skjema (camunda:formKey)",
    "elements_kap12_does_not_run.bpmn": "som kap12 ikke kan kjøre",
    "no_executable_process.bpmn": "ingen kjørbar prosess",
    "unknown_lane.bpmn": "svarer ikke til noen rolle",
    "broken.bpmn": "ikke gyldig XML",
    "entity_expansion.bpmn": "ikke gyldig XML",
    "not_bpmn.xml": "ikke et BPMN 2.0-diagram",
}


def renamed_first_task(text: str, prefix: str) -> str:
    """The diagram text with its first user task's name prefixed: new content, still valid."""
    return re.sub(r'(<bpmn:userTask id="[^"]+" name=")', lambda m: m[1] + prefix, text, count=1)


def deploy_unwalked(kap12, files: list[tuple[str, bytes]], comment: str) -> list:
    """Store diagrams as a release before the law's walk at deploy (engine/write/law_walk.py)
    would have, or as one whose failure the walk's example answers never meet: the safety nets
    for a diagram that fails while a case runs must hold for those too."""
    from engine.versions import definitions

    with kap12.db.writing() as session:
        return definitions.deploy(session, files, actor_id=None, comment=comment, now=kap12.clock.now(),
                                  forms=kap12.forms.all(session))
