"""Diagram code runs in the sandbox everywhere: known sandbox escapes, tried as a timer, a
condition and a script, are refused by the sandbox's rules, at deploy, on a running case and at
re-execution, or stopped by its limits; none of them ever runs a command (the marker file never
appears), and the bundled diagrams' own code still runs."""
from __future__ import annotations

import tracemalloc
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from engine.audit.replay import verify_case
from engine.errors import DeployRefused
from engine.runtime import sandbox, spiff
from engine.store.models import Case
from engine.versions.definitions import latest_version
from engine.versions.diagram_check import HELPER_NAMES, safe_parse
from processes.deadlines import expression_helpers
from tests.support.sandbox_escapes import (
    CASES,
    EXPRESSIONS,
    STATEMENTS,
    escape_diagram,
    sandbox_diagram,
    source,
)


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "rømt"
    yield path
    assert not path.exists(), "diagram code ran a command on the server"


def _helpers(clock):
    return expression_helpers(clock.now)


# -- the sandbox itself ------------------------------------------------------------------------

@pytest.mark.parametrize("kind, name", CASES)
def test_every_escape_is_refused_or_stopped(kind, name, marker, clock):
    code, mode = source(kind, name, marker)
    found = sandbox.problems(code, mode, HELPER_NAMES)
    if found:
        assert all(isinstance(p, str) and "Traceback" not in p for p in found)
        return
    # What the rules let through must be stopped by the guards and limits when it runs (or, for
    # a helper asked to count a billion days, by the helper's own bound).
    data = {"krenker_type": "elev"}
    with pytest.raises(ValueError if name == "helper_work" else sandbox.SandboxError):
        if mode == "eval":
            sandbox.evaluate(code, data, _helpers(clock))
        else:
            sandbox.execute(code, data, _helpers(clock))


@pytest.mark.parametrize("kind, name", [(kind, name) for kind, name in CASES if name.startswith("shared_")])
def test_a_value_too_big_to_write_is_refused_before_it_is_written(kind, name, tmp_path, clock):
    """A list holding one text many times costs a reference each, and was measured only once
    written out: ``str`` of it built 100 MB before it was refused, and a script left 100 MB of
    case data to be stored at every step. Now it is measured, shared parts counted each time,
    before it is written: the sandbox never holds more than a few megabytes for it."""
    code, mode = source(kind, name, tmp_path / "unused")
    tracemalloc.start()
    try:
        with pytest.raises(sandbox.SandboxError):
            if mode == "eval":
                sandbox.evaluate(code, {}, _helpers(clock))
            else:
                sandbox.execute(code, {}, _helpers(clock))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak:,} bytes"


def test_shared_parts_are_still_fine_when_small(clock):
    data: dict = {}
    sandbox.execute("rad = ['ja', 'nei']\ntabell = [rad] * 3\ntekst = f'{tabell}'\nn = len(str(tabell))", data,
                    _helpers(clock))
    assert data["tabell"] == [["ja", "nei"]] * 3 and data["n"] == len(str(data["tabell"])) == 45


def test_enough_escapes_are_tried():
    assert len(EXPRESSIONS) + len(STATEMENTS) >= 25


@pytest.mark.parametrize("code, expected", [
    ("arbeidsdager_for(f'{skolear + 1}-02-28', 3)", "2027-02-24T08:00:00+01:00"),
    ("{'elev': 'A', 'ansatt': 'B'}[krenker_type] == 'A' and len(navn.strip().split()) == 2", True),
    ("sorted([x * 2 for x in range(5) if x != 2], reverse=True)[:2]", [8, 6]),
    ("max(len(k) for k in {'a': 1, 'bcd': 2}.keys()) + round(2.5) + abs(-1)", 6),
    ("f\"{navn!r} {skolear}\"", "' Emma Hansen ' 2026"),
])
def test_what_a_process_owner_may_write_still_works(code, expected, clock):
    data = {"skolear": 2026, "krenker_type": "elev", "navn": " Emma Hansen "}
    assert sandbox.problems(code, "eval", HELPER_NAMES) == []
    assert sandbox.evaluate(code, data, _helpers(clock)) == expected


def test_a_script_sets_and_changes_the_cases_data(clock):
    data = {"skolear": 2026, "tiltak": [{"hva": "samtale"}]}
    script = ("skolear = skolear + 1\nn = 0\nwhile n < 3:\n    n += 1\n"
              "tiltak.append({'hva': 'oppfølging'})\nroller = {'a': 'rektor'}\nroller['b'] = 'skoleeier'\n"
              "for t in tiltak:\n    t['ferdig'] = False\ndel n, t")
    sandbox.execute(script, data, _helpers(clock))
    assert data == {"skolear": 2027, "roller": {"a": "rektor", "b": "skoleeier"},
                    "tiltak": [{"hva": "samtale", "ferdig": False}, {"hva": "oppfølging", "ferdig": False}]}


def test_a_failed_script_leaves_the_data_as_it_was(clock):
    data = {"skolear": 2026}
    with pytest.raises(sandbox.SandboxError):
        sandbox.execute("skolear = 1\nx = 'a' * 100000", data, _helpers(clock))
    assert data == {"skolear": 2026}


# -- deploy (the same analysis the modeler's validation runs) ----------------------------------

ELEMENT_OF = {"timer": "hendelsen «Frist» (Frist)", "condition": "flyten «Ja» (F3)",
              "script": "skriptoppgaven «Regn ut» (Skript)"}


def test_the_sandbox_diagram_itself_deploys(sqlite_kap12):
    results = sqlite_kap12.deploy([("sandkasse.bpmn", sandbox_diagram())], actor=None, comment="test")
    assert [r.process_id for r in results] == ["sandkasse"]


