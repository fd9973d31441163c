"""Re-reading a stored version's diagrams for the auditors: which sequence flow joins two
elements, and which elements each process has (through the one safe XML parse)."""
from __future__ import annotations

from engine.store.models import DefinitionVersion
from engine.versions.diagram_check import safe_parse

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def sequence_flows(version: DefinitionVersion) -> dict[str, dict[tuple[str, str], str]]:
    """process id -> {(source element, target element): sequence flow id}."""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for source in (version.sources or {}).values():
        root = safe_parse(source["xml"].encode("utf-8"))
        for process in root.iter(f"{BPMN}process"):
            flows = out.setdefault(process.get("id"), {})
            for flow in process.iter(f"{BPMN}sequenceFlow"):
                flows[(flow.get("sourceRef"), flow.get("targetRef"))] = flow.get("id")
    return out


def elements(version: DefinitionVersion) -> dict[str, set[str]]:
    """process id -> ids of its flow elements."""
    out: dict[str, set[str]] = {}
    for source in (version.sources or {}).values():
        root = safe_parse(source["xml"].encode("utf-8"))
        for process in root.iter(f"{BPMN}process"):
            ids = out.setdefault(process.get("id"), set())
            for el in process.iter():
                if isinstance(el.tag, str) and el.get("id") and el is not process:
                    ids.add(el.get("id"))
    return out
