"""Revisjon through Flask's client: the replay page with its verdicts and per-event frames, the
heat view, exports (JSON, PDF, masked for an access request) and the read log; auditors change
nothing, and nobody else gets in."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
import tinyhtml5

from engine.audit.replay import verify_case
from engine.versions.example_data import example_data
from engine.write.demo import complete_next, report_data
from processes import forms
from tests.support.chromium import test_output_dir
from tests.support.web import login, token

PAYLOAD = re.compile(r'<script type="application/json" id="replay-payload">(.*?)</script>', re.S)


def _do(env, user, case_id, **data):
    complete_next(env.kap12, env.demo.users[user], case_id, **data)


@pytest.fixture(scope="module")
def closed_a(env):
    """An A case: received, investigated (not safe), planned, carried out, evaluated, closed."""
    env.clock.set(env.clock.now() + timedelta(days=1))
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data(
        krenker_navn="Per Faglærer og Jonas Berg", andre_som_vet="Kari Lærer",
        hva_skjedde="Emma sier at Per Faglærer så det uten å gripe inn."))
    _do(env, "avdelingsleder", case.id)
    _do(env, "avdelingsleder", case.id, trygt_skolemiljo="nei", elevens_stemme="Jeg gruer meg til friminuttene.")
    _do(env, "avdelingsleder", case.id, evalueringsdato=(env.clock.now() + timedelta(days=14)).date().isoformat())
    _do(env, "avdelingsleder", case.id)
    env.clock.set(env.clock.now() + timedelta(days=15))
    env.kap12.sweep_timers()
    _do(env, "avdelingsleder", case.id, evaluering_resultat="trygt", elevens_stemme="Det er bedre nå.")
    _do(env, "avdelingsleder", case.id)
    return case.id


def _payload(html: str) -> dict:
    return json.loads(PAYLOAD.search(html)[1])


def test_replay_page_verifies_and_serves_frames(env, closed_a):
    client = login(env.app, "revisor")
    assert "Revisjon" in client.get("/oppgaver").text  # the nav link
    page = client.get(f"/revisjon/saker/{closed_a}")
    assert page.status_code == 200
    assert "Verifisert" in page.text and "Hashkjede hel" in page.text
    result = verify_case(env.kap12, closed_a)
    assert result.chain.last_hash in page.text
    data = _payload(page.text)
    assert {p["id"] for p in data["processes"]} == {"kap12_sak", "prosedyre_a", "oppfolging", "vent_evaluering"}
    assert data["verification"]["verified"] and data["verification"]["chain"]["ok"]
    frames = data["frames"]
    steps = [e for e in data["events"] if e["kind"] == "task_completed"]
    assert len(steps) == 6
    # The diagram and the data move at each step.
    done = [len(frames[e["frame"]]["completed"].get("oppfolging", [])) for e in steps]
    assert done == sorted(done) and done[-1] > done[1]
    plan = next(e for e in steps if "tiltaksplan" in e["text"].lower())
    assert "tiltak" in frames[plan["frame"]]["changed"]
    assert frames[data["events"][-1]["frame"]]["completed_case"]
    assert data["labels"]["elevens_stemme"]
    # The read is recorded, as coming from this page.
    assert any(e.kind == "case_read" and e.data["view"] == "revisjon" for e in env.kap12.case_history(closed_a))


HOSTILE_TEXT = "Eleven skrev <!--<script> i chatten </script> & 'så' >"


def _script_text_as_a_browser_reads_it(html: str, element_id: str) -> str:
    # An HTML5 tokenizer, not a regular expression: "<!--<script>" inside a script element
    # switches a browser into the "double escaped" state, where the closing tag is not seen.
    tree = tinyhtml5.parse(html)
    for script in tree.iter("{http://www.w3.org/1999/xhtml}script"):
        if script.get("id") == element_id:
            return script.text or ""
    raise AssertionError(f"no script element #{element_id}")


def test_replay_payload_survives_html_in_any_field(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data(hva_skjedde=HOSTILE_TEXT))
    client = login(env.app, "revisor")
    page = client.get(f"/revisjon/saker/{case.id}")
    assert page.status_code == 200
    embedded = _script_text_as_a_browser_reads_it(page.text, "replay-payload")
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    data = json.loads(embedded)
    assert data["frames"][-1]["data"]["hva_skjedde"] == HOSTILE_TEXT  # round-trips unchanged
    assert "Verifisert" in page.text


def test_case_page_links_to_the_replay_for_auditors_only(env, closed_a):
    assert f"/revisjon/saker/{closed_a}" in login(env.app, "revisor").get(f"/saker/{closed_a}").text
    assert "/revisjon/saker/" not in login(env.app, "avdelingsleder").get(f"/saker/{closed_a}").text


@pytest.mark.parametrize("user,code", [("avdelingsleder", 403), ("rektor", 403), ("ansatt", 403),
                                       ("skoleeier", 403), ("admin", 403)])
def test_only_auditors_open_the_revisjon_pages(env, closed_a, user, code):
    client = login(env.app, user)
    assert client.get(f"/revisjon/saker/{closed_a}").status_code == code
    assert client.get("/revisjon").status_code == code
    assert "Revisjon</a>" not in client.get("/oppgaver").text


def test_auditor_cannot_complete_a_task_through_the_web(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    task = env.kap12.case_tasks(case.id)[0]
    client = login(env.app, "revisor")
    page = client.get(f"/oppgaver/{task.id}")
    assert page.status_code == 200 and "Lagre og fullfør" not in page.text
    payload = example_data(forms.get_form(task.form_key), env.clock.now().date())
    form = {k: (json.dumps(v) if isinstance(v, (list, dict)) else ("on" if v is True else v))
            for k, v in payload.items() if v not in (None, False)}
    form["_csrf"] = token(client)
    response = client.post(f"/oppgaver/{task.id}", data=form)
    assert response.status_code in (403, 404)
    assert [t.id for t in env.kap12.case_tasks(case.id)] == [task.id]  # still open
    assert "task_completed" not in [e.kind for e in env.kap12.case_history(case.id)]
    claim = client.post(f"/oppgaver/{task.id}/ta", data={"_csrf": token(client)})
    assert claim.status_code in (302, 403, 404)
    assert env.kap12.case_tasks(case.id)[0].assignee_id is None


def test_heat_view_counts_cases_per_element(env, closed_a):
    client = login(env.app, "revisor")
    index = client.get("/revisjon")
    link = re.search(r'href="(/revisjon/prosesser/\d+)"', index.text)[1]
    page = client.get(link)
    assert page.status_code == 200
    data = json.loads(re.search(r'id="heat-payload">(.*?)</script>', page.text, re.S)[1])
    counts = data["counts"]
    assert counts["oppfolging"]["Task_undersokelse"]["passed"] >= 1
    assert counts["prosedyre_a"]["Task_motta_melding"]["passed"] >= 1
    assert "Undersøke saken" in page.text  # the table under the diagrams


def test_heat_view_counts_missed_deadlines(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    env.clock.set(env.clock.now() + timedelta(days=1))
    env.kap12.sweep_timers()
    version = env.kap12.case_history(case.id)[0].definition_id
    from engine.audit.heat import process_heat

    _, _, cells = process_heat(env.kap12, env.demo.users["revisor"], version)
    assert cells["prosedyre_a"]["Task_motta_melding"].missed >= 1
    assert cells["prosedyre_a"]["Task_motta_melding"].open_now >= 1


def test_json_export_for_statsforvalteren(env, closed_a):
    client = login(env.app, "revisor")
    response = client.get(f"/revisjon/saker/{closed_a}/eksport.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    doc = response.get_json(force=True)
    assert doc["sak"]["prosedyre"] == "A" and doc["sak"]["status"] == "closed"
    assert [d["delplikt"][:2] for d in doc["delplikter"]][:3] == ["2.", "3.", "4."]
    assert all(d["av"] for d in doc["delplikter"])
    assert any(f["holdt"] for f in doc["frister"])
    assert doc["tiltaksplaner"] and doc["evalueringer"]
    voices = [v["tekst"] for v in doc["elevens_stemme"]]
    assert "Jeg gruer meg til friminuttene." in voices and "Det er bedre nå." in voices
    assert doc["verifisering"]["hashkjede_ok"] and doc["verifisering"]["gjenkjort_ok"]
    assert len(doc["verifisering"]["siste_hash"]) == 64
    assert "Per Faglærer" in json.dumps(doc, ensure_ascii=False)
    assert any(r["side"] == "eksport" for r in doc["lesinger"]) or any(
        e.data.get("view") == "eksport" for e in env.kap12.case_history(closed_a))


def test_masked_copy_for_an_access_request(env, closed_a):
    client = login(env.app, "revisor")
    doc = client.get(f"/revisjon/saker/{closed_a}/eksport.json?skjerm=1&innsyn_for=avdelingsleder").get_json(force=True)
    text = json.dumps(doc, ensure_ascii=False)
    assert doc["skjermet"] and "ikke finnes sikkert" in doc["skjerming"]
    for other in ("Per Faglærer", "Kari Lærer", "Jonas Berg", "Randi Revisor"):
        assert other not in text, other
    assert "Anne Avdelingsleder" in text  # the requester's own name stays
    assert doc["sak"]["melding"]["krenker_navn"] == "[skjermet]"
    assert "[navn " in doc["sak"]["melding"]["hva_skjedde"]
    assert "Jeg gruer meg til friminuttene." in text  # the pupil's voice is the point of the copy


def test_the_access_request_picker_names_the_cases_people_not_the_directory(env, closed_a):
    """Whoever works at the case's school, and whoever acted in it, may ask for a copy; another
    school's staff are not offered (the picker was the whole directory, which grows with the
    county)."""
    page = login(env.app, "revisor").get(f"/revisjon/saker/{closed_a}")
    picker = re.search(r'<select name="innsyn_for">(.*?)</select>', page.text, re.S)[1]
    offered = re.findall(r'<option value="([^"]*)">', picker)
    assert {"ansatt", "ansatt2", "avdelingsleder", "rektor"} <= set(offered)
    assert "rektor2" not in offered and "ansatt3" not in offered  # Sørbakken's
    assert offered[0] == ""  # «no one» first, then by name
    names = re.findall(r'<option value="[^"]+">([^<]*)</option>', picker)
    assert names == sorted(names)


def test_export_is_refused_to_those_without_the_whole_case(env, closed_a):
    assert login(env.app, "ansatt").get(f"/revisjon/saker/{closed_a}/eksport.json").status_code in (403, 404)
    assert login(env.app, "ansatt2").get(f"/revisjon/saker/{closed_a}/eksport.json").status_code in (403, 404)
    # The school's leadership may take the case out for Statsforvalteren.
    assert login(env.app, "rektor").get(f"/revisjon/saker/{closed_a}/eksport.json").status_code == 200


def test_pdf_export_renders(env, closed_a):
    pytest.importorskip("weasyprint")
    client = login(env.app, "revisor")
    response = client.get(f"/revisjon/saker/{closed_a}/eksport.pdf?skjerm=1")
    assert response.status_code == 200 and response.data[:5] == b"%PDF-"
    out = test_output_dir("audit")
    pdf = out / "eksport-skjermet.pdf"
    pdf.write_bytes(response.data)
    full = client.get(f"/revisjon/saker/{closed_a}/eksport.pdf")
    (out / "eksport.pdf").write_bytes(full.data)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(out / "eksport.pdf"),
                        str(out / "eksport")], check=True)
        assert list(out.glob("eksport-*.png"))
