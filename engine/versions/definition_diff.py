"""What changed between two deployed versions of a process, element by element.

Elements are matched by their BPMN id. For each one kap12 compares what it reads of it: the
type, the name, the form (camunda:formKey), the timer expression and its kap12 properties, the
condition of a flow, the script, the process a call activity calls and the lane it sits in.
The result is meant for a process owner: a list of added, removed and changed elements with
plain Norwegian labels, and the ids to mark on the drawn diagram."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from engine.versions.diagram_check import BPMN_NS, CAMUNDA_NS, NOT_FLOW, NS, safe_parse

if TYPE_CHECKING:  # rows are passed in; this module reads only their sources
    from engine.store.models import DefinitionVersion

# The attributes compared, with the label a process owner reads.
LABELS = {
    "type": "type", "name": "navn", "form": "skjema", "timer": "tidsuttrykk", "kinds": "kap12.type",
    "recipient": "kap12.mottaker", "calendar": "kap12.kalender", "condition": "betingelse", "script": "skript", "calls": "kaller",
    "lane": "svømmebane", "attached_to": "festet til", "source": "fra", "target": "til",
}
_SKIP = NOT_FLOW - {"sequenceFlow"} | {"laneSet", "lane", "flowNodeRef", "incoming", "outgoing", "script",
                                       "conditionExpression", "timerEventDefinition", "timeDate",
                                       "timeDuration", "timeCycle", "messageEventDefinition"}


TYPE_WORDS = {
    "userTask": "brukeroppgave", "scriptTask": "skriptoppgave", "manualTask": "manuell oppgave", "task": "oppgave",
    "sequenceFlow": "flyt", "exclusiveGateway": "eksklusiv port", "parallelGateway": "parallell port",
    "inclusiveGateway": "inklusiv port", "eventBasedGateway": "hendelsesport", "startEvent": "start",
    "endEvent": "slutt", "boundaryEvent": "hendelse på kanten", "intermediateCatchEvent": "mellomliggende hendelse",
    "intermediateThrowEvent": "mellomliggende hendelse", "callActivity": "kallaktivitet", "subProcess": "delprosess",
}


@dataclass(frozen=True)
class ElementChange:
    process_id: str
    element_id: str
    kind: str  # "added", "removed" or "changed"
    type: str
    name: str
    changes: tuple[tuple[str, str, str], ...] = ()  # (label, before, after)

    def sentence(self) -> str:
        word = TYPE_WORDS.get(self.type, self.type)
        what = f"{word} «{self.name}» ({self.element_id})" if self.name else f"{word} {self.element_id}"
        if self.kind == "added":
            return f"Lagt til: {what}."
        if self.kind == "removed":
            return f"Fjernet: {what}."
        parts = "; ".join(f"{label}: «{before or '–'}» → «{after or '–'}»" for label, before, after in self.changes)
        return f"Endret: {what} – {parts}."


@dataclass
class DefinitionDiff:
    changes: list[ElementChange] = field(default_factory=list)
    processes_added: list[str] = field(default_factory=list)
    processes_removed: list[str] = field(default_factory=list)
    # Processes whose stored text no longer parses (stored by an older kap12): reported on the
    # version page instead of failing it.
    unreadable: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.changes or self.processes_added or self.processes_removed or self.unreadable)

    def of_kind(self, kind: str) -> list[ElementChange]:
        return [c for c in self.changes if c.kind == kind]

    def markers(self, process_id: str) -> dict[str, list[str]]:
        """Element ids to mark on the new version's diagram of ``process_id``."""
        return {kind: [c.element_id for c in self.changes if c.process_id == process_id and c.kind == kind]
                for kind in ("added", "changed", "removed")}


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def read_elements(xml: str, process_id: str) -> dict[str, dict]:
    """{element id: {attribute: value}} for the flow elements of one process in ``xml``."""
    tree = safe_parse(xml.encode("utf-8"))
    process = tree.find(f"bpmn:process[@id='{process_id}']", NS)
    if process is None:
        return {}
    lane_of = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[(ref.text or "").strip()] = (lane.get("name") or lane.get("id") or "").strip()
    elements: dict[str, dict] = {}
    for el in process.iter():
        tag = _local(el.tag)
        if not tag or tag in _SKIP or el is process or not el.get("id"):
            continue
        info = {"type": tag, "name": (el.get("name") or "").strip()}
        if tag == "lane":
            continue
        if tag == "userTask":
            info["form"] = el.get(f"{{{CAMUNDA_NS}}}formKey") or ""
        if tag == "scriptTask":
            info["script"] = _text(el, "bpmn:script")
        if tag == "callActivity":
            info["calls"] = el.get("calledElement") or ""
        if tag == "boundaryEvent":
            info["attached_to"] = el.get("attachedToRef") or ""
        if tag == "sequenceFlow":
            info["condition"] = _text(el, "bpmn:conditionExpression")
            info["source"], info["target"] = el.get("sourceRef") or "", el.get("targetRef") or ""
        timer = el.find("bpmn:timerEventDefinition", NS)
        if timer is not None:
            exprs = [c for c in timer if _local(c.tag) in ("timeDate", "timeDuration", "timeCycle")]
            info["timer"] = f"{_local(exprs[0].tag)}: {(exprs[0].text or '').strip()}" if exprs else ""
            props = {p.get("name"): p.get("value") or "" for p in
                     el.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)}
            info["kinds"] = ",".join(sorted(k.strip() for k in props.get("kap12.type", "").split(",") if k.strip()))
            info["recipient"] = props.get("kap12.mottaker", "")
            info["calendar"] = props.get("kap12.kalender", "")
        if el.get("id") in lane_of:
            info["lane"] = lane_of[el.get("id")]
        elements[el.get("id")] = info
    return elements


