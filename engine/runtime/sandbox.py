"""The one evaluator for the Python in a diagram: timer expressions, conditions and scripts.

A diagram is written by a process owner, not by the people who run the server, so its code
runs in a small, checked subset of Python (RestrictedPython plus kap12's own rules):

- **What may be written** is an allow-list of syntax: names, constants, arithmetic,
  comparisons, ``and``/``or``/``not``, ``x if c else y``, lists, tuples, dicts and sets,
  indexing and slicing, comprehensions, f-strings without format specifications, calls of
  kap12's helpers and a few safe built-ins, and in scripts assignment, ``if``, ``for``,
  ``while``, ``break``, ``continue``, ``pass`` and ``del``. No ``import``, ``def``, ``lambda``,
  ``class``, ``try``, ``with``, ``global``, ``yield``, walrus or ``*``/``**`` unpacking; no name
  or attribute that begins with ``_``; only the few methods of text, lists, dicts, tuples and
  sets listed in ``METHODS``.
- **What it can reach**: the case's data, kap12's deadline helpers and ``BUILTINS``. Every
  attribute, item, iteration and write goes through the guards below.
- **How much it may do**: each evaluation has a budget of loop steps and of values it may
  create; ``**``, ``*``, ``<<`` and ``+`` are checked before they run, so one operation cannot
  build a huge number or text. Without ``def`` and ``lambda`` nothing can recurse.
- **Shared parts count each time**: a list may hold the same value many times for the cost of a
  reference (``s = "a" * 10000; x = [s] * 10000``), and it is written out whole — by ``str``,
  an f-string, and the case's stored data — with every part each time it appears. So ``*`` on
  a sequence, ``str``, an f-string's values and what a script leaves in the case's data are
  measured that way first (``_deep_size``, a walk that stops at the limit and is counted as
  work), and a value too big to write is refused before it is written: a 100 MB text or case
  state from a few characters of code. Left: comparing or hashing two such structures built
  level by level from literals still walks every shared part (CPU, not memory); the worker's
  time limit and the timer's lease bound it.

Validation (``problems``) and execution (``SandboxEnvironment``, wired into SpiffWorkflow's
script engine) share the same rules, so what passes validation is what runs, at deploy, on the
write path, in timers, in migration checks and at re-execution alike. The budgets count
steps, not seconds, so a re-execution meets the same limits as the original run.

Longer than ~400 lines: the static checks and the run-time guards are two halves of one rule
set; kept side by side so that neither can allow what the other refuses."""
from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from types import CodeType
from typing import Any, Literal

from RestrictedPython import RestrictingNodeTransformer, compile_restricted
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import copy_locations
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from processes.messages import Joined, Message

Mode = Literal["eval", "exec"]

MAX_STEPS = 10_000  # loop iterations (for, while, comprehensions) per evaluation
MAX_LENGTH = 10_000  # characters in one text, items in one list, tuple, dict or set
MAX_CREATED = 1_000_000  # characters and items created by all operations of one evaluation
MAX_INT_BITS = 10_000  # about 3,000 decimal digits
MAX_SOURCE = 20_000  # characters of code in one expression or script
MAX_DEPTH = 50  # nesting of lists and dicts a script may leave in the case's data
# Characters and items of what a script leaves in the case's data, shared parts counted each
# time (as it is stored): a case's own answers are a few tens of thousands.
MAX_STORED = 2_000_000

# The methods an expression may call, per exact type; every other attribute is refused.
METHODS: dict[type, frozenset[str]] = {
    str: frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "split", "startswith", "endswith",
                    "title", "capitalize", "casefold", "isdigit", "isalpha", "isspace", "count", "find"}),
    list: frozenset({"append", "count", "index", "pop", "remove", "insert", "reverse", "sort", "copy"}),
    tuple: frozenset({"count", "index"}),
    dict: frozenset({"get", "keys", "values", "items", "pop", "setdefault", "copy"}),
    set: frozenset({"add", "discard", "remove", "copy"}),
}
ALL_METHODS = frozenset().union(*METHODS.values())

_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_DATA_SCALARS = (type(None), bool, int, float, str)


class SandboxError(Exception):
    """Diagram code broke a rule or a limit: the message is a plain Norwegian sentence (a
    Message, shown in the reader's language)."""


