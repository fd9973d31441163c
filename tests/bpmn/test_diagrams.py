"""The diagrams in bpmn/: structure, diagram interchange, the contract with forms and roles, and
an end-to-end run of every procedure with plain SpiffWorkflow."""

from __future__ import annotations

import ast
import json
import re
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.runtime import sandbox
from engine.runtime.sandbox import SandboxEnvironment
from processes.roles import LANE_ROLES, valid_recipient

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
FORMS_DIR = ROOT / "processes" / "forms"
BPMN_FILES = sorted(BPMN_DIR.glob("*.bpmn"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "scriptTask", "serviceTask", "manualTask", "businessRuleTask",
    "callActivity", "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway",
}
EXPECTED_PROCESSES = {"kap12_sak", "prosedyre_a", "prosedyre_b", "prosedyre_c", "oppfolging", "vent_evaluering", "arshjul"}
TIMER_TYPES = {"frist", "paminnelse", "eskalering"}
CALENDARS = {"klokke", "fylke", "skole", "sak"}


def local(el) -> str:
    return etree.QName(el).localname


def load(path: Path):
    return etree.parse(str(path)).getroot()


def flow_nodes(process):
    return [el for el in process.iter() if isinstance(el.tag, str) and local(el) in FLOW_NODE_TAGS]


def forms() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in FORMS_DIR.glob("*.json")}


def field_names(fields) -> set[str]:
    names = set()
    for f in fields:
        names.add(f["name"])
        names |= field_names(f.get("fields", []))
    return names


def properties(el) -> dict[str, str]:
    return {p.get("name"): p.get("value")
            for p in el.xpath("./bpmn:extensionElements/camunda:properties/camunda:property",
                              namespaces=NS)}