@pytest.fixture(scope="module")
def deploying(new_kap12, tmp_path_factory):
    """One engine for all the deploy attempts: a refused deploy stores nothing."""
    tmp = tmp_path_factory.mktemp("sandbox-deploy")
    kap12 = new_kap12(f"sqlite:///{tmp}/kap12.sqlite3", tmp)
    yield kap12
    kap12.close()


@pytest.mark.parametrize("kind, name", CASES)
def test_deploy_refuses_each_escape_naming_the_element(deploying, kind, name, marker):
    code, mode = source(kind, name, marker)
    statically_refused = bool(sandbox.problems(code, mode, HELPER_NAMES))
    try:
        deploying.deploy([("sandkasse.bpmn", escape_diagram(kind, name, marker))], actor=None, comment="x")
    except DeployRefused as err:
        assert any(p.startswith(("Tidsuttrykket", "Betingelsen", "Skriptet")) and ELEMENT_OF[kind] in p
                   for p in err.problems), err.problems
        assert all(len(p) < 600 and p.endswith(".") for p in err.problems)
        return
    # Only code whose limits show when it runs may be deployed; running it is stopped (see below).
    assert not statically_refused and kind in ("condition", "script"), f"{kind} {name} was deployed"


# -- a running case and re-execution, on a version stored without these checks -----------------

def _stored_unchecked(kap12, replace: dict[str, tuple[str, str]]) -> None:
    """Rewrite the newest kap12_sak version's spec from its sources with ``replace``
    ({process: (old, new)}), skipping kap12's checks: a version stored by an older kap12, or
    written into the database directly, is what the sandbox must hold against at run time."""
    with kap12.db.writing() as session:
        row = latest_version(session, "kap12_sak")
        parser = spiff.new_parser()
        for pid, src in row.sources.items():
            xml = src["xml"]
            if pid in replace:
                old, new = replace[pid]
                assert old in xml
                xml = xml.replace(old, new, 1)
            parser.add_bpmn_xml(safe_parse(xml.encode("utf-8")), filename=src["file"])
        row.spec = spiff.spec_to_dict(parser.get_spec("kap12_sak"), parser.get_subprocess_specs("kap12_sak"))


SCRIPT = "prosedyre = {'elev': 'A', 'ansatt': 'B', 'ledelse': 'C'}[krenker_type]"
CONDITION = "prosedyre == 'A'"
TIMER = "slutt_arbeidsdag()"


def _runtime_replacement(kind: str, name: str, marker) -> dict[str, tuple[str, str]]:
    code, _ = source(kind, name, marker)
    if kind == "script":
        return {"kap12_sak": (escape(SCRIPT), escape(f"{SCRIPT}\n{code}"))}
    if kind == "condition":
        return {"kap12_sak": (f">{escape(CONDITION)}<", f">{escape(f'({code}) or {CONDITION}')}<")}
    return {"prosedyre_a": (f">{TIMER}<", f">{escape(code)}<")}


@pytest.fixture(scope="module")
def recorded(flow_on, new_kap12, tmp_path_factory):
    """A database with the demo county and one case recorded on the bundled diagrams."""
    from engine.write.demo import ensure_directory
    tmp = tmp_path_factory.mktemp("sandbox-runtime")
    url = f"sqlite:///{tmp}/kap12.sqlite3"
    kap12 = new_kap12(url, tmp)
    clock = kap12.clock
    demo = ensure_directory(kap12)
    case = flow_on(kap12, demo).report()
    kap12.close()
    return type("Recorded", (), {"url": url, "tmp": tmp, "clock": clock, "demo": demo, "case_id": case.id})


# Every escape as a script; a spread of them as a condition and a timer (the same evaluator).
RUNTIME = [("script", n) for n in [*EXPRESSIONS, *STATEMENTS]] + [
    (kind, n) for kind in ("condition", "timer")
    for n in ("import", "subclasses_popen", "getattr_chain", "format_walk", "generator_frame", "type_new_class",
              "huge_power", "huge_string", "nested_loops", "helper_work", "lambda_recursion")]


@pytest.mark.parametrize("kind, name", RUNTIME)
def test_a_running_case_and_its_reexecution_are_unaffected(flow_on, make_kap12, recorded, kind, name, marker):
    kap12 = make_kap12(recorded.url, recorded.tmp, recorded.clock)
    try:
        _stored_unchecked(kap12, _runtime_replacement(kind, name, marker))
        with kap12.db.reading() as session:
            before = session.scalar(select(func.count()).select_from(Case))
        with pytest.raises(Exception) as err:  # the report fails: the diagram's code is refused
            flow_on(kap12, recorded.demo).report()
        assert _caused_by_sandbox(err.value), repr(err.value)
        with kap12.db.reading() as session:
            assert session.scalar(select(func.count()).select_from(Case)) == before  # nothing half-written
        result = verify_case(kap12, recorded.case_id)  # re-running the recorded report hits the code too
        assert not result.verified and result.chain.ok
    finally:
        kap12.close()


def _caused_by_sandbox(err: BaseException | None) -> bool:
    """The failure is the sandbox refusing (or a helper refusing to count a billion days)."""
    while err is not None:
        for cause in (err, getattr(err, "exception", None)):
            if isinstance(cause, sandbox.SandboxError) or "arbeidsdager: n må være" in str(cause):
                return True
        err = err.__cause__ or err.__context__
    return False


def test_the_bundled_case_still_verifies_after_all_that(make_kap12, recorded):
    kap12 = make_kap12(recorded.url, recorded.tmp, recorded.clock)
    try:
        _stored_unchecked(kap12, {})
        assert verify_case(kap12, recorded.case_id).verified
    finally:
        kap12.close()
