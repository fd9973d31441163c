"""The process owner's pages through Flask's client: the version list, download, validation
with the element each problem names, deploy with a diff, upload, and moving open cases."""
from __future__ import annotations

import io
import json

import pytest

from engine.config import PROJECT_ROOT
from engine.write import demo as demo_module
from tests.support.diagrams import NEW_TASK, prosedyre_a
from tests.support.web import login, token

BPMN = PROJECT_ROOT / "bpmn"


def _json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRF-Token": token(client, "/prosesser")})


@pytest.fixture
def owner(env):
    return login(env.app, "prosesseier")


def test_only_process_owners_and_administrators(env):
    worker = login(env.app, "avdelingsleder")
    assert worker.get("/prosesser").status_code == 403
    assert "Prosesser" not in worker.get("/oppgaver").text
    for who in ("prosesseier", "admin"):
        client = login(env.app, who)
        page = client.get("/prosesser")
        assert page.status_code == 200, who
        assert 'href="/prosesser"' in client.get("/oppgaver").text
    anonymous = env.app.test_client()
    assert anonymous.get("/prosesser").status_code == 302


def test_the_list_shows_every_process_with_versions(env, owner):
    page = owner.get("/prosesser").text
    for pid in ("kap12_sak", "prosedyre_a", "prosedyre_b", "prosedyre_c", "oppfolging"):
        assert f'id="p-{pid}"' in page
        assert f"/prosesser/{pid}/versjon/1.bpmn" in page
    assert "Diagrammene som følger med kap12" in page


def test_download_gives_the_exact_source(env, owner):
    response = owner.get("/prosesser/prosedyre_a/versjon/1.bpmn")
    assert response.status_code == 200
    assert 'attachment; filename="prosedyre_a-v1.bpmn"' == response.headers["Content-Disposition"]
    assert b'id="Task_motta_melding"' in response.data
    assert owner.get("/prosesser/prosedyre_a/versjon/99.bpmn").status_code == 404
    assert owner.get("/prosesser/..%2Fetc/versjon/1.bpmn").status_code == 404


def test_version_page_and_modeler_page(env, owner):
    page = owner.get("/prosesser/prosedyre_a/versjon/1").text
    assert "første versjon" in page and 'id="version-diagram"' in page
    editor = owner.get("/prosesser/prosedyre_a/rediger")
    assert editor.status_code == 200
    html = editor.text
    assert 'data-src="/prosesser/prosedyre_a/versjon/' in html and "camunda.json" in html
    assert "bpmn-modeler.production.min.js" in html and "bpmnlint.min.js" in html
    assert '<option value="motta_melding">' in html and '<option value="Skoleledelse">' in html
    assert "<script>" not in html  # CSP: no inline script
    new = owner.get("/prosesser/prosedyre_d/rediger").text
    assert 'data-src="/prosesser/prosedyre_d/tom.bpmn"' in new
    empty = owner.get("/prosesser/prosedyre_d/tom.bpmn")
    assert b'<bpmn:process id="prosedyre_d"' in empty.data
    for path in ("static/vendor/camunda-bpmn-moddle/camunda.json", "static/vendor/bpmnlint/bpmnlint.min.js",
                 "static/js/modeler.js"):
        assert owner.get("/" + path).status_code == 200, path


def test_validation_names_the_element(env, owner):
    ok = _json(owner, "/prosesser/valider", {"xml": (BPMN / "prosedyre_a.bpmn").read_text(), "filename": "prosedyre_a.bpmn"})
    assert ok.status_code == 200 and ok.json == {"ok": True, "problems": []}
    broken = (BPMN / "prosedyre_a.bpmn").read_text().replace('camunda:formKey="varsle_skoleeier"', 'camunda:formKey="finnes_ikke"')
    broken = broken.replace('name="Rektor">', 'name="Rektorat">', 1)
    result = _json(owner, "/prosesser/valider", {"xml": broken, "filename": "prosedyre_a.bpmn"}).json
    assert not result["ok"]
    by_element = {p["element"]: p["message"] for p in result["problems"]}
    assert "finnes_ikke" in by_element["Task_varsle_skoleeier"]
    assert "Rektorat" in by_element["Lane_prosedyre_a_1"]
    garbage = _json(owner, "/prosesser/valider", {"xml": "<nope", "filename": "x.bpmn"}).json
    assert garbage["ok"] is False and garbage["problems"][0]["element"] is None
    assert "ikke gyldig XML" in garbage["problems"][0]["message"]


def test_validation_needs_the_csrf_token(env, owner):
    response = owner.post("/prosesser/valider", data=json.dumps({"xml": "<x/>"}), content_type="application/json")
    assert response.status_code == 400


