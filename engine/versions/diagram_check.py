"""kap12's own reading of a BPMN file, before and beside SpiffWorkflow's parser: safe XML
parsing, the elements kap12 can run, lanes that map to roles, forms that exist, timer and
condition expressions that evaluate, and diagram interchange for every element.

Every problem is one plain Norwegian sentence naming the element, for a process owner."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as T

from engine.runtime import sandbox
from engine.versions.example_data import example_data
from processes import forms as form_catalog
from processes.deadlines import CALENDARS, CLOCK_HOURS, Calendar, expression_helpers
from processes.messages import Clause, Joined, Message, reason
from processes.roles import LANE_ROLES, valid_recipient
from processes.variables import START_VARIABLES

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "camunda": CAMUNDA_NS}

MAX_FILE_BYTES = 2 * 1024 * 1024

# Elements kap12 runs. Anything else directly inside a process is refused by name, so an
# element that SpiffWorkflow would silently skip never makes a case stop without a trace.
RUNNABLE = {
    "startEvent", "endEvent", "userTask", "scriptTask", "task", "manualTask",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "callActivity",
    "subProcess",
}
NOT_FLOW = {
    "sequenceFlow", "laneSet", "dataObject", "dataObjectReference", "dataStoreReference",
    "textAnnotation", "association", "documentation", "extensionElements", "property",
    "ioSpecification",
}
TIMER_KINDS = {"frist", "paminnelse", "eskalering"}
# An element's name in another language than bokmål: the property kap12.navn.<language>.
NAME_PROPERTY = "kap12.navn."
NAME_LANGUAGES = ("nn", "en")
HELPER_NAMES = frozenset(expression_helpers(datetime.now))  # the functions diagram code may call

# Other places BPMN keeps an expression (multi-instance, conditional events): checked like a
# condition, since the engine evaluates them in the same sandbox.
OTHER_EXPRESSIONS = {"loopCardinality", "completionCondition", "condition"}

_EVENT, _GATEWAY = Message("Hendelsen"), Message("Porten")
ELEMENT_WORDS = {
    "userTask": Message("Brukeroppgaven"), "scriptTask": Message("Skriptoppgaven"), "boundaryEvent": _EVENT,
    "intermediateCatchEvent": _EVENT, "sequenceFlow": Message("Flyten"), "lane": Message("Svømmebanen"),
    "exclusiveGateway": _GATEWAY, "inclusiveGateway": _GATEWAY, "callActivity": Message("Kallaktiviteten"),
}
_ANY_ELEMENT = Message("Elementet")


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def describe(el: etree._Element) -> str:
    word = ELEMENT_WORDS.get(_local(el.tag), _ANY_ELEMENT)
    name = (el.get("name") or "").strip()
    if name:
        return Message("%(word)s «%(name)s» (%(id)s)", word=word, name=name, id=el.get("id"))
    return Message("%(word)s (%(id)s)", word=word, id=el.get("id"))


@dataclass
class FileReading:
    """What kap12 read from one file: its tree, its executable processes and their metadata."""

    filename: str
    text: str
    tree: etree._Element | None = None
    processes: dict[str, dict] = field(default_factory=dict)  # process id -> meta
    problems: list[str] = field(default_factory=list)


def safe_parse(data: bytes) -> etree._Element:
    # No entities, no DTDs, no network: an uploaded diagram is untrusted input.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=False)
    return etree.fromstring(data, parser)


def _reads_again(text: str) -> bool:
    """What is stored is re-read by every later deploy, validation and version page: it must
    parse again with the same parser, to the same text."""
    try:
        again = safe_parse(text.encode("utf-8"))
    except (etree.XMLSyntaxError, ValueError):
        return False
    return etree.tostring(again, encoding="unicode") == text


def read_file(filename: str, data: bytes, forms: dict | None = None) -> FileReading:
    """kap12's reading of one file. ``forms`` ({key: Form}) are the forms a user task may
    name: the published ones; the bundled files when not given."""
    if forms is None:
        forms = form_catalog.load_forms()
    if len(data) > MAX_FILE_BYTES:
        return FileReading(filename, "", problems=[Message(
            "Filen %(file)s er for stor (%(size)s KB); grensen er %(limit)s KB.", file=filename,
            size=len(data) // 1024, limit=MAX_FILE_BYTES // 1024)])
    try:
        tree = safe_parse(data)
    except etree.XMLSyntaxError as err:
        return FileReading(filename, "", problems=[
            Message("Filen %(file)s er ikke gyldig XML: %(error)s.", file=filename, error=err.msg)])
    except ValueError as err:  # e.g. an encoding lxml cannot read
        return FileReading(filename, "", problems=[
            Message("Filen %(file)s kan ikke leses som XML: %(error)s.", file=filename, error=str(err))])
    docinfo = tree.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        # The parser keeps entities unexpanded, and the stored text would lose the DTD that
        # declares them: refused here, so what is stored always parses again.
        return FileReading(filename, "", problems=[Message(
            "Filen %(file)s har en dokumenttypedeklarasjon (<!DOCTYPE …>), og kap12 tar ikke imot "
            "DTD-er eller entiteter (&navn;) i diagrammer. Lagre diagrammet uten, og skriv teksten rett inn.",
            file=filename)])
    text = etree.tostring(tree, encoding="unicode")
    if not _reads_again(text):
        return FileReading(filename, "", problems=[Message(
            "Filen %(file)s kan ikke lagres slik at den leses likt igjen; lagre den på nytt i "
            "modelleringsverktøyet.", file=filename)])
    reading = FileReading(filename, text, tree)
    if tree.tag != f"{{{BPMN_NS}}}definitions":
        reading.problems.append(Message(
            "Filen %(file)s er ikke et BPMN 2.0-diagram (rotelementet er «%(root)s», "
            "ikke «definitions» i BPMN-navnerommet).", file=filename, root=_local(tree.tag) or tree.tag))
        return reading
    executable = [p for p in tree.findall("bpmn:process", NS) if p.get("isExecutable") == "true"]
    if not executable:
        reading.problems.append(Message(
            "Filen %(file)s har ingen kjørbar prosess: minst én prosess må ha isExecutable=\"true\".",
            file=filename))
    for process in executable:
        reading.processes[process.get("id")] = _check_process(process, tree, reading.problems, forms)
    return reading


def _check_process(process: etree._Element, tree: etree._Element, problems: list[str], forms: dict) -> dict:
    pid = process.get("id")
    meta: dict = {"name": process.get("name") or pid, "names": _names(process, problems), "elements": {},
                  "calls": sorted({c.get("calledElement") for c in process.iter(f"{{{BPMN_NS}}}callActivity")
                                   if c.get("calledElement")})}
    drawn = {s.get("bpmnElement") for s in tree.iter(f"{{{BPMNDI_NS}}}BPMNShape")}
    drawn |= {e.get("bpmnElement") for e in tree.iter(f"{{{BPMNDI_NS}}}BPMNEdge")}

    containers = [process] + process.findall(".//bpmn:subProcess", NS)
    for container in containers:
        for el in container:
            tag = _local(el.tag)
            if not tag or tag in NOT_FLOW or tag in RUNNABLE:
                continue
            problems.append(Message("%(element)s i prosessen «%(process)s» er av typen «%(tag)s», som kap12 ikke kan "
                                    "kjøre.", element=describe(el), process=pid, tag=tag))

    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        name = (lane.get("name") or "").strip()
        if name not in LANE_ROLES:
            problems.append(Message(
                "Svømmebanen «%(lane)s» i prosessen «%(process)s» svarer ikke til noen rolle; bruk en av: %(roles)s.",
                lane=name or lane.get("id"), process=pid, roles=", ".join(sorted(LANE_ROLES))))

    sample = _sample_context(forms)
    for el in process.iter():
        tag = _local(el.tag)
        if tag in RUNNABLE or tag == "sequenceFlow":
            if el.get("id") not in drawn:
                problems.append(Message("%(element)s i prosessen «%(process)s» mangler tegning (diagram "
                                        "interchange).", element=describe(el), process=pid))
        if tag == "userTask":
            key = el.get(f"{{{CAMUNDA_NS}}}formKey")
            if not key:
                problems.append(Message("%(element)s har ikke noe skjema (camunda:formKey).", element=describe(el)))
            elif key not in forms:
                problems.append(Message("%(element)s viser til skjemaet «%(form)s», som ikke finnes.",
                                        element=describe(el), form=key))
            meta["elements"][el.get("id")] = {"type": tag, "name": el.get("name") or "", "form": key,
                                              "names": _names(el, problems)}
        elif tag in ("boundaryEvent", "intermediateCatchEvent", "startEvent"):
            timer = el.find("bpmn:timerEventDefinition", NS)
            if timer is not None:
                meta["elements"][el.get("id")] = _check_timer(el, timer, sample, problems)
        elif tag == "callActivity" and not el.get("calledElement"):
            problems.append(Message("%(element)s sier ikke hvilken prosess den kaller (calledElement).",
                                    element=describe(el)))
        elif tag == "sequenceFlow":
            cond = el.find("bpmn:conditionExpression", NS)
            if cond is not None and (cond.text or "").strip():
                _check_code(el, cond.text, "eval", Message("Betingelsen"), problems)
        elif tag == "scriptTask":
            script = el.find("bpmn:script", NS)
            if script is None or not (script.text or "").strip():
                problems.append(Message("%(element)s har ikke noe skript.", element=describe(el)))
            else:
                _check_code(el, script.text, "exec", Message("Skriptet"), problems)
        elif tag in OTHER_EXPRESSIONS and (el.text or "").strip():
            owner = el.getparent()
            while owner is not None and not owner.get("id"):
                owner = owner.getparent()
            _check_code(owner if owner is not None else el, el.text, "eval", Message("Uttrykket"), problems)
    return meta


def _properties(el: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") or ""
            for p in el.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)}


def _names(el: etree._Element, problems: list[str]) -> dict[str, str]:
    """The element's name in nynorsk and English ({language: name}), from its kap12.navn.nn and
    kap12.navn.en properties: data of the version, so a later diagram may rename without
    changing what an earlier version's cases show."""
    names: dict[str, str] = {}
    for key, value in _properties(el).items():
        if not (key or "").startswith(NAME_PROPERTY):
            continue
        language = key[len(NAME_PROPERTY):]
        if language not in NAME_LANGUAGES:
            problems.append(Message("%(element)s har navn på ukjent språk (%(key)s); bruk %(prefix)snn eller "
                                    "%(prefix)sen.", element=describe(el), key=key, prefix=NAME_PROPERTY))
        elif value.strip():
            names[language] = value.strip()
    return names