_TOO_BIG_NUMBER = Message("Koden lager et tall som er for stort.")


# -- what may be written ---------------------------------------------------------------------

# Syntax a process owner may use; everything else is refused by name in NODE_WORDS' words.
_ALLOWED_NODES = (
    ast.Expression, ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.While,
    ast.Break, ast.Continue, ast.Pass, ast.Delete, ast.Name, ast.Constant, ast.List, ast.Tuple,
    ast.Set, ast.Dict, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.keyword,
    ast.IfExp, ast.Attribute, ast.Subscript, ast.Slice, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.JoinedStr, ast.FormattedValue,
    ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)
# Pieces that only occur inside something refused already: not named a second time.
_PARTS_OF_REFUSED = (ast.arguments, ast.arg, ast.ExceptHandler, ast.withitem, ast.alias, ast.match_case,
                     ast.pattern, ast.type_ignore)
_NODE_WORDS = {
    "Import": "import", "ImportFrom": "import", "FunctionDef": Message("funksjonsdefinisjoner (def)"),
    "AsyncFunctionDef": Message("funksjonsdefinisjoner (def)"), "Lambda": "lambda", "ClassDef": Message("klasser (class)"),
    "Try": "try/except", "TryStar": "try/except", "With": "with", "AsyncWith": "with",
    "Raise": "raise", "Assert": "assert", "Global": "global", "Nonlocal": "nonlocal",
    "Yield": "yield", "YieldFrom": "yield", "Await": "await", "NamedExpr": Message("tilordning i uttrykk (:=)"),
    "Starred": Message("utpakking med *"), "Match": "match", "AsyncFor": "async for", "Return": "return",
    "AnnAssign": Message("typeannotasjoner"),
}
# Built-ins that open a way out of the sandbox, named so the refusal can say which.
FORBIDDEN_NAMES = frozenset({
    "getattr", "setattr", "delattr", "hasattr", "eval", "exec", "compile", "open", "globals", "locals",
    "vars", "type", "dir", "help", "input", "breakpoint", "object", "super", "memoryview",
    "classmethod", "staticmethod", "property", "print", "id", "callable", "iter", "next", "format",
    "repr", "bytes", "bytearray", "exit", "quit", "issubclass", "isinstance", "pow", "builtins",
    "printed", "license", "credits", "copyright", "frozenset", "slice", "map", "filter", "hash",
})


def _rule_problems(tree: ast.AST, callables: frozenset[str]) -> list[str]:
    """kap12's rules, in plain Norwegian, before RestrictedPython's own (which stay as a second
    line of defence: anything they catch that these do not is refused too)."""
    problems: list[str] = []
    hints: set[str] = set()  # said once, after the problems

    def add(text: str) -> None:
        if text not in problems:
            problems.append(text)

    for node in ast.walk(tree):
        kind = type(node).__name__
        if isinstance(node, _PARTS_OF_REFUSED):
            continue
        if not isinstance(node, _ALLOWED_NODES):
            add(Message("%(what)s er ikke tillatt", what=_NODE_WORDS.get(kind, kind)))
            continue
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                add(Message("navnet «%(name)s» begynner med _, og slike navn er ikke tillatt", name=node.id))
            elif node.id in FORBIDDEN_NAMES:
                add(Message("«%(name)s» er ikke tillatt", name=node.id))
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                add(Message("attributtet «%(name)s» begynner med _, og slike attributter er ikke tillatt", name=node.attr))
            elif node.attr not in ALL_METHODS or not isinstance(node.ctx, ast.Load):
                add(Message("«.%(name)s» er ikke tillatt", name=node.attr))
                hints.add(Message("metodene som kan brukes er %(names)s", names=", ".join(sorted(ALL_METHODS))))
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and not node.func.id.startswith("_") \
                    and node.func.id not in FORBIDDEN_NAMES and node.func.id not in callables:
                add(Message("funksjonen «%(name)s» finnes ikke i kap12s uttrykk", name=node.func.id))
                hints.add(Message("funksjonene som kan brukes er %(names)s", names=", ".join(sorted(callables))))
            if any(k.arg is None for k in node.keywords):
                add(Message("utpakking med ** er ikke tillatt"))
        elif isinstance(node, ast.Dict) and any(k is None for k in node.keys):
            add(Message("utpakking med ** er ikke tillatt"))
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            add(Message("formatangivelser i f-tekster (f\"{x:...}\") er ikke tillatt"))
        elif isinstance(node, ast.AugAssign) and not isinstance(node.target, ast.Name):
            add(Message("+= og lignende er bare tillatt på et enkelt navn"))
        elif isinstance(node, ast.comprehension) and node.is_async:
            add(Message("async er ikke tillatt"))
    return problems + sorted(hints) if problems else []


