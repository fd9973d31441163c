"""Known ways out of a Python sandbox, for the sandbox tests: each is tried as a timer
expression, a condition and a script. ``{M}`` is replaced by the path of a marker file that
must never appear: where an escape could run a command or write a file, it tries to."""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from tests.support.diagrams import HEAD

# Expressions: usable as a timer, a condition, or the right-hand side of an assignment in a script.
EXPRESSIONS: dict[str, str] = {
    "import": "__import__('os').system('touch {M}')",
    "subclasses": "().__class__.__bases__[0].__subclasses__()",
    "subclasses_popen": "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', '{M}'])",
    "getattr_chain": "getattr(getattr(arbeidsdager, '__globals__')['__builtins__'], '__import__')('os').system('touch {M}')",
    "getattr_plain": "getattr(1, 'real')",
    "format_walk": "'{0.__class__.__mro__[1].__subclasses__}'.format(1)",
    "format_map_walk": "'{x.__globals__}'.format_map({'x': arbeidsdager})",
    "str_format_unbound": "str.format('{0.__class__}', 1)",
    "generator_frame": "(x for x in [1]).gi_frame.f_globals['__builtins__']['__import__']('os').system('touch {M}')",
    "generator_frame_back": "(x for x in [1]).gi_frame.f_back",
    "generator_code": "(x for x in [1]).gi_code",
    "type_of_function": "type(arbeidsdager)",
    "type_new_class": "type('X', (), {})",
    "eval": "eval(\"__import__('os').system('touch {M}')\")",
    "exec": "exec('import os')",
    "open": "open('{M}', 'w').write('x')",
    "compile": "compile('1', 'x', 'eval')",
    "globals": "globals()['__builtins__']",
    "locals_vars": "vars()",
    "function_globals": "arbeidsdager.__globals__['__builtins__']",
    "closure_cells": "arbeidsdager.__closure__[0].cell_contents",
    "code_object": "dato_kl.__code__.co_consts",
    "lambda_code": "(lambda: 0).__code__",
    "lambda_recursion": "(lambda f: f(f))(lambda f: f(f))",
    "comprehension_mro": "[y for x in [1] for y in x.__class__.__mro__]",
    "dunder_dict": "{}.__class__.__dict__",
    "builtins_name": "__builtins__",
    "breakpoint": "breakpoint()",
    "huge_power": "2 ** 10 ** 9",
    "huge_shift": "1 << 10 ** 9",
    "huge_string": "'x' * 10 ** 9",
    "huge_list": "[0] * 10 ** 9",
    "percent_width": "'%999999999d' % 1",
    "fstring_width": "f'{1:>999999999}'",
    "huge_range": "[x for x in range(10 ** 12)]",
    "nested_loops": "sum(1 for a in range(10000) for b in range(10000))",
    "round_huge": "round(1, -10 ** 9)",
    "helper_work": "arbeidsdager(10 ** 9)",
    "walrus": "(x := 1)",
    "shared_text": "len(str([['a' * 1000] * 1000] * 100))",
    "shared_fstring": "len(f\"{[['a' * 1000] * 1000] * 100}\")",
    "shared_literal_text": "len(str([[['a' * 5000, 'a' * 5000]] * 5000, [['a' * 5000]] * 5000]))",
}

# Statements: only a script can hold them.
STATEMENTS: dict[str, str] = {
    "import_statement": "import os\nos.system('touch {M}')",
    "from_import": "from os import system\nsystem('touch {M}')",
    "recursion": "def f():\n    return f()\nf()",
    "class": "class X:\n    pass",
    "endless_loop": "while True:\n    pass",
    "doubling_text": "s = 'ab'\nwhile True:\n    s = s + s",
    "doubling_number": "n = 2\nwhile True:\n    n = n * n",
    "doubling_list": "l = [1]\nfor i in range(60):\n    l = l + l",
    "try_except": "try:\n    x = ().__class__\nexcept:\n    pass",
    "with_open": "with open('{M}', 'w') as f:\n    pass",
    "global": "global x\nx = 1",
    "raise": "raise SystemExit(1)",
    "deep_nesting": "a = []\nfor i in range(5000):\n    a = [a]",
    "not_data": "r = range(3)",
    "starred": "a = [*[1], *[2]]",
    "shared_stored": "s = 'a' * 10000\nx = [s] * 10000",
    "shared_loops_text": ("s = 'a' * 10000\nl = []\nfor i in range(100):\n    l.append(s)\nm = []\n"
                          "for i in range(100):\n    m.append(l)\nt = len(str(m))"),
    "shared_loops_stored": ("s = 'a' * 10000\nl = []\nfor i in range(100):\n    l.append(s)\nm = []\n"
                            "for i in range(100):\n    m.append(l)"),
    "self_holding_stored": "l = [1]\nl.append(l)",
}


