"""The process owner's form pages through Flask's client: the list with versions, the editor
with check, preview and publish (CSRF, a required comment, problems in plain Norwegian and
nothing stored on error), a new form, and a completed step that keeps its version's labels."""
from __future__ import annotations

import html
import json

from sqlalchemy import func, select

from engine.store.models import FormVersion
from engine.write.demo import report_data
from processes import forms
from tests.support.web import csrf_of, login

OLD_LABEL = "Din vurdering av meldingen"
NEW_LABEL = "Vurdering av meldingen (ny ledetekst)"
URL = "/prosesser/skjema/motta_melding"


def _declaration(label: str = NEW_LABEL) -> str:
    dct = json.loads((forms.FORMS_FOLDER / "motta_melding.json").read_text(encoding="utf-8"))
    dct["fields"][0]["label"] = label
    return json.dumps(dct, ensure_ascii=False, indent=2)


def _stored(env) -> int:
    with env.kap12.db.reading() as s:
        return s.scalar(select(func.count()).select_from(FormVersion))


def test_only_process_owners_and_administrators(env):
    for who in ("ansatt", "avdelingsleder", "rektor"):
        assert login(env.app, who).get("/prosesser/skjema").status_code == 403
    for who in ("prosesseier", "admin"):
        assert login(env.app, who).get("/prosesser/skjema").status_code == 200
    assert env.app.test_client().get("/prosesser/skjema").status_code == 302


def test_list_and_editor_show_versions_and_a_preview(env):
    owner = login(env.app, "prosesseier")
    assert 'href="/prosesser/skjema"' in owner.get("/prosesser").text
    page = owner.get("/prosesser/skjema").text
    assert 'href="/prosesser/skjema/motta_melding"' in page and "Motta og registrere melding" in page
    assert "Versjon 1" in page
    editor = owner.get(URL).text
    assert '<textarea id="declaration"' in editor and html.escape(OLD_LABEL) in editor
    assert 'id="forhandsvisning"' in editor and 'id="f-mottatt_vurdering"' in editor


def test_check_and_publish_need_csrf_valid_json_and_a_comment(env):
    owner = login(env.app, "prosesseier")
    before = _stored(env)
    assert owner.post(URL, data={"declaration": _declaration(), "kommentar": "x", "action": "publish"}).status_code == 400
    csrf = csrf_of(owner.get(URL).text)
    bad = owner.post(URL, data={"_csrf": csrf, "declaration": "{ ikke json", "action": "validate"})
    assert bad.status_code == 422 and "ikke gyldig JSON" in bad.text
    broken = json.loads(_declaration())
    broken["fields"][0]["type"] = "tekstboks"
    refused = owner.post(URL, data={"_csrf": csrf, "declaration": json.dumps(broken), "kommentar": "Test",
                                    "action": "publish"})
    assert refused.status_code == 422 and "ukjent type" in refused.text and "Skjemaet ble ikke lagret" in refused.text
    other_key = owner.post(URL, data={"_csrf": csrf, "declaration": _declaration().replace(
        '"motta_melding"', '"noe_annet"'), "action": "validate"})
    assert other_key.status_code == 422 and "må være «motta_melding»" in html.unescape(other_key.text)
    checked = owner.post(URL, data={"_csrf": csrf, "declaration": _declaration(), "action": "validate"})
    assert checked.status_code == 200 and "Skjemaet er i orden" in checked.text
    assert html.escape(NEW_LABEL) in checked.text
    no_comment = owner.post(URL, data={"_csrf": csrf, "declaration": _declaration(), "kommentar": " ",
                                       "action": "publish"})
    assert no_comment.status_code == 422 and "Skriv en kommentar" in no_comment.text
    assert _stored(env) == before


def test_the_check_names_what_the_law_needs_before_publishing(env):
    """A form the procedures rely on cannot lose a field the law requires: «Kontroller» says so in the
    law's words, before «Publiser» would refuse it."""
    owner = login(env.app, "prosesseier")
    url = "/prosesser/skjema/tiltaksplan"
    csrf = csrf_of(owner.get(url).text)
    plan = json.loads((forms.FORMS_FOLDER / "tiltaksplan.json").read_text(encoding="utf-8"))
    next(f for f in plan["fields"] if f["name"] == "elevens_stemme")["required"] = False
    before = _stored(env)
    for action in ("validate", "publish"):
        page = owner.post(url, data={"_csrf": csrf, "declaration": json.dumps(plan), "kommentar": "Valgfri stemme",
                                     "action": action})
        assert page.status_code == 422
        assert "«Hvordan eleven har vært med» i «Tiltaksplan» må fylles ut" in html.unescape(page.text)
        assert "elevens syn skal høres og skrives ned" in page.text
    assert _stored(env) == before


def test_publish_keeps_completed_steps_on_their_version(env):
    lead = env.demo.users["avdelingsleder"]
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    task = next(t for t in env.kap12.tasks_for(lead) if t.case_id == case.id)
    env.kap12.complete(lead, task.id, {"mottatt_vurdering": "Må undersøkes."})

    owner = login(env.app, "prosesseier")
    csrf = csrf_of(owner.get(URL).text)
    done = owner.post(URL, data={"_csrf": csrf, "declaration": _declaration(), "kommentar": "Ny ledetekst",
                                 "action": "publish"})
    assert done.status_code == 302
    page = owner.get(done.location).text
    assert "publisert som versjon 2" in page
    assert "Ny ledetekst" in owner.get("/prosesser/skjema").text
    same = owner.post(URL, data={"_csrf": csrf, "declaration": _declaration(), "kommentar": "Igjen",
                                 "action": "publish"})
    assert "Ingen endring" in owner.get(same.location).text
    assert env.kap12.forms.latest_version("motta_melding") == 2

    case_page = login(env.app, "avdelingsleder").get(f"/saker/{case.id}").text
    assert html.escape(OLD_LABEL) in case_page and html.escape(NEW_LABEL) not in case_page
    second = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    task = next(t for t in env.kap12.tasks_for(lead) if t.case_id == second.id)
    assert html.escape(NEW_LABEL) in login(env.app, "avdelingsleder").get(f"/oppgaver/{task.id}").text


def test_new_form(env):
    owner = login(env.app, "prosesseier")
    assert owner.get("/prosesser/skjema/ny?key=Ugyldig nøkkel").status_code == 302
    started = owner.get("/prosesser/skjema/ny?key=kartlegging")
    assert started.location.endswith("/prosesser/skjema/kartlegging")
    page = owner.get(started.location).text
    assert "ikke publisert ennå" in page and "&#34;kartlegging&#34;" in page
    dct = {"key": "kartlegging", "title": "Kartlegging", "fields": [
        {"name": "funn", "label": "Hva kom fram?", "type": "textarea", "required": True}]}
    done = owner.post(started.location, data={"_csrf": csrf_of(page), "declaration": json.dumps(dct),
                                              "kommentar": "Nytt skjema", "action": "publish"})
    assert done.status_code == 302
    assert env.kap12.forms.get("kartlegging").title == "Kartlegging"
    assert "Kartlegging" in owner.get("/prosesser/skjema").text
