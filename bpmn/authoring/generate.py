"""Write the first version of kap12's BPMN diagrams, with a layered left-to-right layout.

Usage: .venv/bin/python bpmn/authoring/generate.py [OUTPUT_DIR [PROCESS_ID ...]]   (default: bpmn/, all)

Each diagram is described compactly below (lanes, nodes, flows, boundary timers). The script
assigns each node a column (longest path over forward flows), places it in its lane at the row the
description gives, and draws orthogonal edges. Flows marked ``back`` run below the lane back to
an earlier node. The output is plain BPMN 2.0 with Camunda extensions and complete diagram
interchange, so it opens unchanged in bpmn-js and Camunda Modeler.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "camunda": CAMUNDA}

# Geometry (pixels).
POOL_X, POOL_Y = 160, 80
POOL_BAND = 30          # vertical band with the pool's name
LANE_BAND = 30          # vertical band with each lane's name
CONTENT_X = POOL_X + POOL_BAND + LANE_BAND + 30
COL_W = 200
ROW_H = 140
LANE_PAD = 10
SIZES = {
    "start": (36, 36), "end": (36, 36), "timer": (36, 36),
    "user": (140, 90), "script": (140, 90), "call": (140, 90),
    "xgw": (50, 50), "pgw": (50, 50),
}
TAGS = {
    "start": "startEvent", "end": "endEvent", "timer": "intermediateCatchEvent",
    "user": "userTask", "script": "scriptTask", "call": "callActivity",
    "xgw": "exclusiveGateway", "pgw": "parallelGateway",
}


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class Node:
    id: str
    kind: str
    name: str
    lane: str | None
    row: int = 0
    col: int | None = None
    form: str | None = None
    script: str | None = None
    called: str | None = None
    timer: str | None = None
    props: dict = field(default_factory=dict)
    label: str = "below"          # where an event's or gateway's label goes: above / below
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0

    @property
    def cx(self):
        return self.x + self.w / 2

    @property
    def cy(self):
        return self.y + self.h / 2


@dataclass
class Boundary:
    id: str
    name: str
    host: str
    timer: str | None = None      # timeDate expression; None for a message event
    message: str | None = None
    interrupting: bool = False
    props: dict = field(default_factory=dict)
    slot: int = 1                 # 0: bottom left of the host, 1: bottom right
    bus: bool = False             # route down the gap right of the host (hosts stacked in a column)
    x: float = 0
    y: float = 0


@dataclass
class Flow:
    source: str
    target: str
    name: str | None = None
    cond: str | None = None
    back: bool | str = False      # runs back to an earlier column: below the lane, or "top"
    chan: int = 0                 # which channel below the lane a back flow uses
    dx: int = 0                   # offset where a back flow enters its target
    id: str = ""


@dataclass
class Process:
    id: str
    name: str
    lanes: list[str]
    nodes: list[Node] = field(default_factory=list)
    boundaries: list[Boundary] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    messages: dict = field(default_factory=dict)   # id -> name

    # --- description helpers -----------------------------------------------------------------
    def node(self, kind, id, name, lane=None, **kw):
        n = Node(id=id, kind=kind, name=name, lane=lane, **kw)
        self.nodes.append(n)
        return n

    def start(self, id, name, lane=None, **kw):
        return self.node("start", id, name, lane, **kw)

    def end(self, id, name, lane=None, **kw):
        return self.node("end", id, name, lane, **kw)

    def user(self, id, name, lane, form, **kw):
        return self.node("user", id, name, lane, form=form, **kw)

    def script(self, id, name, lane, script, **kw):
        return self.node("script", id, name, lane, script=script, **kw)

    def call(self, id, name, lane, called, **kw):
        return self.node("call", id, name, lane, called=called, **kw)

    def xgw(self, id, name, lane=None, **kw):
        kw.setdefault("label", "above")
        return self.node("xgw", id, name, lane, **kw)

    def pgw(self, id, name, lane=None, **kw):
        kw.setdefault("label", "above")
        return self.node("pgw", id, name, lane, **kw)

    def timer(self, id, name, lane, expr, props, **kw):
        return self.node("timer", id, name, lane, timer=expr, props=props, **kw)

    def boundary(self, id, name, host, **kw):
        b = Boundary(id=id, name=name, host=host, **kw)
        self.boundaries.append(b)
        return b

    def flow(self, source, target, name=None, cond=None, **kw):
        f = Flow(source, target, name, cond, **kw)
        self.flows.append(f)
        return f


# --- layout ---------------------------------------------------------------------------------

def layout(p: Process):
    nodes = {n.id: n for n in p.nodes}
    bounds = {b.id: b for b in p.boundaries}
    for i, f in enumerate(p.flows, 1):
        f.id = f.id or f"Flow_{f.source}_{f.target}"
    # Columns: longest path over forward flows; a boundary's flow starts one column after its host.
    col = {n.id: (n.col if n.col is not None else 0) for n in p.nodes}
    fixed = {n.id for n in p.nodes if n.col is not None}
    for _ in range(len(p.nodes) + 2):
        changed = False
        for f in p.flows:
            if f.back or f.target in fixed:
                continue
            src = col[bounds[f.source].host] if f.source in bounds else col[f.source]
            if col[f.target] < src + 1:
                col[f.target] = src + 1
                changed = True
        if not changed:
            break
    else:
        raise ValueError(f"{p.id}: cycle among forward flows (mark a flow back=True)")

    # Lanes: horizontal bands, as tall as their rows; extra room for back-flow channels.
    lanes = p.lanes or [None]
    rows = {ln: 1 for ln in lanes}
    chans = {ln: 0 for ln in lanes}
    for n in p.nodes:
        rows[n.lane] = max(rows[n.lane], n.row + 1)
    for f in p.flows:
        if f.back and f.back != "top":
            ln = nodes[f.source].lane
            chans[ln] = max(chans[ln], f.chan + 1)
    ncols = max(col.values()) + 1
    width = CONTENT_X - POOL_X + ncols * COL_W + 20
    lane_geo = {}
    y = POOL_Y
    for ln in lanes:
        h = rows[ln] * ROW_H + 2 * LANE_PAD + chans[ln] * 16
        lane_geo[ln] = (y, h)
        y += h
    pool = (POOL_X, POOL_Y, width, y - POOL_Y)

    taken = {}
    for n in p.nodes:
        key = (n.lane, n.row, col[n.id])
        if key in taken:
            raise ValueError(f"{p.id}: {n.id} and {taken[key]} share lane/row/column {key}")
        taken[key] = n.id
        n.w, n.h = SIZES[n.kind]
        top = lane_geo[n.lane][0] + LANE_PAD
        cx = CONTENT_X + col[n.id] * COL_W + COL_W / 2
        cy = top + n.row * ROW_H + ROW_H / 2
        n.x, n.y = cx - n.w / 2, cy - n.h / 2
        n.col = col[n.id]
    for b in p.boundaries:
        h = nodes[b.host]
        bx = h.x + 28 if b.slot == 0 else h.x + h.w - 28
        b.x, b.y = bx - 18, h.y + h.h - 18
    return nodes, bounds, lane_geo, pool


def route(p, f, nodes, bounds, lane_geo):
    """Orthogonal waypoints for a flow."""
    if f.source in bounds:
        b = bounds[f.source]
        t = nodes[f.target]
        bx = b.x + 18
        if b.bus:
            h = nodes[b.host]
            xb = h.x + h.w + 24
            tx = t.x if t.x > xb else t.x + t.w
            return [(bx, b.y + 36), (bx, b.y + 46), (xb, b.y + 46), (xb, t.cy), (tx, t.cy)]
        return [(bx, b.y + 36), (bx, t.cy), (t.x, t.cy)]
    s, t = nodes[f.source], nodes[f.target]
    if f.back == "top":
        ltop, lh = lane_geo[s.lane]
        y = ltop + LANE_PAD + s.row * ROW_H + 6 + 12 * f.chan
        tx = t.cx + f.dx
        return [(s.cx, s.y), (s.cx, y), (tx, y), (tx, t.y)]
    if f.back:
        ltop, lh = lane_geo[s.lane]
        y = ltop + lh - 12 - 16 * f.chan
        tx = t.cx + f.dx
        return [(s.cx, s.y + s.h), (s.cx, y), (tx, y), (tx, t.y + t.h)]
    if abs(s.cy - t.cy) < 1:
        return [(s.x + s.w, s.cy), (t.x, t.cy)]
    down = t.cy > s.cy
    gw = ("xgw", "pgw")
    if s.kind in gw and t.kind in gw:
        return [(s.x + s.w, s.cy), (t.cx, s.cy), (t.cx, t.y if down else t.y + t.h)]
    if s.kind in ("xgw", "pgw"):
        return [(s.cx, s.y + s.h if down else s.y), (s.cx, t.cy), (t.x, t.cy)]
    if t.kind in ("xgw", "pgw"):
        return [(s.x + s.w, s.cy), (t.cx, s.cy), (t.cx, t.y if down else t.y + t.h)]
    xm = t.x - 30
    return [(s.x + s.w, s.cy), (xm, s.cy), (xm, t.cy), (t.x, t.cy)]


# --- XML ------------------------------------------------------------------------------------

def props_element(parent, props):
    if not props:
        return
    ext = etree.SubElement(parent, q(BPMN, "extensionElements"))
    cp = etree.SubElement(ext, q(CAMUNDA, "properties"))
    for k, v in props.items():
        etree.SubElement(cp, q(CAMUNDA, "property"), name=k, value=v)


def timer_definition(parent, id, expr):
    td = etree.SubElement(parent, q(BPMN, "timerEventDefinition"), id=f"{id}_def")
    d = etree.SubElement(td, q(BPMN, "timeDate"))
    d.set(q(XSI, "type"), "bpmn:tFormalExpression")
    d.text = expr


def bounds_el(parent, x, y, w, h):
    etree.SubElement(parent, q(DC, "Bounds"), x=fmt(x), y=fmt(y), width=fmt(w), height=fmt(h))


def fmt(v):
    return str(int(round(v)))


def label_bounds(n: Node):
    w = 110
    if n.kind in ("xgw", "pgw") and n.label == "above":
        return n.cx - w / 2, n.y - 34, w, 27
    if n.label == "above":
        return n.cx - w / 2, n.y - 34, w, 27
    if n.label == "left":
        return n.x - 100 - 2, n.y - 30, 100, 27
    return n.cx - w / 2, n.y + n.h + 5, w, 27


def build(p: Process) -> bytes:
    nodes, bounds, lane_geo, pool = layout(p)
    incoming, outgoing = {}, {}
    for f in p.flows:
        outgoing.setdefault(f.source, []).append(f.id)
        incoming.setdefault(f.target, []).append(f.id)

    root = etree.Element(q(BPMN, "definitions"), nsmap=NSMAP, id=f"Definitions_{p.id}",
                         targetNamespace="http://kap12.no/bpmn", exporter="kap12 authoring",
                         exporterVersion="1.0")
    collab = etree.SubElement(root, q(BPMN, "collaboration"), id=f"Collaboration_{p.id}")
    etree.SubElement(collab, q(BPMN, "participant"), id=f"Participant_{p.id}", name=p.name,
                     processRef=p.id)
    proc = etree.SubElement(root, q(BPMN, "process"), id=p.id, name=p.name, isExecutable="true")
    if p.lanes:
        ls = etree.SubElement(proc, q(BPMN, "laneSet"), id=f"LaneSet_{p.id}")
        for i, ln in enumerate(p.lanes):
            lane = etree.SubElement(ls, q(BPMN, "lane"), id=f"Lane_{p.id}_{i}", name=ln)
            for n in p.nodes:
                if n.lane == ln:
                    etree.SubElement(lane, q(BPMN, "flowNodeRef")).text = n.id
            for b in p.boundaries:
                if nodes[b.host].lane == ln:
                    etree.SubElement(lane, q(BPMN, "flowNodeRef")).text = b.id

    def io(el, id):
        for fid in incoming.get(id, []):
            etree.SubElement(el, q(BPMN, "incoming")).text = fid
        for fid in outgoing.get(id, []):
            etree.SubElement(el, q(BPMN, "outgoing")).text = fid

    for n in p.nodes:
        attrs = {"id": n.id, "name": n.name}
        if n.kind == "user":
            attrs[q(CAMUNDA, "formKey")] = n.form
        if n.kind == "script":
            attrs["scriptFormat"] = "python"
        if n.kind == "call":
            attrs["calledElement"] = n.called
        el = etree.SubElement(proc, q(BPMN, TAGS[n.kind]), attrs)
        props_element(el, n.props)
        io(el, n.id)
        if n.kind == "script":
            etree.SubElement(el, q(BPMN, "script")).text = n.script
        if n.kind == "timer":
            timer_definition(el, n.id, n.timer)
    for b in p.boundaries:
        el = etree.SubElement(proc, q(BPMN, "boundaryEvent"), id=b.id, name=b.name,
                              cancelActivity="true" if b.interrupting else "false",
                              attachedToRef=b.host)
        props_element(el, b.props)
        io(el, b.id)
        if b.timer:
            timer_definition(el, b.id, b.timer)
        else:
            etree.SubElement(el, q(BPMN, "messageEventDefinition"), id=f"{b.id}_def",
                             messageRef=b.message)
    for f in p.flows:
        el = etree.SubElement(proc, q(BPMN, "sequenceFlow"), id=f.id, sourceRef=f.source,
                              targetRef=f.target)
        if f.name:
            el.set("name", f.name)
        if f.cond:
            c = etree.SubElement(el, q(BPMN, "conditionExpression"))
            c.set(q(XSI, "type"), "bpmn:tFormalExpression")
            c.text = f.cond
    for mid, mname in p.messages.items():
        etree.SubElement(root, q(BPMN, "message"), id=mid, name=mname)

    # Diagram interchange.
    diagram = etree.SubElement(root, q(BPMNDI, "BPMNDiagram"), id=f"BPMNDiagram_{p.id}")
    plane = etree.SubElement(diagram, q(BPMNDI, "BPMNPlane"), id=f"BPMNPlane_{p.id}",
                             bpmnElement=f"Collaboration_{p.id}")
    sh = etree.SubElement(plane, q(BPMNDI, "BPMNShape"), id=f"Participant_{p.id}_di",
                          bpmnElement=f"Participant_{p.id}", isHorizontal="true")
    bounds_el(sh, *pool)
    if p.lanes:
        for i, ln in enumerate(p.lanes):
            y, h = lane_geo[ln]
            sh = etree.SubElement(plane, q(BPMNDI, "BPMNShape"), id=f"Lane_{p.id}_{i}_di",
                                  bpmnElement=f"Lane_{p.id}_{i}", isHorizontal="true")
            bounds_el(sh, POOL_X + POOL_BAND, y, pool[2] - POOL_BAND, h)
    for n in p.nodes:
        attrs = {"id": f"{n.id}_di", "bpmnElement": n.id}
        if n.kind == "xgw":
            attrs["isMarkerVisible"] = "true"
        sh = etree.SubElement(plane, q(BPMNDI, "BPMNShape"), attrs)
        bounds_el(sh, n.x, n.y, n.w, n.h)
        if n.kind in ("start", "end", "timer", "xgw", "pgw"):
            lab = etree.SubElement(sh, q(BPMNDI, "BPMNLabel"))
            bounds_el(lab, *label_bounds(n))
    for b in p.boundaries:
        sh = etree.SubElement(plane, q(BPMNDI, "BPMNShape"), id=f"{b.id}_di", bpmnElement=b.id)
        bounds_el(sh, b.x, b.y, 36, 36)
        lab = etree.SubElement(sh, q(BPMNDI, "BPMNLabel"))
        if b.bus:
            bounds_el(lab, b.x - 66, b.y + 40, 80, 14)
        elif b.slot == 0:
            bounds_el(lab, b.x - 84, b.y + 40, 96, 40)
        else:
            bounds_el(lab, b.x + 24, b.y + 40, 96, 40)
    for f in p.flows:
        pts = route(p, f, nodes, bounds, lane_geo)
        ed = etree.SubElement(plane, q(BPMNDI, "BPMNEdge"), id=f"{f.id}_di", bpmnElement=f.id)
        for x, y in pts:
            etree.SubElement(ed, q(DI, "waypoint"), x=fmt(x), y=fmt(y))
        if f.name:
            (x0, y0), (x1, y1) = pts[0], pts[1]
            lab = etree.SubElement(ed, q(BPMNDI, "BPMNLabel"))
            if abs(x0 - x1) < 1 and not f.back and len(pts) > 2:   # label above the bend
                bounds_el(lab, x1 + 10, y1 - 20, 70, 18)
            elif abs(x0 - x1) < 1:      # leaves vertically
                bounds_el(lab, x0 + 6, y0 + (4 if y1 > y0 else -22), 70, 18)
            else:
                bounds_el(lab, x0 + 8, y0 - 20, 70, 18)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- the diagrams ---------------------------------------------------------------------------

def props(kind, mottaker=None):
    d = {"kap12.type": kind}
    if mottaker:
        d["kap12.mottaker"] = mottaker
    return d


OMKLASSIFISERING = "Message_omklassifisering"


def kap12_sak() -> Process:
    p = Process("kap12_sak", "Kapittel 12-sak", lanes=[])
    p.messages[OMKLASSIFISERING] = "omklassifisering"
    p.start("Start_melding", "Melding registrert")
    p.xgw("Gw_klassifisering", "Klassifisering klar")
    p.script("Script_bestem_prosedyre", "Bestem prosedyre", None,
             "prosedyre = {'elev': 'A', 'ansatt': 'B', 'ledelse': 'C'}[krenker_type]")
    p.xgw("Gw_hvem_krenker", "Hvem krenker?")
    p.call("Call_prosedyre_a", "Prosedyre A", None, "prosedyre_a", row=0)
    p.call("Call_prosedyre_b", "Prosedyre B", None, "prosedyre_b", row=1)
    p.call("Call_prosedyre_c", "Prosedyre C", None, "prosedyre_c", row=2)
    p.xgw("Gw_prosedyre_ferdig", "Prosedyre fullført")
    p.end("End_sak", "Saken er avsluttet")
    p.script("Script_ny_klassifisering", "Registrer ny klassifisering", None,
             "krenker_type = omklassifisering['krenker_type']", row=3, col=3)
    for x in "abc":
        p.boundary(f"Boundary_omklassifisert_{x}", "Omklassifisert", f"Call_prosedyre_{x}",
                   message=OMKLASSIFISERING, interrupting=True, slot=1, bus=True)
    p.flow("Start_melding", "Gw_klassifisering")
    p.flow("Gw_klassifisering", "Script_bestem_prosedyre")
    p.flow("Script_bestem_prosedyre", "Gw_hvem_krenker")
    p.flow("Gw_hvem_krenker", "Call_prosedyre_a", "Elev", "prosedyre == 'A'")
    p.flow("Gw_hvem_krenker", "Call_prosedyre_b", "Ansatt", "prosedyre == 'B'")
    p.flow("Gw_hvem_krenker", "Call_prosedyre_c", "Ledelse", "prosedyre == 'C'")
    for x in "abc":
        p.flow(f"Call_prosedyre_{x}", "Gw_prosedyre_ferdig")
        p.flow(f"Boundary_omklassifisert_{x}", "Script_ny_klassifisering")
    p.flow("Gw_prosedyre_ferdig", "End_sak")
    p.flow("Script_ny_klassifisering", "Gw_klassifisering", back=True)
    return p


def mottak(p, lane, task_name, esc_lane, mottaker, esc_row, rem_row):
    """Receive the report: a reminder after two working hours, a deadline the same day."""
    p.user("Task_motta_melding", task_name, lane, "motta_melding")
    p.boundary("Timer_frist_mottak", "Frist: samme arbeidsdag", "Task_motta_melding",
               timer="slutt_arbeidsdag()", props=props("frist,eskalering", mottaker), slot=0)
    p.boundary("Timer_paminnelse_mottak", "Påminnelse etter 2 arbeidstimer", "Task_motta_melding",
               timer="arbeidstimer(2)", props=props("paminnelse"), slot=1)
    p.end("End_paminnelse_mottak", "Påminnelse sendt", lane, row=rem_row)
    p.user("Task_forsinket_mottak", "Følg opp forsinket mottak", esc_lane, "forsinket_mottak",
           row=esc_row)
    p.end("End_forsinket_mottak", "Forsinkelse fulgt opp", esc_lane, row=esc_row)
    p.flow("Timer_paminnelse_mottak", "End_paminnelse_mottak")
    p.flow("Timer_frist_mottak", "Task_forsinket_mottak")
    p.flow("Task_forsinket_mottak", "End_forsinket_mottak")


def prosedyre_a() -> Process:
    p = Process("prosedyre_a", "Prosedyre A – elev krenker elev (§ 12-4)",
                lanes=["Skoleledelse", "Rektor"])
    p.start("Start_a", "Melding om elev som krenker elev", "Skoleledelse")
    mottak(p, "Skoleledelse", "Motta og registrere melding", "Rektor", "rektor", esc_row=1,
           rem_row=1)
    # One column later, so that its "Ja" flow passes clear of the follow-up of a late receipt.
    p.xgw("Gw_alvorlig", "Alvorlig sak?", "Skoleledelse", col=3)
    p.user("Task_varsle_skoleeier", "Varsle skoleeier", "Rektor", "varsle_skoleeier", row=0)
    p.xgw("Gw_alvorlig_ferdig", "Skoleeier varslet ved behov", "Skoleledelse")
    p.script("Script_saksansvarlig", "Sett saksansvarlig", "Skoleledelse",
             "saksansvarlig_rolle = 'avdelingsleder'\neskaleringsrolle = 'rektor'")
    p.call("Call_oppfolging", "Undersøke, sette inn tiltak og evaluere", "Skoleledelse",
           "oppfolging")
    p.end("End_a", "Prosedyre A fullført", "Skoleledelse")
    p.flow("Start_a", "Task_motta_melding")
    p.flow("Task_motta_melding", "Gw_alvorlig")
    p.flow("Gw_alvorlig", "Task_varsle_skoleeier", "Ja", "alvorlig_sak == True")
    p.flow("Gw_alvorlig", "Gw_alvorlig_ferdig", "Nei", "alvorlig_sak != True")
    p.flow("Task_varsle_skoleeier", "Gw_alvorlig_ferdig")
    p.flow("Gw_alvorlig_ferdig", "Script_saksansvarlig")
    p.flow("Script_saksansvarlig", "Call_oppfolging")
    p.flow("Call_oppfolging", "End_a")
    return p


def prosedyre_b() -> Process:
    p = Process("prosedyre_b", "Prosedyre B – ansatt krenker elev (§ 12-5)",
                lanes=["Rektor", "Skoleeier"])
    p.start("Start_b", "Melding om ansatt som krenker elev", "Rektor")
    mottak(p, "Rektor", "Motta melding", "Skoleeier", "skoleeier", esc_row=2, rem_row=1)
    p.user("Task_varsle_skoleeier", "Varsle skoleeier straks", "Rektor", "varsle_skoleeier")
    p.boundary("Timer_frist_varsel", "Frist: samme arbeidsdag", "Task_varsle_skoleeier",
               timer="slutt_arbeidsdag()", props=props("frist,eskalering", "skoleeier"), slot=1)
    p.user("Task_forsinket_varsel", "Følg opp manglende varsel", "Skoleeier", "forsinket_varsel",
           row=1)
    p.end("End_forsinket_varsel", "Manglende varsel fulgt opp", "Skoleeier", row=1)
    p.user("Task_bekreft_varsel", "Bekrefte mottatt varsel", "Skoleeier", "bekreft_varsel",
           col=4)
    p.pgw("Gw_parallell", "Samtidig", "Skoleeier", label="below")
    p.user("Task_kontradiksjon", "Informere den anklagede og innhente tilsvar (kontradiksjon)",
           "Rektor", "kontradiksjon")
    p.script("Script_saksansvarlig", "Sett saksansvarlig", "Skoleeier",
             "saksansvarlig_rolle = 'rektor'\neskaleringsrolle = 'skoleeier'")
    p.call("Call_oppfolging", "Undersøke, sette inn tiltak og evaluere", "Skoleeier",
           "oppfolging")
    p.pgw("Gw_samlet", "Begge deler ferdig", "Skoleeier", label="below")
    p.end("End_b", "Prosedyre B fullført", "Skoleeier")
    p.flow("Start_b", "Task_motta_melding")
    p.flow("Task_motta_melding", "Task_varsle_skoleeier")
    p.flow("Timer_frist_varsel", "Task_forsinket_varsel")
    p.flow("Task_forsinket_varsel", "End_forsinket_varsel")
    p.flow("Task_varsle_skoleeier", "Task_bekreft_varsel")
    p.flow("Task_bekreft_varsel", "Gw_parallell")
    p.flow("Gw_parallell", "Task_kontradiksjon")
    p.flow("Gw_parallell", "Script_saksansvarlig")
    p.flow("Script_saksansvarlig", "Call_oppfolging")
    p.flow("Task_kontradiksjon", "Gw_samlet")
    p.flow("Call_oppfolging", "Gw_samlet")
    p.flow("Gw_samlet", "End_b")
    return p


def prosedyre_c() -> Process:
    p = Process("prosedyre_c",
                "Prosedyre C – noen i skolens ledelse krenker elev (§ 12-5)",
                lanes=["Skoleeier"])
    p.start("Start_c", "Melding om noen i ledelsen som krenker elev", "Skoleeier")
    mottak(p, "Skoleeier", "Motta melding", "Skoleeier", "skoleeier", esc_row=3, rem_row=2)          # the reminder's end below the escalation
    p.pgw("Gw_parallell", "Samtidig", "Skoleeier")
    p.user("Task_kontradiksjon", "Informere den anklagede og innhente tilsvar (kontradiksjon)",
           "Skoleeier", "kontradiksjon", row=0)
    p.script("Script_saksansvarlig", "Sett saksansvarlig", "Skoleeier",
             "saksansvarlig_rolle = 'skoleeier'\neskaleringsrolle = 'skoleeier'", row=1)
    p.call("Call_oppfolging", "Undersøke, sette inn tiltak og evaluere", "Skoleeier",
           "oppfolging", row=1)
    p.pgw("Gw_samlet", "Begge deler ferdig", "Skoleeier")
    p.end("End_c", "Prosedyre C fullført", "Skoleeier")
    p.flow("Start_c", "Task_motta_melding")
    p.flow("Task_motta_melding", "Gw_parallell")
    p.flow("Gw_parallell", "Task_kontradiksjon")
    p.flow("Gw_parallell", "Script_saksansvarlig")
    p.flow("Script_saksansvarlig", "Call_oppfolging")
    p.flow("Task_kontradiksjon", "Gw_samlet")
    p.flow("Call_oppfolging", "Gw_samlet")
    p.flow("Gw_samlet", "End_c")
    return p


def oppfolging() -> Process:
    L = "Saksansvarlig"
    p = Process("oppfolging", "Undersøke, sette inn tiltak og evaluere", lanes=[L])
    p.start("Start_oppfolging", "Saksansvarlig satt", L)
    p.user("Task_undersokelse", "Undersøke saken", L, "undersokelse")
    p.boundary("Timer_paminnelse_undersokelse", "Påminnelse etter 4 arbeidsdager",
               "Task_undersokelse", timer="arbeidsdager(4)", props=props("paminnelse"), slot=0)
    p.boundary("Timer_frist_undersokelse", "Frist: 5 arbeidsdager", "Task_undersokelse",
               timer="arbeidsdager(5)", props=props("frist,eskalering", "eskaleringsrolle"), slot=1)
    p.end("End_paminnelse_undersokelse", "Påminnelse sendt", L, row=3)
    p.end("End_frist_undersokelse", "Rektor varslet om oversittet frist", L, row=2)
    p.xgw("Gw_trygt", "Har eleven et trygt og godt skolemiljø?", L)
    p.user("Task_tiltaksplan", "Utarbeide tiltaksplan", L, "tiltaksplan", row=1)
    p.xgw("Gw_tiltak", "Tiltak gjennomføres", L, row=1, label="left")
    p.user("Task_gjennomforing", "Gjennomføre tiltak", L, "gjennomforing", row=1)
    p.boundary("Timer_paminnelse_evaluering", "Påminnelse 2 arbeidsdager før evaluering",
               "Task_gjennomforing", timer="arbeidsdager_for(evalueringsdato, 2)",
               props=props("paminnelse"), slot=1)
    p.end("End_paminnelse_evaluering", "Påminnelse sendt", L, row=2)
    p.timer("Timer_evalueringsdato", "Evalueringsdato", L, "dato_kl(evalueringsdato)", {}, row=1)
    p.user("Task_evaluering", "Evaluere tiltakene", L, "evaluering", row=1)
    p.boundary("Timer_frist_evaluering", "Frist: 2 arbeidsdager", "Task_evaluering",
               timer="arbeidsdager(2)", props=props("frist"), slot=1)
    p.end("End_frist_evaluering", "Frist for evaluering oversittet", L, row=3)
    p.xgw("Gw_evaluering", "Resultat av evalueringen", L, row=1, label="left")
    p.user("Task_revidere", "Revidere tiltaksplan", L, "tiltaksplan", row=2)
    p.xgw("Gw_avslutt", "Eleven har det trygt og godt", L, row=0)
    p.user("Task_avslutning", "Avslutte og dokumentere saken", L, "avslutning")
    p.end("End_oppfolging", "Saken er dokumentert og avsluttet", L)

    p.flow("Start_oppfolging", "Task_undersokelse")
    p.flow("Timer_paminnelse_undersokelse", "End_paminnelse_undersokelse")
    p.flow("Timer_frist_undersokelse", "End_frist_undersokelse")
    p.flow("Task_undersokelse", "Gw_trygt")
    p.flow("Gw_trygt", "Gw_avslutt", "Ja", "trygt_skolemiljo == 'ja'")
    p.flow("Gw_trygt", "Task_tiltaksplan", "Nei", "trygt_skolemiljo == 'nei'")
    p.flow("Task_tiltaksplan", "Gw_tiltak")
    p.flow("Gw_tiltak", "Task_gjennomforing")
    p.flow("Timer_paminnelse_evaluering", "End_paminnelse_evaluering")
    p.flow("Task_gjennomforing", "Timer_evalueringsdato")
    p.flow("Timer_evalueringsdato", "Task_evaluering")
    p.flow("Timer_frist_evaluering", "End_frist_evaluering")
    p.flow("Task_evaluering", "Gw_evaluering")
    p.flow("Gw_evaluering", "Gw_avslutt", "Trygt", "evaluering_resultat == 'trygt'")
    p.flow("Gw_evaluering", "Task_revidere", "Revidere", "evaluering_resultat == 'revidere'")
    p.flow("Gw_evaluering", "Gw_tiltak", "Fortsette", "evaluering_resultat == 'fortsette'",
           back="top")
    p.flow("Task_revidere", "Gw_tiltak", back=True)
    p.flow("Gw_avslutt", "Task_avslutning")
    p.flow("Task_avslutning", "End_oppfolging")
    return p


# The school year in timer expressions of the yearly cycle. A running cycle always has
# ``skolear`` (its start data); deploy-time validation evaluates timers with the helpers and
# form example values only (engine/versions/diagram_check.py), so fall back to a sample year there.
# When that sample context has ``skolear``, this becomes just "skolear".
SKOLEAR = "skolear"


def skoledato(month_day, next_year=False):
    """A date of the school year starting in August of ``skolear``, as an f-string expression."""
    year = f"{SKOLEAR} + 1" if next_year else SKOLEAR
    return f'f"{{{year}}}-{month_day}"'


def rutine(p, id, name, lane, frist, frist_tekst, **kw):
    """A routine of the school's plan: a record form, a deadline at 16:00 on ``frist`` and a
    reminder three working days before. The deadline's end goes to the next column, the
    reminder's in the task's own column, both one row down."""
    task = p.user(f"Task_{id}", name, lane, "arshjul_gjennomfort", **kw)
    p.boundary(f"Timer_paminnelse_{id}", "Påminnelse 3 arbeidsdager før fristen", task.id,
               timer=f"arbeidsdager_for({frist}, 3)", props=props("paminnelse"), slot=0)
    p.boundary(f"Timer_frist_{id}", f"Frist: {frist_tekst}", task.id,
               timer=f"dato_kl({frist}, '16:00')", props=props("frist"), slot=1)
    p.end(f"End_paminnelse_{id}", "Påminnelse sendt", lane, row=task.row + 1, col=task.col)
    p.end(f"End_frist_{id}", "Frist oversittet", lane, row=task.row + 1, col=task.col + 1)
    p.flow(f"Timer_paminnelse_{id}", f"End_paminnelse_{id}")
    p.flow(f"Timer_frist_{id}", f"End_frist_{id}")
    return task


def arshjul() -> Process:
    R, S = "Rektor", "Skoleledelse"
    p = Process("arshjul", "Årshjul – forebyggende arbeid (§ 12-3)", lanes=[R, S])
    p.start("Start_arshjul", "Årshjulet er startet", R, col=0)
    p.xgw("Gw_nytt_skolear", "Nytt skoleår", R, col=1)
    p.pgw("Gw_skolearet", "Skoleårets rutiner", R, col=2)
    # Start of the school year (§ 12-3; the plan: staff and pupils are told the routines).
    rutine(p, "ansatte_kjent", "Gjøre ansatte kjent med rutinene", R, skoledato("08-31"), "31. august",
           col=3)
    rutine(p, "elever_kjent", "Gjøre elevene kjent med rutinene", S, skoledato("08-31"), "31. august",
           col=3)
    # Autumn: parent meetings take up the school environment.
    p.timer("Timer_start_foreldremote", "1. september", S, f"dato_kl({skoledato('09-01')})", {},
            row=2, col=3)
    rutine(p, "foreldremote", "Foreldremøte om skolemiljøet", S, skoledato("10-31"), "31. oktober",
           row=2, col=4)
    # The national pupil survey in the autumn, the school's own survey after it.
    p.timer("Timer_start_elevundersokelse", "1. oktober", S, f"dato_kl({skoledato('10-01')})", {},
            row=4, col=3)
    rutine(p, "elevundersokelse", "Elevundersøkelsen gjennomført", S, skoledato("12-15"),
           "15. desember", row=4, col=4)
    p.timer("Timer_start_egen_undersokelse", "2. januar", S,
            f"dato_kl({skoledato('01-02', next_year=True)})", {}, row=4, col=5)
    rutine(p, "egen_undersokelse", "Skolens egen oppfølgingsundersøkelse", S,
           skoledato("02-28", next_year=True), "28. februar", row=4, col=6)
    p.pgw("Gw_rutiner_gjennomfort", "Høstens og vinterens rutiner gjennomført", R, col=7)
    # Spring: the routines are reviewed every year.
    p.timer("Timer_start_gjennomgang", "1. mai", R, f"dato_kl({skoledato('05-01', next_year=True)})",
            {}, col=8)
    rutine(p, "gjennomgang", "Årlig gjennomgang av rutinene", R, skoledato("06-15", next_year=True),
           "15. juni", col=9)
    p.script("Script_neste_skolear", "Neste skoleår", R, "skolear = skolear + 1", col=10)
    p.timer("Timer_skolearet_starter", "1. august", R, f"dato_kl({skoledato('08-01')})", {}, col=11)

    p.flow("Start_arshjul", "Gw_nytt_skolear")
    p.flow("Gw_nytt_skolear", "Gw_skolearet")
    for first in ("Task_ansatte_kjent", "Task_elever_kjent", "Timer_start_foreldremote",
                  "Timer_start_elevundersokelse"):
        p.flow("Gw_skolearet", first)
    p.flow("Timer_start_foreldremote", "Task_foreldremote")
    p.flow("Timer_start_elevundersokelse", "Task_elevundersokelse")
    p.flow("Task_elevundersokelse", "Timer_start_egen_undersokelse")
    p.flow("Timer_start_egen_undersokelse", "Task_egen_undersokelse")
    for last in ("Task_ansatte_kjent", "Task_elever_kjent", "Task_foreldremote",
                 "Task_egen_undersokelse"):
        p.flow(last, "Gw_rutiner_gjennomfort")
    p.flow("Gw_rutiner_gjennomfort", "Timer_start_gjennomgang")
    p.flow("Timer_start_gjennomgang", "Task_gjennomgang")
    p.flow("Task_gjennomgang", "Script_neste_skolear")
    p.flow("Script_neste_skolear", "Timer_skolearet_starter")
    p.flow("Timer_skolearet_starter", "Gw_nytt_skolear", back=True)
    return p


DIAGRAMS = [kap12_sak, prosedyre_a, prosedyre_b, prosedyre_c, oppfolging, arshjul]


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    only = set(argv[2:])   # process ids to write; all when none are given
    for make in DIAGRAMS:
        p = make()
        if only and p.id not in only:
            continue
        path = out / f"{p.id}.bpmn"
        path.write_bytes(build(p))
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv)