class _Kap12Transformer(RestrictingNodeTransformer):
    """RestrictedPython's transformer, plus: every binary operation and f-string goes through
    a guard that counts what it creates, and every ``while`` pass counts as a step."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        call = ast.Call(func=ast.Name("_binop_", ast.Load()),
                        args=[ast.Constant(type(node.op).__name__), node.left, node.right], keywords=[])
        copy_locations(call, node)
        return call

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        node = self.node_contents_visit(node)
        call = ast.Call(func=ast.Name("_text_", ast.Load()), args=[node], keywords=[])
        copy_locations(call, node)
        return call

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = self.node_contents_visit(node)
        call = ast.Call(func=ast.Name("_fmt_", ast.Load()), args=[node.value], keywords=[])
        copy_locations(call, node.value)
        node.value = call
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        node = self.node_contents_visit(node)
        step = ast.Expr(ast.Call(func=ast.Name("_step_", ast.Load()), args=[], keywords=[]))
        copy_locations(step, node)
        ast.fix_missing_locations(step)
        node.body.insert(0, step)
        return node


@lru_cache(maxsize=2048)
def _compiled(source: str, mode: Mode, callables: frozenset[str]) -> tuple[CodeType | None, tuple[str, ...]]:
    if len(source) > MAX_SOURCE:
        return None, (Message("koden er for lang (mer enn %(limit)s tegn)", limit=MAX_SOURCE),)
    try:
        tree = ast.parse(source, "<diagram>", mode)
    except SyntaxError as err:
        return None, (Message("koden er ikke gyldig Python: %(error)s", error=err.msg),)
    except ValueError as err:  # e.g. a NUL byte in the text
        return None, (Message("koden kan ikke leses som Python: %(error)s", error=str(err)),)
    problems = _rule_problems(tree, callables)
    if problems:
        return None, tuple(problems)
    # ast.parse in "eval"/"exec" mode gives an Expression or a Module, as RestrictedPython wants.
    assert isinstance(tree, (ast.Expression, ast.Module))
    result = compile_restricted(tree, "<diagram>", mode, policy=_Kap12Transformer)
    return result, ()


def problems(source: str, mode: Mode, helpers: Iterable[str] = ()) -> list[str]:
    """What in ``source`` is not allowed, as short Norwegian phrases; empty when it may run.
    ``helpers`` are the names of the functions the caller will provide."""
    try:
        code, found = _compiled(_normalised(source, mode), mode, frozenset(BUILTINS) | frozenset(helpers))
    except SyntaxError as err:  # RestrictedPython refused what kap12's rules let through
        return [Message("koden bruker noe som ikke er tillatt (%(error)s)", error=str(err))]
    return list(found) if code is None else []


def _normalised(source: str, mode: Mode) -> str:
    # Expressions are often written on their own indented line inside the XML element.
    return source.strip() if mode == "eval" else source


def _code(source: str, mode: Mode, helpers: Iterable[str]) -> CodeType:
    try:
        code, found = _compiled(_normalised(source, mode), mode, frozenset(BUILTINS) | frozenset(helpers))
    except SyntaxError as err:
        raise SandboxError(Message("Koden bruker noe som ikke er tillatt (%(error)s).", error=str(err))) from None
    if code is None:
        raise SandboxError(Message("Koden kan ikke kjøres: %(problems)s.", problems=Joined(found)))
    return code


# -- what it can reach, and how much it may do ---------------------------------------------------

class _Budget:
    """The steps and created values one evaluation has left; every guard draws on it."""

    def __init__(self) -> None:
        self.steps = 0
        self.created = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SandboxError(Message("Koden gjør for mye arbeid (mer enn %(limit)s steg i løkker).",
                                       limit=f"{MAX_STEPS:,}".replace(",", " ")))

    def written(self, value: Any, limit: int = MAX_LENGTH) -> int:
        """Refuse a container too big to write out whole (shared parts counted each time), before
        it is written; the walk is counted as work."""
        if not isinstance(value, _CONTAINERS):
            return 0
        size = _deep_size(value, limit)
        self.created += min(size, limit)
        if size > limit:
            raise SandboxError(Message("Koden lager en verdi som er for stor til å skrives ut (mer enn %(limit)s tegn "
                                       "eller elementer når hver del telles der den står).", limit=limit))
        if self.created > MAX_CREATED:
            raise SandboxError(Message("Koden lager for mye data (mer enn en million tegn eller elementer)."))
        return size

    def account(self, value: Any) -> Any:
        if isinstance(value, _SIZED):
            size = len(value)
            if size > MAX_LENGTH:
                raise SandboxError(Message("Koden lager en verdi som er for stor (%(size)s tegn eller elementer; "
                                           "grensen er %(limit)s).", size=size, limit=MAX_LENGTH))
            self.created += size
            if self.created > MAX_CREATED:
                raise SandboxError(Message("Koden lager for mye data (mer enn en million tegn eller elementer)."))
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise SandboxError(_TOO_BIG_NUMBER)
        return value


def _deep_size(value: Any, limit: int) -> int:
    """The characters and items of ``value`` with every shared part counted each time it
    appears, as ``str`` and the stored data write it; walked only until ``limit`` is passed, so
    the walk itself costs at most about ``limit`` steps (a list holding itself is over any limit)."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item) + 1
        elif isinstance(item, _CONTAINERS):
            total += len(item) + 1
            if total <= limit:
                stack.extend(item.items() if isinstance(item, dict) else item)
        else:
            total += 1
        if total > limit:
            break
    return total


