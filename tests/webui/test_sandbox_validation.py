"""The modeler's live validation runs diagram code only in the sandbox: every known escape, as
a timer, a condition and a script, is refused with the element it is on (or, for code whose
limits show only when it runs, passes without running anything), and never runs a command on
the server — before this, a timer sent to /prosesser/valider ran as the server's user."""
from __future__ import annotations

import json

import pytest

from engine.runtime import sandbox
from engine.versions.diagram_check import HELPER_NAMES
from tests.support.sandbox_escapes import CASES, EXPRESSIONS, escape_diagram, sandbox_diagram, source
from tests.support.web import login, token

ELEMENT_ID = {"timer": "Frist", "condition": "F3", "script": "Skript"}


@pytest.fixture(scope="module")
def owner(env):
    client = login(env.app, "prosesseier")
    return client, token(client, "/prosesser")


@pytest.mark.parametrize("kind, name", CASES)
def test_validation_refuses_each_escape_without_running_it(owner, kind, name, tmp_path):
    client, csrf = owner
    marker = tmp_path / "rømt"
    xml = escape_diagram(kind, name, marker).decode("utf-8")
    response = client.post("/prosesser/valider", data=json.dumps({"xml": xml, "filename": "sandkasse.bpmn"}),
                           content_type="application/json", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert not marker.exists(), "the validation endpoint ran diagram code on the server"
    result = response.json
    code, mode = source(kind, name, marker)
    if result["ok"]:  # only what the limits stop when it runs, and never a timer (evaluated here)
        assert kind != "timer" and not sandbox.problems(code, mode, HELPER_NAMES), name
        return
    assert any(p["element"] == ELEMENT_ID[kind] for p in result["problems"]), result["problems"]


def test_the_timer_from_the_report_is_refused(owner, tmp_path):
    """The exact timer from the finding: it ran ``id`` as the server's user."""
    client, csrf = owner
    marker = tmp_path / "x"
    timer = f"(__import__('os').system('id > {marker}'), 'PT1H')[1]"
    xml = sandbox_diagram(timer=timer).decode("utf-8")
    result = client.post("/prosesser/valider", data=json.dumps({"xml": xml, "filename": "x.bpmn"}),
                         content_type="application/json", headers={"X-CSRF-Token": csrf}).json
    assert not marker.exists()
    assert not result["ok"]
    [problem] = [p for p in result["problems"] if p["element"] == "Frist"]
    assert "«__import__» begynner med _" in problem["message"]
    assert "import" in EXPRESSIONS  # the same escape is in the suite, as a condition and a script too