def test_the_expected_diagrams_exist():
    ids = set()
    for path in BPMN_FILES:
        processes = load(path).findall("bpmn:process", NS)
        assert len(processes) == 1, f"{path.name}: one process per file"
        assert processes[0].get("isExecutable") == "true", path.name
        assert path.stem == processes[0].get("id"), f"{path.name}: file named after its process"
        ids.add(processes[0].get("id"))
    assert ids == EXPECTED_PROCESSES


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_every_element_has_diagram_interchange(path):
    root = load(path)
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane is not None
    shapes = {s.get("bpmnElement"): s for s in plane.findall("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}
    process = root.find("bpmn:process", NS)
    for node in flow_nodes(process):
        shape = shapes.get(node.get("id"))
        assert shape is not None, f"{path.name}: no shape for {node.get('id')}"
        bounds = shape.find("dc:Bounds", NS)
        assert bounds is not None and float(bounds.get("width")) > 0
    for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
        assert lane.get("id") in shapes, f"{path.name}: no shape for lane {lane.get('name')}"
    for participant in root.iter(f"{{{NS['bpmn']}}}participant"):
        assert participant.get("id") in shapes, f"{path.name}: no shape for the pool"
    for flow in process.findall("bpmn:sequenceFlow", NS):
        edge = edges.get(flow.get("id"))
        assert edge is not None, f"{path.name}: no edge for {flow.get('id')}"
        points = [(float(w.get("x")), float(w.get("y"))) for w in edge.findall("di:waypoint", NS)]
        assert len(points) >= 2
        for (x0, y0), (x1, y1) in pairwise(points):
            assert x0 == x1 or y0 == y1, f"{path.name}: {flow.get('id')} is not orthogonal"
    # Every element the plane draws exists.
    ids = set(root.xpath("//@id"))
    for ref in list(shapes) + list(edges):
        assert ref in ids, f"{path.name}: diagram refers to unknown {ref}"


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_lanes_forms_and_names(path):
    process = load(path).find("bpmn:process", NS)
    declared = forms()
    lane_of = {}
    for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
        assert lane.get("name") in LANE_ROLES, f"{path.name}: unknown lane {lane.get('name')!r}"
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[ref.text] = lane.get("name")
    for node in flow_nodes(process):
        if local(node) != "boundaryEvent" and not (local(node) == "exclusiveGateway"
                                                   and len(node.findall("bpmn:incoming", NS)) > 1):
            assert node.get("name"), f"{path.name}: {node.get('id')} has no name"
    for task in process.iter(f"{{{NS['bpmn']}}}userTask"):
        key = task.get(f"{{{NS['camunda']}}}formKey")
        assert key, f"{path.name}: {task.get('id')} has no camunda:formKey"
        assert key in declared, f"{path.name}: form {key}.json is missing"
        assert task.get("id") in lane_of, f"{path.name}: {task.get('id')} is in no lane"


def test_forms_are_well_formed():
    types = {"text", "textarea", "date", "datetime", "choice", "multichoice", "boolean",
             "integer", "group", "user"}

    def check(key, fields):
        names = [f["name"] for f in fields]
        assert len(names) == len(set(names)), f"{key}: duplicate field names"
        for f in fields:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", f["name"]), f"{key}: {f['name']}"
            assert f["label"] and f["type"] in types and isinstance(f["required"], bool)
            if f["type"] in ("choice", "multichoice"):
                assert f["choices"] and all(c["value"] and c["label"] for c in f["choices"])
            if f["type"] == "group":
                assert f["fields"] and f.get("min_items", 0) >= 0
                check(key, f["fields"])

    declared = forms()
    assert "meldingsskjema" in declared
    for key, form in declared.items():
        assert form["key"] == key and form["title"] and form["intro"]
        check(key, form["fields"])
    for key in ("undersokelse", "evaluering", "tiltaksplan"):
        stemme = [f for f in declared[key]["fields"] if f["name"] == "elevens_stemme"]
        assert stemme and stemme[0]["required"], f"{key}: the pupil's own voice is required"
    plan = {f["name"]: f for f in declared["tiltaksplan"]["fields"]}
    assert {f["name"] for f in plan["tiltak"]["fields"]} >= {"hva", "nar", "ansvarlig"}
    assert plan["tiltak"]["min_items"] >= 1 and plan["evalueringsdato"]["type"] == "date"
    krenker = {f["name"]: f for f in declared["meldingsskjema"]["fields"]}["krenker_type"]
    assert {c["value"] for c in krenker["choices"]} == {"elev", "ansatt", "ledelse"}


def test_gateway_conditions_read_declared_fields():
    known = set().union(*(field_names(f["fields"]) for f in forms().values()))
    for path in BPMN_FILES:
        process = load(path).find("bpmn:process", NS)
        # Variables that scripts in the diagrams set count as known too.
        for script in process.iter(f"{{{NS['bpmn']}}}script"):
            for node in ast.walk(ast.parse(script.text)):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    known.add(node.id)
        flows = {f.get("id"): f for f in process.findall("bpmn:sequenceFlow", NS)}
        for gw in process.findall("bpmn:exclusiveGateway", NS):
            outgoing = [flows[o.text] for o in gw.findall("bpmn:outgoing", NS)]
            if len(outgoing) > 1:
                for f in outgoing:
                    assert (f.find("bpmn:conditionExpression", NS) is not None
                            or gw.get("default") == f.get("id")), \
                        f"{path.name}: {f.get('id')} from {gw.get('name')} has no condition"
        for cond in process.iter(f"{{{NS['bpmn']}}}conditionExpression"):
            names = {n.id for n in ast.walk(ast.parse(cond.text.strip(), mode="eval"))
                     if isinstance(n, ast.Name)} - {"True", "False", "None"}
            missing = names - known
            assert not missing, f"{path.name}: condition {cond.text!r} reads unknown {missing}"


def test_timers_say_what_they_mean():
    for path in BPMN_FILES:
        process = load(path).find("bpmn:process", NS)
        for definition in process.iter(f"{{{NS['bpmn']}}}timerEventDefinition"):
            event = definition.getparent()
            date_expr = definition.find("bpmn:timeDate", NS)
            assert date_expr is not None and date_expr.text, f"{path.name}: {event.get('id')}"
            props = properties(event)
            assert props.get("kap12.kalender") in CALENDARS, f"{path.name}: {event.get('id')} names no calendar"
            if local(event) != "boundaryEvent":
                continue
            kinds = set(props.get("kap12.type", "").split(","))
            assert kinds and kinds <= TIMER_TYPES, f"{path.name}: {event.get('id')}: {props}"
            if "eskalering" in kinds:
                assert valid_recipient(props.get("kap12.mottaker", ""))
            if kinds & {"paminnelse", "eskalering"} and "frist" not in kinds:
                assert event.get("cancelActivity") == "false"
            if "paminnelse" in kinds:
                assert event.get("cancelActivity") == "false", f"{path.name}: reminders must not interrupt"
            if "eskalering" in kinds and event.get("cancelActivity") != "false":
                # Only the date in the plan may take a step over (carrying out the measures gives
                # way to the evaluation): the deadline then goes on to the next duty.
                assert "frist" in kinds and "evalueringsdato" in date_expr.text, f"{path.name}: {event.get('id')}"


# § 12-5 "straks" (receiving a B or C report, notifying the school owner) never counts in the
# school's days: a school's holidays must not postpone them.
STRAKS = {("prosedyre_b", "Task_motta_melding"), ("prosedyre_c", "Task_motta_melding"),
          ("prosedyre_b", "Task_varsle_skoleeier"), ("prosedyre_a", "Task_varsle_skoleeier"),
          ("prosedyre_b", "Task_bekreft_varsel"), ("prosedyre_b", "Task_identifisere_anklaget"),
          ("prosedyre_c", "Task_identifisere_anklaget"), ("prosedyre_b", "Task_kontradiksjon"),
          ("prosedyre_c", "Task_kontradiksjon")}


def test_at_once_deadlines_never_count_school_days():
    seen = set()
    for path in BPMN_FILES:
        process = load(path).find("bpmn:process", NS)
        for event in process.iter(f"{{{NS['bpmn']}}}boundaryEvent"):
            key = (process.get("id"), event.get("attachedToRef"))
            if key in STRAKS and event.find("bpmn:timerEventDefinition", NS) is not None:
                seen.add(key)
                assert properties(event)["kap12.kalender"] in ("fylke", "klokke"), f"{key}: {event.get('id')}"
    assert seen == STRAKS


def test_the_shared_follow_up_counts_in_the_case_calendar():
    """Investigating, planning and evaluating are «snarest» in A and «straks» in B and C (§ 12-5):
    every working-day timer of the shared follow-up counts in ``sak``, which the procedure
    decides, so no B or C case waits out a school's holidays."""
    process = load(BPMN_DIR / "oppfolging.bpmn").find("bpmn:process", NS)
    timers = [e for e in process.iter(f"{{{NS['bpmn']}}}boundaryEvent")
              if e.find("bpmn:timerEventDefinition", NS) is not None]
    assert timers
    for event in timers:
        assert properties(event)["kap12.kalender"] == "sak", event.get("id")


DUTY_STEPS = {
    "prosedyre_a": {"Task_motta_melding", "Task_varsle_skoleeier"},
    "prosedyre_b": {"Task_identifisere_anklaget", "Task_motta_melding", "Task_varsle_skoleeier",
                    "Task_bekreft_varsel", "Task_kontradiksjon"},
    "prosedyre_c": {"Task_identifisere_anklaget", "Task_motta_melding", "Task_kontradiksjon"},
    "oppfolging": {"Task_undersokelse", "Task_tiltaksplan", "Task_gjennomforing", "Task_evaluering",
                   "Task_revidere", "Task_avslutning"},
}


def test_every_duty_step_has_a_deadline_with_reminder_and_escalation():
    for path in BPMN_FILES:
        process = load(path).find("bpmn:process", NS)
        duties = DUTY_STEPS.get(process.get("id"))
        if not duties:
            continue
        kinds: dict[str, set[str]] = {}
        for event in process.iter(f"{{{NS['bpmn']}}}boundaryEvent"):
            if event.find("bpmn:timerEventDefinition", NS) is not None:
                kinds.setdefault(event.get("attachedToRef"), set()).update(
                    properties(event).get("kap12.type", "").split(","))
        for task in duties:
            assert {"frist", "paminnelse", "eskalering"} <= kinds.get(task, set()), f"{path.name}: {task}"


def parser() -> CamundaParser:
    p = CamundaParser()
    for path in BPMN_FILES:
        p.add_bpmn_file(str(path))
    return p


def test_spiffworkflow_parses_every_process():
    p = parser()
    for process_id in EXPECTED_PROCESSES:
        spec = p.get_spec(process_id)
        assert spec.name == process_id
    subprocesses = p.get_subprocess_specs("kap12_sak")
    assert {"prosedyre_a", "prosedyre_b", "prosedyre_c", "oppfolging"} <= set(subprocesses)


# --- end to end ---------------------------------------------------------------------------

OSLO = timezone(timedelta(hours=1))


class Clock:
    now = datetime(2025, 3, 3, 9, 0, tzinfo=OSLO)   # a Monday morning


class FakeDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return Clock.now.astimezone(tz) if tz else Clock.now.replace(tzinfo=None)


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def stand_in_helpers() -> dict:
    """Simple stand-ins for the deadline helpers (calendar days instead of working days)."""
    return {
        "arbeidstimer": lambda n: _iso(Clock.now + timedelta(hours=n)),
        "slutt_arbeidsdag": lambda: _iso(Clock.now.replace(hour=16, minute=0)
                                         if Clock.now.hour < 16
                                         else Clock.now.replace(hour=16, minute=0)
                                         + timedelta(days=1)),
        "arbeidsdager": lambda n: _iso((Clock.now + timedelta(days=n)).replace(hour=16,
                                                                                minute=0)),
        "dato_kl": lambda dato, kl="08:00": _iso(datetime.combine(
            date.fromisoformat(dato), time.fromisoformat(kl), OSLO)),
        "arbeidsdager_for": lambda dato, n: _iso(datetime.combine(
            date.fromisoformat(dato) - timedelta(days=n), time(8, 0), OSLO)),
    }


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))