def test_deploy_needs_a_comment_then_shows_the_diff(env, owner):
    xml = prosedyre_a(new_task=True).decode("utf-8")
    refused = _json(owner, "/prosesser/publiser", {"xml": xml, "filename": "prosedyre_a.bpmn", "comment": " "})
    assert refused.status_code == 422 and "kommentar" in refused.json["problems"][0]["message"]
    done = _json(owner, "/prosesser/publiser", {"xml": xml, "filename": "prosedyre_a.bpmn", "comment": "Ny samtale"})
    assert done.status_code == 200 and done.json["ok"], done.json
    created = {(r["process_id"], r["created"]) for r in done.json["results"]}
    assert ("prosedyre_a", True) in created and ("kap12_sak", True) in created
    page = owner.get(done.json["redirect"]).text
    assert "Publisert:" in page and "Endringer fra versjon 1" in page
    assert f"Lagt til: brukeroppgave «{NEW_TASK}» (Task_foresatte)" in page
    assert 'data-added="' in page and "Task_foresatte" in page.split('data-added="')[1].split('"')[0]
    again = _json(owner, "/prosesser/publiser", {"xml": xml, "filename": "prosedyre_a.bpmn", "comment": "Igjen"})
    assert again.json["ok"] and not any(r["created"] for r in again.json["results"])
    assert "Ingen ny versjon" in again.json["message"]
    listing = owner.get("/prosesser").text
    assert "Ny samtale" in listing and "Paul Prosesseier" in listing


def test_upload_from_camunda_modeler(env, owner):
    source = (BPMN / "prosedyre_c.bpmn").read_bytes().replace(b'exporter="kap12 authoring"', b'exporter="Camunda Modeler"')
    csrf = token(owner, "/prosesser")
    no_comment = owner.post("/prosesser/last-opp", data={"_csrf": csrf, "kommentar": "",
                                                         "fil": (io.BytesIO(source), "prosedyre_c.bpmn")})
    assert no_comment.status_code == 422 and "kommentar" in no_comment.text
    broken = owner.post("/prosesser/last-opp", data={"_csrf": csrf, "kommentar": "Test",
                                                     "fil": (io.BytesIO(b"<bpmn"), "feil.bpmn")})
    assert broken.status_code == 422 and "feil.bpmn ble ikke publisert" in broken.text
    done = owner.post("/prosesser/last-opp", data={"_csrf": csrf, "kommentar": "Fra Camunda Modeler",
                                                   "fil": (io.BytesIO(source), "prosedyre_c.bpmn")})
    assert done.status_code == 302 and "/prosesser/prosedyre_c/versjon/2" in done.headers["Location"]


def test_migrating_open_cases(env, owner):
    kap12 = env.kap12
    viewer = env.demo.users["ansatt"]
    case = kap12.report(viewer, env.nordli, demo_module.report_data())
    xml = prosedyre_a(new_task=True, rename_motta="Motta melding og registrere den").decode("utf-8")
    done = _json(owner, "/prosesser/publiser", {"xml": xml, "filename": "prosedyre_a.bpmn", "comment": "Nytt navn"})
    target = [r for r in done.json["results"] if r["process_id"] == "kap12_sak"][0]["version"]
    page = owner.get(f"/prosesser/flytt-saker?til={target}").text
    assert case.number in page and "Åpnes på nytt" in page
    csrf = token(owner, "/prosesser")
    missing_reason = owner.post("/prosesser/flytt-saker", data={"_csrf": csrf, "til": target, "sak": case.id,
                                                                "begrunnelse": ""}, follow_redirects=True)
    assert "Skriv hvorfor" in missing_reason.text
    moved = owner.post("/prosesser/flytt-saker", data={"_csrf": csrf, "til": target, "sak": case.id,
                                                       "begrunnelse": "Nytt navn på mottaket"}, follow_redirects=True)
    assert f"Flyttet til versjon {target}: {case.number}" in moved.text
    events = [e for e in kap12.case_history(case.id) if e.kind == "migrated"]
    assert events and events[0].data["to_version"] == target and events[0].actor == "Paul Prosesseier"


def test_validation_says_when_a_case_would_skip_a_duty_of_the_law(env, owner):
    """A pupil who says it is not safe must get a plan: a diagram whose flow to the plan can
    never be taken is named as such before anything is deployed (engine/write/law_walk.py); one
    whose gateway then has no way on is named at the gateway."""
    text = (BPMN / "oppfolging.bpmn").read_text().replace("trygt_skolemiljo in ('nei', 'ja_tiltak')", "§§").replace(
        "trygt_skolemiljo == 'ja'", "trygt_skolemiljo in ('ja', 'nei', 'ja_tiltak')").replace("§§", "False")
    result = _json(owner, "/prosesser/valider", {"xml": text, "filename": "oppfolging.bpmn"}).json
    assert result["ok"] is False
    assert any("hopper over noe loven krever" in p["message"] and "§ 12-4" in p["message"]
               for p in result["problems"]), result
    dead_end = (BPMN / "oppfolging.bpmn").read_text().replace("trygt_skolemiljo in ('nei', 'ja_tiltak')", "False")
    result = _json(owner, "/prosesser/valider", {"xml": dead_end, "filename": "oppfolging.bpmn"}).json
    assert any(p["element"] == "Gw_trygt" and "kommer ikke til en slutt" in p["message"] for p in result["problems"])