def _check_timer(el: etree._Element, timer: etree._Element, sample: Sample, problems: list[str]) -> dict:
    props = _properties(el)
    kinds = {k.strip() for k in props.get("kap12.type", "").split(",") if k.strip()}
    for unknown in sorted(kinds - TIMER_KINDS):
        problems.append(Message("%(element)s har ukjent kap12.type «%(kind)s»; bruk frist, paminnelse eller "
                                "eskalering.", element=describe(el), kind=unknown))
    recipient = props.get("kap12.mottaker")
    if recipient and not valid_recipient(recipient):
        problems.append(Message("%(element)s har ukjent mottaker «%(recipient)s»; bruk en rollekode eller "
                                "variabelen eskaleringsrolle.", element=describe(el), recipient=recipient))
    if "eskalering" in kinds and not recipient:
        problems.append(Message("%(element)s er en eskalering uten mottaker (kap12.mottaker).",
                                element=describe(el)))
    calendar = props.get("kap12.kalender", "").strip()
    if not calendar:
        problems.append(Message("%(element)s sier ikke hvilken kalender fristen regnes i (kap12.kalender); "
                                "bruk %(calendars)s.", element=describe(el), calendars=_calendar_words()))
    elif calendar not in CALENDARS:
        problems.append(Message("%(element)s har ukjent kalender «%(calendar)s»; bruk %(calendars)s.",
                                element=describe(el), calendar=calendar, calendars=_calendar_words()))
    expressions = [c for c in timer if _local(c.tag) in ("timeDate", "timeDuration", "timeCycle")]
    if not expressions or not (expressions[0].text or "").strip():
        problems.append(Message("%(element)s er en tidshendelse uten tidsuttrykk.", element=describe(el)))
    else:
        _check_timer_expression(el, _local(expressions[0].tag), expressions[0].text.strip(), sample, problems,
                                calendar)
    return {"type": _local(el.tag), "name": el.get("name") or "", "names": _names(el, problems), "timer": True,
            "kinds": sorted(kinds & TIMER_KINDS), "recipient": props.get("kap12.mottaker") or None,
            "calendar": calendar if calendar in CALENDARS else None,
            "interrupting": el.get("cancelActivity", "true") != "false"}