class Case:
    """Drives one case through plain SpiffWorkflow, round-tripping the state through the
    serializer after every step as the engine does."""

    def __init__(self, monkeypatch, data):
        monkeypatch.setattr(timer_module, "datetime", FakeDatetime)
        Clock.now = datetime(2025, 3, 3, 9, 0, tzinfo=OSLO)
        p = parser()
        # The sandbox kap12 runs diagram code in: the bundled diagrams must work inside it.
        self.engine = PythonScriptEngine(environment=SandboxEnvironment(stand_in_helpers()))
        self.wf = BpmnWorkflow(p.get_spec("kap12_sak"), p.get_subprocess_specs("kap12_sak"),
                               script_engine=self.engine)
        self.wf.get_tasks(state=TaskState.READY)[0].data.update(data)
        self.done: list[str] = []
        self.step()

    def step(self):
        self.wf.refresh_timers()
        self.wf.do_engine_steps()
        self.wf = SERIALIZER.deserialize_json(SERIALIZER.serialize_json(self.wf))
        self.wf.script_engine = self.engine

    def ready(self) -> dict[str, object]:
        return {t.task_spec.bpmn_name: t for t in self.wf.get_tasks(state=TaskState.READY)
                if t.task_spec.__class__.__name__ == "UserTask"}

    def lane(self, name):
        return self.ready()[name].task_spec.lane

    def complete(self, name, **data):
        ready = self.ready()
        assert name in ready, f"{name!r} is not ready; ready: {sorted(ready)}"
        task = ready[name]
        task.data.update(data)
        task.run()
        self.done.append(name)
        self.step()

    def advance(self, **delta):
        Clock.now = Clock.now + timedelta(**delta)
        self.step()

    def send_reclassification(self, krenker_type, **extra):
        event = BpmnEvent(MessageEventDefinition("omklassifisering"),
                          {"payload": {"krenker_type": krenker_type, "begrunnelse": "Ny info", **extra},
                           "result_var": "omklassifisering"})
        self.wf.send_event(event)
        self.step()

    def fired(self, spec_name) -> bool:
        return any(t.task_spec.name == spec_name and t.state == TaskState.COMPLETED
                   for t in self.wf.get_tasks())

    @property
    def data(self):
        if self.wf.completed:
            return self.wf.data
        return next(iter(self.ready().values())).data