def diff_process(process_id: str, old_xml: str | None, new_xml: str | None) -> list[ElementChange] | None:
    """The changes to one process, or None when either side's stored text cannot be read."""
    try:
        old = read_elements(old_xml, process_id) if old_xml else {}
        new = read_elements(new_xml, process_id) if new_xml else {}
    except (etree.XMLSyntaxError, ValueError):
        return None
    changes = []
    for eid, info in new.items():
        if eid not in old:
            changes.append(ElementChange(process_id, eid, "added", info["type"], info["name"]))
    for eid, info in old.items():
        if eid not in new:
            changes.append(ElementChange(process_id, eid, "removed", info["type"], info["name"]))
            continue
        after = new[eid]
        diffs = tuple((LABELS[k], str(info.get(k, "")), str(after.get(k, "")))
                      for k in LABELS if str(info.get(k, "")) != str(after.get(k, "")))
        if diffs:
            changes.append(ElementChange(process_id, eid, "changed", after["type"], after["name"] or info["name"], diffs))
    return changes


def diff_sources(old_sources: dict | None, new_sources: dict) -> DefinitionDiff:
    """Compare two versions' ``sources`` ({process id: {"xml": …}}) process by process."""
    old_sources = old_sources or {}
    result = DefinitionDiff()
    for pid in new_sources:
        if pid not in old_sources:
            result.processes_added.append(pid)
        _add(result, pid, diff_process(pid, (old_sources.get(pid) or {}).get("xml"), new_sources[pid]["xml"]))
    for pid in old_sources:
        if pid not in new_sources:
            result.processes_removed.append(pid)
            _add(result, pid, diff_process(pid, old_sources[pid]["xml"], None))
    return result


def _add(result: DefinitionDiff, process_id: str, changes: list[ElementChange] | None) -> None:
    if changes is None:
        result.unreadable.append(process_id)
    else:
        result.changes.extend(changes)


def diff_versions(old: DefinitionVersion | None, new: DefinitionVersion) -> DefinitionDiff:
    """Diff two ``DefinitionVersion`` rows (``old`` may be None: everything is added)."""
    return diff_sources(old.sources if old is not None else None, new.sources)
