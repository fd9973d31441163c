"""A process owner in a real Chromium: opens prosedyre_a in the modeler, adds a user task with
an existing form in the right lane (the form chosen through the properties panel), sees the
validation go from a problem to none, publishes with a comment and sees the diff; a new case
meets the new task while cases started before follow the old version; then the owner moves
the waiting old case to the new version and the move stands in its history. Screenshots go to
$KAP12_TEST_OUTPUT/browser/modeler-NN-*.png."""
from __future__ import annotations

import pytest

from engine.read.element_names import name_table
from engine.store.models import Case
from engine.versions.example_data import example_data
from engine.write import demo
from processes import forms
from tests.support.browser import serving
from tests.support.chromium import chromium_available, test_output_dir
from tests.support.diagrams import NEW_TASK
from tests.support.web import make_kap12
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]

DESKTOP = {"width": 1440, "height": 950}
NEW_TASK_NN = "Snakke med føresette"
NORDLI = "Nordli videregående skole"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, clock = make_kap12(tmp_path_factory.mktemp("modeler-browser"))
    directory = demo.ensure_directory(kap12)
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "kap12": kap12, "clock": clock,
                              "demo": directory})
    kap12.close()


class Shots:
    def __init__(self):
        self.dir = test_output_dir("browser")
        self.n = 0

    def __call__(self, page, name: str):
        self.n += 1
        page.screenshot(path=str(self.dir / f"modeler-{self.n:02d}-{name}.png"), full_page=True)


def log_in(page, server, username):
    page.goto(f"{server.url}/logg-inn")
    page.fill("#username", username)
    page.fill("#password", demo.PASSWORD)
    page.click("button:has-text('Logg inn')")
    page.wait_for_url("**/oppgaver")


def log_out(page):
    page.click("button:has-text('Logg ut')")
    page.wait_for_url("**/logg-inn**")


def report(server):
    return server.kap12.report(server.demo.users["ansatt"], server.demo.schools[NORDLI], demo.report_data())


def complete(server, case_id, title):
    viewer = server.demo.users["avdelingsleder"]
    [task] = [t for t in server.kap12.tasks_for(viewer) if t.case_id == case_id and t.title == title]
    server.kap12.complete(viewer, task.id, example_data(forms.get_form(task.form_key),
                                                              server.clock.now().date()))


def titles(server, case_id):
    return sorted(t.title for t in server.kap12.case_tasks(case_id))


def version_of(server, case_id):
    with server.kap12.db.reading() as session:
        return session.get(Case, case_id).definition.version


ADD_TASK = """() => {
  const m = window.kap12Modeler;
  const reg = m.get('elementRegistry'), modeling = m.get('modeling');
  const flow = reg.get('Flow_Task_motta_melding_Gw_alvorlig');
  const task = modeling.createShape({ type: 'bpmn:UserTask' }, { x: 772, y: 160 }, reg.get('Participant_prosedyre_a'));
  modeling.reconnectEnd(flow, task, { x: 722, y: 160 });
  modeling.connect(task, reg.get('Gw_alvorlig'));
  m.get('selection').select(task);
  return task.id;
}"""