def _calendar_words() -> str:
    return ", ".join(f"{code} ({words})" for code, words in CALENDARS.items())


def _check_timer_expression(el: etree._Element, kind: str, expr: str, sample: Sample, problems: list[str],
                            calendar: str = "") -> None:
    shown = _shown(expr)
    helpers = sample.helpers
    if calendar == "klokke":  # the helpers as this timer will call them
        now = datetime.now(timezone.utc)
        helpers = expression_helpers(lambda: now, CLOCK_HOURS)
    refused = sandbox.problems(expr, "eval", helpers)
    if refused:
        problems.append(_not_computable(shown, el, Joined(refused)))
        return
    try:
        value = sandbox.evaluate(expr, sample.data, helpers)
        if not isinstance(value, str):
            raise ValueError(Message("gir %(type)s, ikke en tekst", type=type(value).__name__))
        if kind == "timeDate":
            T.parse_time_or_duration(value)
        elif kind == "timeDuration":
            T.parse_iso_duration(value)
        else:
            T.parse_iso_recurring_interval(value)
    except Exception as err:  # any failure is the diagram's problem, reported to its author
        problems.append(_not_computable(shown, el, Clause(reason(err))))


def _check_code(el: etree._Element, code: str, mode: sandbox.Mode, word: str, problems: list[str]) -> None:
    refused = sandbox.problems(code, mode, HELPER_NAMES)
    if refused:
        problems.append(Message("%(what)s på %(element)s kan ikke brukes: %(problems)s.", what=word,
                                element=Clause(describe(el), lower=True), problems=Joined(refused)))


def _not_computable(shown: str, el: etree._Element, why: str) -> Message:
    return Message("Tidsuttrykket «%(expression)s» på %(element)s kan ikke beregnes: %(why)s.",
                   expression=shown, element=Clause(describe(el), lower=True), why=why)


def _shown(expr: str) -> str:
    # A refusal names the expression, but a pasted page of code would drown the sentence.
    return expr if len(expr) <= 80 else expr[:77] + "..."


@dataclass
class Sample:
    """Example case data and the helpers, for evaluating a timer expression at deploy time."""

    data: dict
    helpers: dict


def _sample_context(forms: dict) -> Sample:
    """Example values for every form field, so that a timer expression reading a form value
    (``dato_kl(evalueringsdato)``) can be evaluated at deploy time, in the same sandbox as at
    run time."""
    now = datetime.now(timezone.utc)
    context: dict = dict(START_VARIABLES)
    for form in forms.values():
        for name, value in example_data(form, now.date()).items():
            context.setdefault(name, value)
    return Sample(context, expression_helpers(lambda: now, Calendar()))