def _length_of(value: Any) -> int | None:
    return len(value) if isinstance(value, _SIZED) else None


def _check_binop(op: str, a: Any, b: Any, budget: _Budget) -> None:
    """Refuse, before it runs, an operation whose result would be huge."""
    ints = isinstance(a, int) and isinstance(b, int)
    if op == "Pow" and ints and b > 0 and abs(a) > 1 and a.bit_length() * b > MAX_INT_BITS:
        raise SandboxError(Message("Koden regner ut en potens som er for stor."))
    if op == "LShift" and ints and b > 0 and a.bit_length() + b > MAX_INT_BITS:
        raise SandboxError(_TOO_BIG_NUMBER)
    if op == "Mult":
        if ints and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise SandboxError(_TOO_BIG_NUMBER)
        for seq, n in ((a, b), (b, a)):
            size = _length_of(seq)
            if size is not None and isinstance(n, int) and size * n > MAX_LENGTH:
                raise SandboxError(Message("Koden lager en verdi som er for stor (%(size)s × %(n)s; grensen er %(limit)s).",
                                                   size=size, n=n, limit=MAX_LENGTH))
            if isinstance(seq, (list, tuple)) and isinstance(n, int) and n > 1:
                # [s] * n holds s n times: as big, written out, as n copies of it.
                whole = budget.written(seq, MAX_CREATED // n)
                if whole * n > MAX_CREATED:
                    raise SandboxError(Message("Koden lager for mye data (mer enn en million tegn eller elementer)."))
    if op == "Add":
        sa, sb = _length_of(a), _length_of(b)
        if sa is not None and sb is not None and sa + sb > MAX_LENGTH:
            raise SandboxError(Message("Koden lager en verdi som er for stor (grensen er %(limit)s).", limit=MAX_LENGTH))
    if op == "Mod" and isinstance(a, (str, bytes)):
        # "%" as a value: a template without values is shown as written, so "%%" would show twice.
        raise SandboxError(Message("%(operator)s-formatering av tekst er ikke tillatt; bruk en f-tekst "
                                   "(f\"...{navn}...\").", operator="%"))


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mult": lambda a, b: a * b,
    "Div": lambda a, b: a / b, "FloorDiv": lambda a, b: a // b, "Mod": lambda a, b: a % b,
    "Pow": lambda a, b: a ** b, "LShift": lambda a, b: a << b, "RShift": lambda a, b: a >> b,
    "BitOr": lambda a, b: a | b, "BitXor": lambda a, b: a ^ b, "BitAnd": lambda a, b: a & b,
}
_INPLACE = {"+=": "Add", "-=": "Sub", "*=": "Mult", "/=": "Div", "//=": "FloorDiv", "%=": "Mod",
            "**=": "Pow", "<<=": "LShift", ">>=": "RShift", "|=": "BitOr", "^=": "BitXor", "&=": "BitAnd"}