def with_marker(code: str, marker: Path) -> str:
    return code.replace("{M}", str(marker))


KINDS = ("timer", "condition", "script")
CASES = [(kind, name) for kind in KINDS for name in EXPRESSIONS] + [("script", name) for name in STATEMENTS]


def source(kind: str, name: str, marker: Path) -> tuple[str, str]:
    """(code, mode) of escape ``name`` written as a ``kind``."""
    if name in STATEMENTS:
        return with_marker(STATEMENTS[name], marker), "exec"
    code = with_marker(EXPRESSIONS[name], marker)
    return (f"resultat = {code}", "exec") if kind == "script" else (code, "eval")


def sandbox_diagram(*, timer="arbeidstimer(2)", condition="svar == 'ja'", script="svar = 'ja'") -> bytes:
    """Start → script → gateway → (condition) user task with a timer → end."""
    shapes = ["Start", "Skript", "Port", "Oppgave", "Frist", "Slutt", "Slutt2", "Slutt3"]
    flows = ["F1", "F2", "F3", "F4", "F5", "F6"]
    di = "".join(f'<bpmndi:BPMNShape id="{s}_di" bpmnElement="{s}"><dc:Bounds x="0" y="0" width="36" height="36"/>'
                 f'</bpmndi:BPMNShape>' for s in shapes)
    di += "".join(f'<bpmndi:BPMNEdge id="{e}_di" bpmnElement="{e}"><di:waypoint x="0" y="0"/>'
                  f'<di:waypoint x="1" y="0"/></bpmndi:BPMNEdge>' for e in flows)
    return (HEAD + f'''
<bpmn:process id="sandkasse" name="Sandkasse" isExecutable="true">
  <bpmn:laneSet id="LS"><bpmn:lane id="Lane1" name="Skoleledelse"><bpmn:flowNodeRef>Oppgave</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="Start" name="Start"/>
  <bpmn:scriptTask id="Skript" name="Regn ut" scriptFormat="python"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="Port" name="Hva nå" default="F4"/>
  <bpmn:userTask id="Oppgave" name="Motta melding" camunda:formKey="motta_melding"/>
  <bpmn:boundaryEvent id="Frist" name="Frist" attachedToRef="Oppgave" cancelActivity="false">
    <bpmn:extensionElements><camunda:properties><camunda:property name="kap12.type" value="frist"/><camunda:property name="kap12.kalender" value="fylke"/></camunda:properties></bpmn:extensionElements>
    <bpmn:timerEventDefinition><bpmn:timeDate xsi:type="bpmn:tFormalExpression">{escape(timer)}</bpmn:timeDate></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:endEvent id="Slutt" name="Slutt"/><bpmn:endEvent id="Slutt2" name="Slutt 2"/><bpmn:endEvent id="Slutt3" name="Slutt 3"/>
  <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Skript"/>
  <bpmn:sequenceFlow id="F2" sourceRef="Skript" targetRef="Port"/>
  <bpmn:sequenceFlow id="F3" name="Ja" sourceRef="Port" targetRef="Oppgave">
    <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="F4" sourceRef="Port" targetRef="Slutt3"/>
  <bpmn:sequenceFlow id="F5" sourceRef="Oppgave" targetRef="Slutt"/>
  <bpmn:sequenceFlow id="F6" sourceRef="Frist" targetRef="Slutt2"/>
</bpmn:process>
<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="sandkasse">{di}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>''').encode("utf-8")


def escape_diagram(kind: str, name: str, marker: Path) -> bytes:
    code, _ = source(kind, name, marker)
    return sandbox_diagram(**{kind: code})