MELDING = {
    "anklaget_bruker": None, "berorte_elever": "Kari Nordmann", "klasse": "1STA", "hva_skjedde": "Utestengt og kalt navn",
    "tid_og_sted": "Kantina, friminutt", "kjent_dato": "2025-03-03",
    "meldt_pa_vegne_av": "meg_selv", "elevens_beskrivelse": "Ingen vil være med meg.",
}
UNDERSOKELSE_NEI = {"elevens_stemme": "Jeg gruer meg til friminuttene.",
                    "samtale_elev_dato": "2025-03-04", "vurdering": "Eleven er utestengt.",
                    "trygt_skolemiljo": "nei"}
PLAN = {"problem": "Utestenging i friminutt",
        "tiltak": [{"hva": "Voksen i kantina", "nar": "Hvert friminutt", "ansvarlig": "Kontaktlærer"}],
        "elevens_stemme": "Eleven har vært med på å foreslå tiltakene.",
        "elevens_beste": "Eleven trenger trygge friminutt først."}


def run_follow_up(case: Case, lane: str):
    """Investigate (not safe), plan, two evaluation rounds ('fortsette', then 'revidere'), and a
    third that finds the pupil safe."""
    assert case.lane("Undersøke saken") == lane
    case.complete("Undersøke saken", **UNDERSOKELSE_NEI)
    case.complete("Utarbeide tiltaksplan", evalueringsdato="2025-03-17", **PLAN)
    case.complete("Gjennomføre tiltak", gjennomfort="Voksen i kantina hver dag.")
    assert "Evaluere tiltakene" not in case.ready()           # waits for the evaluation date
    case.advance(days=14)                                       # 17 March, after 08:00
    case.complete("Evaluere tiltakene", elevens_stemme="Litt bedre.", effekt_tiltak="Noe effekt",
                  evaluering_resultat="fortsette", evalueringsdato="2025-03-31")
    case.complete("Gjennomføre tiltak", gjennomfort="Fortsatt tilsyn.")
    assert "Evaluere tiltakene" not in case.ready()
    case.advance(days=14)                                       # 31 March
    case.complete("Evaluere tiltakene", elevens_stemme="Fortsatt vondt i gymmen.",
                  effekt_tiltak="Virker i kantina, ikke i gymmen",
                  evaluering_resultat="revidere")
    case.complete("Revidere tiltaksplan", evalueringsdato="2025-04-14", **PLAN)
    # Nobody records the carrying out: the evaluation opens on the plan's date all the same.
    case.advance(days=14)
    assert case.fired("Timer_frist_gjennomforing") and "Gjennomføre tiltak" not in case.ready()
    case.complete("Evaluere tiltakene", elevens_stemme="Nå har jeg det bra.",
                  effekt_tiltak="God effekt", evaluering_resultat="trygt")
    case.complete("Avslutte og dokumentere saken", oppsummering="Eleven har det trygt.",
                  elevens_stemme="Jeg trives.", foresatte_informert=True)