def _bounded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_LENGTH:
        raise SandboxError(Message("range(...) er for stort (%(size)s tall; grensen er %(limit)s).", size=len(r), limit=MAX_LENGTH))
    return r


def _round(number: Any, ndigits: int | None = None) -> Any:
    # round(1, -10**9) would compute 10**(10**9) first.
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > 20):
        raise SandboxError(Message("round(...): antall desimaler må være et heltall mellom -20 og 20."))
    return round(number) if ndigits is None else round(number, ndigits)


def _sum(values: Iterable[Any]) -> Any:
    # Numbers only: sum(lists, []) would concatenate lists quadratically.
    total: Any = 0
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SandboxError(Message("sum(...) tar bare tall."))
        total += value
    return total


def _int(value: Any = 0, *base: int) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise SandboxError(Message("int(...) av et tall som ikke er endelig."))
    return int(value, *base)


# Safe built-ins, each wrapped so what it returns is counted (see _Budget.account).
_PLAIN_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "int": _int, "float": float, "str": str, "bool": bool,
    "sorted": sorted, "range": _bounded_range, "abs": abs, "round": _round, "list": list, "dict": dict,
    "tuple": tuple, "set": set, "any": any, "all": all, "sum": _sum, "enumerate": enumerate,
    "zip": zip, "reversed": reversed,
}
BUILTINS = frozenset(_PLAIN_BUILTINS)