def test_owner_changes_a_procedure_and_moves_a_waiting_case(browser, server):
    shot = Shots()
    page = browser.new_page(viewport=DESKTOP, locale="nb-NO")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    waiting = report(server)   # stays at «Motta og registrere melding»: will be moved
    advanced = report(server)  # will have gone past it on the old version: cannot be moved

    log_in(page, server, "prosesseier")
    page.click("nav >> text=Prosesser")
    page.wait_for_url("**/prosesser")
    assert "Versjon 1" in page.inner_text("#p-prosedyre_a")
    shot(page, "prosesser")

    page.click("#p-prosedyre_a >> text=Rediger i modellereren")
    page.wait_for_selector("#modeler[data-ready='1']")
    page.wait_for_selector("#modeler[data-checked='ok']")
    assert "Ingen feil" in page.inner_text("#check-status")
    shot(page, "modeller-apnet")

    # Add a user task after «Motta og registrere melding», in the lane Skoleledelse.
    task_id = page.evaluate(ADD_TASK)
    page.wait_for_selector("#modeler[data-checked='problems']")
    problem = page.locator(f"#problems button[data-element='{task_id}']")
    assert "har ikke noe skjema" in problem.inner_text()
    shot(page, "ny-oppgave-uten-skjema")
    page.click("#check-status")  # deselect nothing; then pick the problem to select the element
    problem.click()
    page.wait_for_selector("#p-usertask:not([hidden])")
    page.fill("#p-name", NEW_TASK)
    page.press("#p-name", "Tab")
    page.fill("#p-name-nn", NEW_TASK_NN)
    page.press("#p-name-nn", "Tab")
    page.select_option("#p-form", "gjennomforing")
    page.wait_for_selector("#modeler[data-checked='ok']")
    assert "Ingen feil" in page.inner_text("#check-status")
    lane = page.evaluate("""(id) => {
      const bo = window.kap12Modeler.get('elementRegistry').get(id).businessObject;
      return [bo.name, bo.get('camunda:formKey'), (bo.lanes || []).map(l => l.name)];
    }""", task_id)
    assert lane == [NEW_TASK, "gjennomforing", ["Skoleledelse"]]
    shot(page, "ny-oppgave-med-skjema")

    # Publish: a comment is required.
    page.click("#deploy")
    assert "kommentar" in page.inner_text("#publish-error")
    page.fill("#comment", "Samtale med foresatte etter mottak")
    page.click("#deploy")
    page.wait_for_url("**/prosesser/prosedyre_a/versjon/2")
    page.wait_for_selector("#version-diagram[data-ready='1']")
    body = page.inner_text("main")
    assert "Publisert:" in body and f"Lagt til: brukeroppgave «{NEW_TASK}» ({task_id})" in body
    assert page.locator(f".djs-element.diff-added[data-element-id='{task_id}']").count() == 1
    assert name_table(server.kap12.db, "nn")[NEW_TASK] == NEW_TASK_NN  # the panel's kap12.navn.nn, deployed
    shot(page, "publisert-med-endringer")

    # A new case follows the new version and meets the new task after the first one.
    new_version = version_of(server, waiting.id) + 1
    fresh = report(server)
    assert version_of(server, fresh.id) == new_version
    complete(server, fresh.id, "Motta og registrere melding")
    assert titles(server, fresh.id) == [NEW_TASK]
    # A case started before follows its old version: no new task after the first one.
    complete(server, advanced.id, "Motta og registrere melding")
    assert NEW_TASK not in titles(server, advanced.id)
    assert version_of(server, advanced.id) == new_version - 1

    log_out(page)
    log_in(page, server, "avdelingsleder")
    assert NEW_TASK in page.inner_text("main")
    shot(page, "ny-oppgave-i-oppgavelisten")
    log_out(page)

    # The owner moves the waiting old case; the advanced one cannot be moved.
    log_in(page, server, "prosesseier")
    page.goto(f"{server.url}/prosesser/flytt-saker")
    assert "Ja" in page.inner_text(f"#case-{waiting.id}")
    assert "Nei – flyttes ikke" in page.inner_text(f"#case-{advanced.id}")
    assert "Åpnes på nytt" in page.inner_text(f"#case-{waiting.id}")
    shot(page, "flytt-saker")
    page.fill("#begrunnelse", "Alle saker skal ha samtale med foresatte")
    page.click("button:has-text('Flytt valgte saker')")
    page.wait_for_selector(".flash-success")
    assert f"{waiting.number}" in page.inner_text(".flash-success")
    shot(page, "flyttet")
    assert version_of(server, waiting.id) == new_version
    assert version_of(server, advanced.id) == new_version - 1
    log_out(page)

    log_in(page, server, "avdelingsleder")
    page.goto(f"{server.url}/saker/{waiting.id}")
    timeline = page.inner_text("main")
    assert "Saken ble flyttet fra versjon" in timeline  # the migration, in words, in the timeline
    shot(page, "historikk-etter-flytting")
    complete(server, waiting.id, "Motta og registrere melding")
    assert titles(server, waiting.id) == [NEW_TASK]
    assert not errors, errors
