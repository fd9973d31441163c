"""When a deployed diagram's own code fails while a case runs — the sandbox stops a runaway
loop, an expression names a variable the case does not have — the person at the keyboard did
nothing wrong: the page says where the process stopped and who can mend it, keeps what they
typed, and nothing is written. (Before, this was the generic 500 page and the text was gone.)"""
from __future__ import annotations

import pytest

from engine.config import PROJECT_ROOT
from engine.errors import DiagramFailed
from engine.store.events import TASK_COMPLETED
from engine.write import demo
from tests.support.diagrams import deploy_unwalked
from tests.support.web import csrf_of, login

BPMN = PROJECT_ROOT / "bpmn"
RUNAWAY = "n = 0\nwhile n >= 0:\n    n = n + 1\n"  # passes the static checks; the step budget stops it


def _deploy_changed(env, filename: str, old: str, new: str) -> None:
    xml = (BPMN / filename).read_text(encoding="utf-8")
    assert old in xml
    results = deploy_unwalked(env.kap12, [(filename, xml.replace(old, new, 1).encode("utf-8"))], "feil i diagrammet")
    assert any(r.created for r in results), results


@pytest.fixture(scope="module")
def runaway_after_receipt(env):
    """Procedure A with a runaway loop in the script that runs after "Motta og registrere melding"."""
    _deploy_changed(env, "prosedyre_a.bpmn", "<bpmn:script>saksansvarlig_rolle = 'avdelingsleder'",
                    f"<bpmn:script>{RUNAWAY}saksansvarlig_rolle = 'avdelingsleder'")
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    [task] = env.kap12.case_tasks(case.id)
    return case, task


def test_the_engine_names_the_step_and_writes_nothing(env, runaway_after_receipt):
    case, task = runaway_after_receipt
    leader = env.demo.users["avdelingsleder"]
    before = [e.kind for e in env.kap12.case_history(case.id)]
    with pytest.raises(DiagramFailed) as err:
        env.kap12.complete(leader, task.id, {"mottatt_vurdering": "Vurdert."})
    assert err.value.element == "Sett saksansvarlig"
    assert err.value.reason  # the sandbox's own sentence about the limit
    assert "Ingenting ble lagret" in str(err.value) and "prosesseier" in str(err.value)
    assert [e.kind for e in env.kap12.case_history(case.id)] == before
    assert [t.id for t in env.kap12.case_tasks(case.id)] == [task.id]


def test_the_task_page_keeps_what_was_typed(env, runaway_after_receipt):
    case, task = runaway_after_receipt
    client = login(env.app, "avdelingsleder")
    page = client.get(f"/oppgaver/{task.id}")
    typed = "Eleven er redd for å gå i friminuttene; vi har snakket med begge."
    response = client.post(f"/oppgaver/{task.id}", data={"_csrf": csrf_of(page.text), "mottatt_vurdering": typed})
    assert response.status_code == 409
    assert "Prosessen stoppet ved «Sett saksansvarlig»" in response.text
    assert "Gi beskjed til prosesseier" in response.text
    assert typed in response.text  # still in the form, ready to send again once the diagram is mended
    assert TASK_COMPLETED not in [e.kind for e in env.kap12.case_history(case.id)]


def test_a_failing_report_keeps_the_text_and_sends_the_reporter_to_the_leadership(env, runaway_after_receipt):
    # Last in this module: from here on, every new report in this database fails.
    _deploy_changed(env, "kap12_sak.bpmn", "<bpmn:script>prosedyre =",
                    "<bpmn:script>sjekk = ukjent_variabel\nprosedyre =")
    client = login(env.app, "ansatt")
    page = client.get("/melding/ny")
    before = len(env.kap12.cases_for(env.demo.users["rektor"]))
    story = "Emil ble dyttet ned trappa i dag og sier det skjer hver uke."
    response = client.post("/melding/ny", data={"_csrf": csrf_of(page.text), "school_id": str(env.nordli),
                                                **demo.report_data(hva_skjedde=story, anklaget_bruker="")})
    assert response.status_code == 409
    assert "Meldingen ble ikke lagret" in response.text
    assert "Si fra til ledelsen på skolen direkte nå" in response.text
    assert story in response.text
    assert len(env.kap12.cases_for(env.demo.users["rektor"])) == before
