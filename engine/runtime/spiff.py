"""The SpiffWorkflow pieces kap12 uses, configured once: the Camunda-flavoured parser, a
serializer that stores workflow state without the spec, and a script engine whose environment
holds the deadline helpers bound to the engine's clock."""
from __future__ import annotations

import json
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.task import Task

from engine.runtime.calendars import counting_in, current, timer_calendar
from engine.runtime.clock import Clock
from engine.runtime.sandbox import SandboxEnvironment
from processes.deadlines import expression_helpers


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Restores a workflow around spec objects handed in, instead of rebuilding the spec from
    JSON on every load, and writes the state without the spec: the spec lives once per
    definition version (DESIGN.md rule 2)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        # The library's own to_dict converts the spec and every subprocess spec on each call
        # (about a third of a step's serializing) only for dump_state to drop them again. The
        # keys and their order are the library's, less the two specs, so stored states (and
        # the digests of checkpoints) are the same as before.
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict) -> BpmnWorkflow:
        spec, subs = dct.get("spec"), dct.get("subprocess_specs", {})
        if isinstance(spec, dict):
            return super().from_dict(dct)
        dct = dict(dct)
        dct.pop("spec")
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subs, deserializing=True)

        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = deepcopy(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = _SpecFreeWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _make_serializer()


def _with_properties(parser_class: type) -> type:
    """An event parser that keeps the event's camunda:properties as the task spec's extensions,
    as SpiffWorkflow's Camunda parser does for tasks only: a timer's ``kap12.kalender`` is read
    from there at run time."""
    return type(f"Kap12{parser_class.__name__}", (parser_class,),
                {"parse_extensions": CamundaTaskParser.parse_extensions})


_TIMER_HOSTS = [full_tag(t) for t in ("boundaryEvent", "intermediateCatchEvent", "startEvent")]


class _Kap12Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        **{tag: (_with_properties(CamundaParser.OVERRIDE_PARSER_CLASSES[tag][0]),
                 CamundaParser.OVERRIDE_PARSER_CLASSES[tag][1]) for tag in _TIMER_HOSTS},
    }


def new_parser() -> CamundaParser:
    return _Kap12Parser()


class _CalendarAwareScriptEngine(PythonScriptEngine):
    """Evaluates a timer's expression in the calendar the timer names (``kap12.kalender``)."""

    def evaluate(self, task: Task, expression: str, external_context: dict | None = None) -> Any:
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            with counting_in(timer_calendar(task.task_spec, task.data)):
                return super().evaluate(task, expression, external_context)
        return super().evaluate(task, expression, external_context)


def script_engine(clock: Clock) -> PythonScriptEngine:
    """The script engine of every workflow kap12 runs or re-runs: diagram code is evaluated in
    the sandbox (engine/runtime/sandbox.py), with the deadline helpers on the engine's clock,
    each timer's expression in the calendar the timer names."""
    return _CalendarAwareScriptEngine(environment=SandboxEnvironment(expression_helpers(clock.now, current)))


def spec_to_dict(spec: BpmnProcessSpec, subprocess_specs: dict) -> dict:
    return {
        "spec": SERIALIZER.to_dict(spec),
        "subprocess_specs": {name: SERIALIZER.to_dict(s) for name, s in subprocess_specs.items()},
    }


def spec_from_dict(dct: dict) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    spec = SERIALIZER.from_dict(dct["spec"])
    subs = {name: SERIALIZER.from_dict(s) for name, s in dct["subprocess_specs"].items()}
    return spec, subs


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = SERIALIZER.to_dict(workflow)
    dct["serializer_version"] = SERIALIZER_VERSION
    return json.dumps(dct, separators=(",", ":"), ensure_ascii=False)


def load_state(state: str, spec: BpmnProcessSpec, subprocess_specs: dict, engine: PythonScriptEngine) -> BpmnWorkflow:
    dct = json.loads(state)
    dct.pop("serializer_version", None)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = engine
    return workflow