def test_procedure_a_serious_case(monkeypatch):
    case = Case(monkeypatch, dict(MELDING, krenker_type="elev"))
    assert case.lane("Motta og registrere melding") == "Skoleledelse"
    case.complete("Motta og registrere melding", mottatt_vurdering="Tas på alvor.",
                  alvorlig_sak=True)
    # The notice to the school owner runs beside the investigation; neither waits.
    assert {"Varsle skoleeier", "Undersøke saken"} <= set(case.ready())
    assert case.lane("Varsle skoleeier") == "Rektor"
    assert case.ready()["Undersøke saken"].data["saksansvarlig_rolle"] == "avdelingsleder"
    case.advance(hours=8)                                       # the notice is late: escalated
    assert case.fired("Timer_frist_varsel") and "Varsle skoleeier" in case.ready()
    case.complete("Varsle skoleeier", varslet_tidspunkt="2025-03-03T12:00",
                  varslet_hvem="Skolesjef", varslet_hvordan="telefon", varsel_innhold="Sak")
    run_follow_up(case, "Saksansvarlig")
    assert case.wf.completed
    assert case.data["prosedyre"] == "A"


def test_procedure_a_late_receipt_is_escalated_to_rektor(monkeypatch):
    case = Case(monkeypatch, dict(MELDING, krenker_type="elev"))
    case.advance(hours=1)
    assert not case.fired("Timer_paminnelse_mottak")
    case.advance(hours=2)                                       # 12:00: the reminder has fired
    assert case.fired("Timer_paminnelse_mottak") and not case.fired("Timer_frist_mottak")
    assert set(case.ready()) == {"Motta og registrere melding"}
    case.advance(hours=5)                                       # 17:00: the deadline has passed
    assert case.lane("Følg opp forsinket mottak") == "Rektor"
    assert "Motta og registrere melding" in case.ready()        # still open: not interrupted
    case.complete("Følg opp forsinket mottak", oppfolging="Avdelingsleder tar den nå.")
    case.complete("Motta og registrere melding", mottatt_vurdering="Sent, men mottatt.",
                  alvorlig_sak=False)
    assert "Varsle skoleeier" not in case.ready()
    case.advance(days=6)                                        # the investigation is overdue
    assert case.fired("Timer_paminnelse_undersokelse") and case.fired("Timer_frist_undersokelse")
    assert "Undersøke saken" in case.ready()
    case.complete("Undersøke saken", elevens_stemme="Det går fint nå.",
                  samtale_elev_dato="2025-03-10", vurdering="Trygt.", trygt_skolemiljo="ja")
    case.complete("Avslutte og dokumentere saken", oppsummering="Ok", elevens_stemme="Fint",
                  foresatte_informert=True)
    assert case.wf.completed


