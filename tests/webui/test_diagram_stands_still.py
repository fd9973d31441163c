"""A deployed diagram that lets a case run on to nothing — here a wait for a message nothing
sends, elsewhere a loop of gateways or a flow that never matches — would leave an open case
with no task and no deadline, which nobody would ever see again. The step is refused like any
failure of the diagram's own making: nothing is written, and the page says who can mend it."""
from __future__ import annotations

import pytest

from engine.config import PROJECT_ROOT
from engine.errors import DiagramFailed
from engine.write import demo
from engine.write.unit_of_work import STOOD_STILL
from tests.support.diagrams import deploy_unwalked
from tests.support.web import csrf_of, login

SCRIPT = '''<bpmn:scriptTask id="Script_saksansvarlig" name="Sett saksansvarlig" scriptFormat="python">
      <bpmn:incoming>Flow_Gw_alvorlig_Script_saksansvarlig</bpmn:incoming>
      <bpmn:outgoing>Flow_Script_saksansvarlig_Call_oppfolging</bpmn:outgoing>
      <bpmn:script>saksansvarlig_rolle = 'avdelingsleder'
eskaleringsrolle = 'rektor'</bpmn:script>
    </bpmn:scriptTask>'''
NEVER = '''<bpmn:intermediateCatchEvent id="Script_saksansvarlig" name="Vent på svar">
      <bpmn:incoming>Flow_Gw_alvorlig_Script_saksansvarlig</bpmn:incoming>
      <bpmn:outgoing>Flow_Script_saksansvarlig_Call_oppfolging</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="Message_aldri"/>
    </bpmn:intermediateCatchEvent>'''


@pytest.fixture(scope="module")
def waits_for_nothing(env):
    xml = (PROJECT_ROOT / "bpmn" / "prosedyre_a.bpmn").read_text(encoding="utf-8")
    assert SCRIPT in xml
    xml = xml.replace(SCRIPT, NEVER).replace("</bpmn:definitions>",
                                             '<bpmn:message id="Message_aldri" name="aldri"/></bpmn:definitions>')
    results = deploy_unwalked(env.kap12, [("prosedyre_a.bpmn", xml.encode("utf-8"))], "venter på ingenting")
    assert any(r.created for r in results), results
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    [task] = env.kap12.case_tasks(case.id)
    return case, task


def test_a_step_that_would_leave_the_case_with_nothing_open_is_refused(env, waits_for_nothing):
    case, task = waits_for_nothing
    before = [e.kind for e in env.kap12.case_history(case.id)]
    with pytest.raises(DiagramFailed) as err:
        env.kap12.complete(env.demo.users["avdelingsleder"], task.id, {"mottatt_vurdering": "Vurdert."})
    assert err.value.element == "Vent på svar" and err.value.reason == STOOD_STILL
    assert [e.kind for e in env.kap12.case_history(case.id)] == before
    assert [t.id for t in env.kap12.case_tasks(case.id)] == [task.id]  # still with the leadership


def test_the_task_page_says_so_and_keeps_what_was_typed(env, waits_for_nothing):
    case, task = waits_for_nothing
    client = login(env.app, "avdelingsleder")
    page = client.get(f"/oppgaver/{task.id}")
    typed = "Eleven er redd for å gå i friminuttene."
    response = client.post(f"/oppgaver/{task.id}", data={"_csrf": csrf_of(page.text), "mottatt_vurdering": typed})
    assert response.status_code == 409
    assert "Prosessen stoppet ved «Vent på svar»" in response.text
    assert "uten noen åpen oppgave eller frist" in response.text and typed in response.text