class _Guards:
    """The names RestrictedPython's compiled code calls (``_getattr_``, ``_getitem_``, …), bound
    to one evaluation's budget."""

    def __init__(self, budget: _Budget):
        self.budget = budget

    def counted(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        account = self.budget.account

        def call(*args: Any, **kwargs: Any) -> Any:
            for arg in args:  # a built-in walking a big value is work too
                size = _length_of(arg)
                if size:
                    self.budget.created += size
            return account(fn(*args, **kwargs))

        return call

    def getattr(self, obj: Any, name: str) -> Any:
        allowed = METHODS.get(type(obj))
        if not isinstance(name, str) or allowed is None or name not in allowed:
            raise SandboxError(Message("«.%(name)s» er ikke tillatt på en verdi av typen %(type)s.", name=name, type=_type_word(obj)))
        return self.counted(getattr(obj, name))

    def getitem(self, obj: Any, key: Any) -> Any:
        if type(obj) not in (str, list, tuple, dict, range):
            raise SandboxError(Message("Oppslag med [...] er ikke tillatt på en verdi av typen %(type)s.", type=_type_word(obj)))
        return self.budget.account(obj[key])

    def write(self, obj: Any) -> Any:
        if type(obj) not in (dict, list):
            raise SandboxError(Message("Endring er bare tillatt i lister og ordbøker, ikke i %(type)s.", type=_type_word(obj)))
        return obj

    def getiter(self, obj: Any) -> Iterator[Any]:
        if isinstance(obj, (str, bytes)):
            self.budget.account(obj)
        step = self.budget.step
        for item in iter(obj):
            step()
            yield item

    def binop(self, op: str, a: Any, b: Any) -> Any:
        _check_binop(op, a, b, self.budget)
        return self.budget.account(_BINOPS[op](a, b))

    def inplacevar(self, op: str, a: Any, b: Any) -> Any:
        return self.binop(_INPLACE[op], a, b)

    def text(self, value: str) -> str:
        return self.budget.account(value)

    def formatted(self, value: Any) -> Any:
        """A value of an f-string, measured before it is written into the text."""
        self.budget.written(value)
        return value

    def to_text(self, value: Any = "") -> str:
        """``str(value)``, measured before it is written."""
        self.budget.written(value)
        return str(value)

    def globals(self, helpers: Mapping[str, Any]) -> dict[str, Any]:
        builtins: dict[str, Any] = {name: self.counted(fn) for name, fn in _PLAIN_BUILTINS.items()}
        builtins["str"] = self.counted(self.to_text)
        builtins.update({"True": True, "False": False, "None": None})
        return {
            "__builtins__": builtins,
            "_getattr_": self.getattr, "_getitem_": self.getitem, "_write_": self.write,
            "_getiter_": self.getiter, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": self.inplacevar,
            "_binop_": self.binop, "_text_": self.text, "_fmt_": self.formatted, "_step_": self.budget.step,
            **{name: self.counted(fn) for name, fn in helpers.items()},
        }


_TYPE_WORDS: dict[type, str] = {
    str: Message("tekst"), int: Message("heltall"), float: Message("tall"), bool: Message("sannhetsverdi"),
    list: Message("liste"), dict: Message("ordbok"), tuple: Message("tuppel"), set: Message("mengde"),
    type(None): "None"}
_OTHER_TYPE = Message("funksjon eller objekt")


def _type_word(obj: Any) -> str:
    return _TYPE_WORDS.get(type(obj), _OTHER_TYPE)


def _check_stored(name: str, value: Any) -> None:
    """What a script leaves in the case's data is stored as JSON at every step, each shared part
    written where it stands: measured so first (which also bounds the walk below)."""
    if _deep_size(value, MAX_STORED) > MAX_STORED:
        raise SandboxError(Message("Skriptet lagrer for mye data i «%(name)s» (mer enn %(limit)s tegn eller elementer "
                                   "når hver del telles der den står).", name=name, limit=f"{MAX_STORED:,}".replace(",", " ")))
    _check_data(name, value)


def _check_data(name: str, value: Any, depth: int = 0) -> None:
    """What a script leaves in the case's data must be plain data: it is stored as JSON."""
    if depth > MAX_DEPTH:
        raise SandboxError(Message("Skriptet lagrer en verdi i «%(name)s» som er nøstet for dypt.", name=name))
    if isinstance(value, _DATA_SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_data(name, item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SandboxError(Message("Skriptet lagrer en ordbok i «%(name)s» med nøkler som ikke er tekst.", name=name))
            _check_data(name, item, depth + 1)
        return
    raise SandboxError(Message("Skriptet lagrer en verdi av typen %(type)s i «%(name)s»; bare tekst, tall, "
                               "sannhetsverdier, lister og ordbøker kan lagres.", type=_type_word(value), name=name))


def evaluate(source: str, data: Mapping[str, Any], helpers: Mapping[str, Callable[..., Any]]) -> Any:
    """The value of the expression ``source`` over the case's ``data``."""
    code = _code(source, "eval", helpers)
    namespace = {**data, **_Guards(_Budget()).globals(helpers)}
    return eval(code, namespace)  # noqa: S307 - restricted code, guarded globals


def execute(source: str, data: dict[str, Any], helpers: Mapping[str, Callable[..., Any]]) -> None:
    """Run the script ``source``; the names it sets become (or change) the case's ``data``."""
    code = _code(source, "exec", helpers)
    guards = _Guards(_Budget()).globals(helpers)
    namespace = {**data, **guards}
    exec(code, namespace)  # noqa: S102 - restricted code, guarded globals
    result = {k: v for k, v in namespace.items() if k not in guards}
    for name, value in result.items():
        if name.startswith("_"):
            continue
        _check_stored(name, value)
    data.clear()
    data.update(result)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment (see ``PythonScriptEngine(environment=...)``), with
    every evaluation and script run in the sandbox; ``environment_globals`` are kap12's
    helpers."""

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        data = {**(external_context or {}), **context}
        return evaluate(expression, data, self.globals)

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        clash = (set(self.globals) | set(external_context or {})) & set(context)
        if clash:
            raise SandboxError(Message("Saksdataene har felt med samme navn som en hjelpefunksjon: %(names)s.",
                                       names=", ".join(sorted(clash))))
        data = {**(external_context or {}), **context}
        execute(script, data, self.globals)
        for name in external_context or {}:
            data.pop(name, None)
        context.clear()
        context.update(data)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise SandboxError(Message("Tjenesteoppgaver er ikke tillatt i kap12."))