def test_procedure_b(monkeypatch):
    case = Case(monkeypatch, dict(MELDING, krenker_type="ansatt", krenker_navn="Ola Lærer",
                                  anklaget_bruker="ola"))
    assert case.lane("Motta melding") == "Rektor"
    assert "Identifisere den anklagede" not in case.ready()
    case.complete("Motta melding", mottatt_vurdering="Skjerpet aktivitetsplikt.")
    # § 12-5: the investigation, the hearing and the notice all start at once.
    ready = case.ready()
    assert {"Varsle skoleeier straks", "Undersøke saken",
            "Informere den anklagede og innhente tilsvar (kontradiksjon)"} <= set(ready)
    assert ready["Informere den anklagede og innhente tilsvar (kontradiksjon)"] \
        .task_spec.lane == "Rektor"
    assert ready["Undersøke saken"].data["saksansvarlig_rolle"] == "rektor"
    case.advance(hours=8)                                       # the notice to skoleeier is late
    assert case.lane("Følg opp manglende varsel") == "Skoleeier"
    case.complete("Følg opp manglende varsel", kontakt_med_rektor="Ringte rektor.")
    case.complete("Varsle skoleeier straks", varslet_tidspunkt="2025-03-04T08:30",
                  varslet_hvem="Skolesjef", varslet_hvordan="telefon", varsel_innhold="Sak")
    assert case.lane("Bekrefte mottatt varsel") == "Skoleeier"
    case.complete("Informere den anklagede og innhente tilsvar (kontradiksjon)",
                  informert_dato="2025-03-04", informert_om="Saken", tilsvar="Avviser.")
    run_follow_up(case, "Saksansvarlig")
    assert not case.wf.completed                                # the owner's acknowledgement is open
    case.complete("Bekrefte mottatt varsel", mottatt_av="Skolesjef",
                  skoleeiers_vurdering="Følger saken.")
    assert case.wf.completed


def test_procedure_b_without_a_named_accused_starts_by_identifying_them(monkeypatch):
    case = Case(monkeypatch, dict(MELDING, krenker_type="ansatt", krenker_navn="En lærer"))
    # The school owner is told at once, beside identifying the accused: nothing holds it up.
    assert set(case.ready()) == {"Identifisere den anklagede", "Varsle skoleeier straks"}
    assert case.lane("Identifisere den anklagede") == "Rektor"
    case.complete("Identifisere den anklagede", anklaget_bruker="ola", krenker_navn="Ola Lærer",
                  hvordan_identifisert="Samtale med eleven.")
    assert set(case.ready()) == {"Motta melding", "Varsle skoleeier straks"}


def test_procedure_c(monkeypatch):
    unnamed = Case(monkeypatch, dict(MELDING, krenker_type="ledelse"))
    assert set(unnamed.ready()) == {"Identifisere den anklagede"}
    assert unnamed.lane("Identifisere den anklagede") == "Skoleeier"
    case = Case(monkeypatch, dict(MELDING, krenker_type="ledelse", anklaget_bruker="rektor1"))
    assert case.lane("Motta melding") == "Skoleeier"
    case.complete("Motta melding", mottatt_vurdering="Skoleledelsen holdes utenfor.")
    assert case.ready()["Undersøke saken"].data["saksansvarlig_rolle"] == "skoleeier"
    assert case.ready()["Informere den anklagede og innhente tilsvar (kontradiksjon)"] \
        .task_spec.lane == "Skoleeier"
    case.complete("Informere den anklagede og innhente tilsvar (kontradiksjon)",
                  informert_dato="2025-03-04", informert_om="Saken", tilsvar="Avviser.")
    run_follow_up(case, "Saksansvarlig")
    assert case.wf.completed


def test_reclassification_moves_a_case_from_a_to_b(monkeypatch):
    case = Case(monkeypatch, dict(MELDING, krenker_type="elev"))
    case.complete("Motta og registrere melding", mottatt_vurdering="Mottatt.",
                  alvorlig_sak=False)
    assert "Undersøke saken" in case.ready()
    case.send_reclassification("ansatt", anklaget_bruker="ola")   # names the accused employee
    ready = case.ready()
    assert set(ready) == {"Motta melding", "Varsle skoleeier straks"} and ready["Motta melding"].task_spec.lane == "Rektor"
    assert case.data["prosedyre"] == "B"
    assert case.data["krenker_type"] == "ansatt" and case.data["anklaget_bruker"] == "ola"


def test_every_timer_expression_evaluates_to_an_aware_iso_datetime():
    helpers = dict(stand_in_helpers(), klokketimer=lambda n: _iso(Clock.now + timedelta(hours=n)))
    data = {"evalueringsdato": "2025-03-17", "skolear": 2025}
    for path in BPMN_FILES:
        for expr in load(path).iter(f"{{{NS['bpmn']}}}timeDate"):
            value = sandbox.evaluate(expr.text, data, helpers)
            assert datetime.fromisoformat(value).tzinfo is not None, expr.text
