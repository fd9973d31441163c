"""Access per procedure through HTTP: granting and withdrawing access on the case page,
recording the accused, the reclassifications only the school owner may make, and the
lederforum's one answer to "meldt videre til skoleeier"."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from engine.versions.example_data import example_data
from engine.write import demo
from processes import forms
from tests.support.web import csrf_of, login

from .test_api import assert_problem, bearer, make_token


def _report(env, **kw):
    return env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(**kw))


def _day(env, days: int) -> str:
    return (env.clock.now() + timedelta(days=days)).date().isoformat()


def test_rektor_grants_and_withdraws_access_to_a_b_case_on_the_page(env):
    case = _report(env, krenker_type="ansatt", anklaget_bruker="ansatt2", hva_skjedde="Hemmelig B-tilgang")
    url = f"/saker/{case.id}"
    leader = login(env.app, "avdelingsleder")
    assert leader.get(url).status_code == 404
    rektor = login(env.app, "rektor")
    page = rektor.get(url)
    assert "Gi en ansatt tilgang" in page.text and "Per Faglærer" in page.text  # the accused, to rektor
    # The accused is not offered, and is refused if sent anyway.
    picker = re.search(r'<select id="g-bruker".*?</select>', page.text, re.S)[0]
    assert "ansatt2" not in picker and "avdelingsleder" in picker
    refused = rektor.post(f"{url}/tilgang", data={"_csrf": csrf_of(page.text), "bruker": "ansatt2",
                                                   "begrunnelse": "Nei", "til": _day(env, 5)})
    assert refused.status_code == 422 and "kan aldri få tilgang" in refused.text
    empty = rektor.post(f"{url}/tilgang", data={"_csrf": csrf_of(page.text), "bruker": "avdelingsleder",
                                                 "begrunnelse": "", "til": ""})
    assert empty.status_code == 422 and "Skriv hvorfor personen trenger tilgang." in empty.text
    assert rektor.post(f"{url}/tilgang", data={"bruker": "avdelingsleder", "begrunnelse": "x",
                                               "til": _day(env, 5)}).status_code == 400  # no CSRF token
    done = rektor.post(f"{url}/tilgang", data={"_csrf": csrf_of(page.text), "bruker": "avdelingsleder",
                                                "begrunnelse": "Tar over mens rektor er borte", "til": _day(env, 5)})
    assert done.status_code == 302
    shown = leader.get(url)
    assert shown.status_code == 200 and "Hemmelig B-tilgang" in shown.text
    assert "Gi en ansatt tilgang" not in shown.text  # a grantee does not grant on
    page = rektor.get(url)
    assert "Ga Anne Avdelingsleder tilgang til saken" in page.text and "Tar over mens rektor er borte" in page.text
    auditor = login(env.app, "revisor").get(url)
    assert "Tar over mens rektor er borte" in auditor.text and "Trekk tilbake" not in auditor.text
    grant_id = re.search(rf"/saker/{case.id}/tilgang/(\d+)/trekk", page.text)[1]
    for who, code in (("avdelingsleder", 403), ("revisor", 403), ("ansatt2", 404), ("skoleeier", 403)):
        client = login(env.app, who)
        response = client.post(f"{url}/tilgang/{grant_id}/trekk", data={"_csrf": csrf_of(client.get("/profil").text)})
        assert response.status_code == code, who
    withdrawn = rektor.post(f"{url}/tilgang/{grant_id}/trekk", data={"_csrf": csrf_of(page.text),
                                                                      "begrunnelse": "Rektor er tilbake"})
    assert withdrawn.status_code == 302
    assert leader.get(url).status_code == 404
    assert "Tilgangen for Anne Avdelingsleder ble trukket tilbake. Rektor er tilbake" in rektor.get(url).text


def test_the_accused_is_recorded_on_the_page_and_only_by_rektor_or_the_owner(env):
    case = _report(env, krenker_type="ansatt", hva_skjedde="Ukjent lærer")
    url = f"/saker/{case.id}"
    rektor = login(env.app, "rektor")
    page = rektor.get(url)
    assert "Ingen anklaget er registrert ennå" in page.text
    wrong = rektor.post(f"{url}/anklaget", data={"_csrf": csrf_of(page.text), "anklaget_bruker": "skoleeier"})
    assert wrong.status_code == 422 and "må være ansatt ved skolen saken gjelder" in wrong.text
    assert "Sigrid Skoleeier" not in wrong.text and "rolle i fylket" not in wrong.text
    auditor = login(env.app, "revisor")
    assert auditor.post(f"{url}/anklaget", data={"_csrf": csrf_of(auditor.get(url).text),
                                                 "anklaget_bruker": "ansatt2"}).status_code == 403
    accused = login(env.app, "ansatt2")
    assert accused.get(url).status_code == 404
    done = rektor.post(f"{url}/anklaget", data={"_csrf": csrf_of(page.text), "anklaget_bruker": "ansatt2",
                                                "begrunnelse": "Eleven sa navnet"})
    assert done.status_code == 302
    assert "Registrerte Per Faglærer som anklaget i saken." in rektor.get(url).text
    assert accused.get(url).status_code == 404


def test_an_accused_without_an_account_is_identified_on_the_task_page_and_shown_in_words(env):
    case = _report(env, krenker_type="ansatt", hva_skjedde="En vikar")
    rektor = login(env.app, "rektor")
    task = next(t for t in env.kap12.tasks_for(env.demo.users["rektor"])
                if t.case_id == case.id and t.form_key == "identifisere_anklaget")
    page = rektor.get(f"/oppgaver/{task.id}")
    assert "Er den anklagede i listen over skolens ansatte?" in page.text and "En vikar fra byrå" in page.text
    form = {"_csrf": csrf_of(page.text), "anklaget_i_listen": "nei", "anklaget_bruker": "",
            "krenker_navn": "Ola Vikar", "tilknytning": "Vikar fra byrå", "hvordan_identifisert": "Eleven fortalte"}
    missing = rektor.post(f"/oppgaver/{task.id}", data={**form, "tilknytning": ""})
    assert missing.status_code == 422 and "Ola Vikar" in missing.text  # what was typed is kept
    assert rektor.post(f"/oppgaver/{task.id}", data=form).status_code == 302
    shown = rektor.get(f"/saker/{case.id}").text
    assert "Ola Vikar (Vikar fra byrå) <span class=\"muted\">– ingen brukerkonto i kap12</span>" in shown
    assert "Ingen anklaget er registrert ennå" not in shown
    assert "Registrerte Ola Vikar (Vikar fra byrå) som anklaget i saken. Personen har ingen brukerkonto i kap12." in shown
    assert "Motta melding" in shown  # the receipt follows at once


def test_rektor_cannot_pull_a_b_case_back_but_the_school_owner_can(env):
    case = _report(env, krenker_type="ansatt", anklaget_bruker="ansatt2")
    url = f"/saker/{case.id}"
    rektor = login(env.app, "rektor")
    page = rektor.get(url)
    assert "Klassifiser saken om" not in page.text
    refused = rektor.post(f"{url}/omklassifiser", data={"_csrf": csrf_of(page.text), "krenker_type": "elev",
                                                        "begrunnelse": "Det var en elev"})
    assert refused.status_code == 403
    owner = login(env.app, "skoleeier")
    page = owner.get(url)
    assert "Klassifiser saken om" in page.text
    done = owner.post(f"{url}/omklassifiser", data={"_csrf": csrf_of(page.text), "krenker_type": "elev",
                                                    "begrunnelse": "Skoleeier: det var en elev"})
    assert done.status_code == 302


def test_a_leader_who_moves_a_case_to_c_loses_it(env):
    case = _report(env)
    url = f"/saker/{case.id}"
    leader = login(env.app, "avdelingsleder")
    page = leader.get(url)
    done = leader.post(f"{url}/omklassifiser", data={"_csrf": csrf_of(page.text), "krenker_type": "ledelse",
                                                     "begrunnelse": "Gjelder rektor", "anklaget_bruker": "rektor"})
    assert done.status_code == 302
    for who in ("avdelingsleder", "rektor"):
        assert login(env.app, who).get(url).status_code == 404
    assert login(env.app, "skoleeier").get(url).status_code == 200


def test_the_csv_says_notified_for_a_b_case_whose_notice_was_recorded(env):
    case = _report(env, krenker_type="ansatt", anklaget_bruker="ansatt2")
    rektor = env.demo.users["rektor"]
    for title in ("Motta melding", "Varsle skoleeier straks"):
        task = next(t for t in env.kap12.tasks_for(rektor) if t.case_id == case.id and t.title == title)
        env.kap12.complete(rektor, task.id, example_data(forms.get_form(task.form_key), env.clock.now().date()))
    rows = list(csv.reader(io.StringIO(login(env.app, "rektor").get("/oversikt/eksport.csv").data.decode("utf-8-sig")),
                           delimiter=";"))
    column = rows[0].index("Meldt videre til skoleeier")
    assert next(r for r in rows if r[0] == case.number)[column] == "Ja"
    fresh = _report(env)
    rows = list(csv.reader(io.StringIO(login(env.app, "rektor").get("/oversikt/eksport.csv").data.decode("utf-8-sig")),
                           delimiter=";"))
    assert next(r for r in rows if r[0] == fresh.number)[column] == "Nei"


def test_the_receipt_after_a_c_report_points_to_the_school_owner(env):
    reporter = login(env.app, "ansatt")
    c = _report(env, krenker_type="ledelse", anklaget_bruker="rektor")
    text = reporter.get(f"/melding/{c.id}/kvittering").text
    assert "ring leder" not in text and env.kap12.settings.owner_contact in text
    assert "Ikke kontakt noen i skolens ledelse om saken." in text
    b = _report(env, krenker_type="ansatt", anklaget_bruker="ansatt2")
    assert "ring rektor med en gang" in reporter.get(f"/melding/{b.id}/kvittering").text
    a = _report(env)
    assert "ring leder med en gang" in reporter.get(f"/melding/{a.id}/kvittering").text


def test_grants_and_the_accused_through_the_api(env):
    case = _report(env, krenker_type="ansatt")
    client = env.app.test_client()

    def call(user, method, url, **kw):
        return client.open(url, method=method, headers=bearer(make_token(env, user)), **kw)

    base = f"/api/v1/cases/{case.id}"
    body = {"username": "avdelingsleder", "reason": "Tar over", "until": _day(env, 10)}
    # Not before the accused is named.
    assert_problem(call("rektor", "POST", f"{base}/grants", json=body), 409)
    assert_problem(call("rektor", "POST", f"{base}/accused", json={"username": "revisor"}), 400, errors=("username",))
    assert_problem(call("avdelingsleder", "POST", f"{base}/accused", json={"username": "ansatt2"}), 404)
    assert_problem(call("revisor", "POST", f"{base}/accused", json={"username": "ansatt2"}), 403)
    assert call("rektor", "POST", f"{base}/accused", json={"username": "ansatt2"}).status_code == 200
    for user, status in (("avdelingsleder", 404), ("revisor", 403), ("skoleeier", 403), ("ansatt2", 404)):
        assert_problem(call(user, "POST", f"{base}/grants", json=body), status)
    assert_problem(call("rektor", "POST", f"{base}/grants", json={**body, "username": "ansatt2"}), 400,
                   errors=("username",))
    assert_problem(call("rektor", "POST", f"{base}/grants", json={**body, "until": "2020-01-01"}), 400,
                   errors=("until",))
    assert_problem(call("rektor", "POST", f"{base}/grants", json={**body, "extra": 1}), 400)
    made = call("rektor", "POST", f"{base}/grants", json=body)
    assert made.status_code == 201 and made.json["items"][0]["active"]
    assert call("avdelingsleder", "GET", base).status_code == 200
    listed = call("revisor", "GET", f"{base}/grants")
    assert listed.status_code == 200 and listed.json["items"][0]["reason"] == "Tar over"
    assert_problem(call("avdelingsleder", "GET", f"{base}/grants"), 403)  # a grantee does not see the list
    grant_id = made.json["items"][0]["id"]
    assert_problem(call("avdelingsleder", "POST", f"{base}/grants/{grant_id}/withdraw", json={}), 403)
    done = call("rektor", "POST", f"{base}/grants/{grant_id}/withdraw", json={"reason": "Ferdig"})
    assert done.status_code == 200 and not done.json["items"][0]["active"]
    assert_problem(call("avdelingsleder", "GET", base), 404)


def test_notes_through_the_api(env):
    """The B case's circle writes notes; the accused, the reporter and an auditor cannot; a
    correction names a step of this case; the note is in the case's history as the API shows it."""
    case = _report(env, krenker_type="ansatt", anklaget_bruker="ansatt2")
    client = env.app.test_client()

    def call(user, body):
        return client.post(f"/api/v1/cases/{case.id}/notes", headers=bearer(make_token(env, user)), json=body)

    assert_problem(call("ansatt2", {"text": "Jeg vil forklare"}), 404)  # the accused: no such case
    assert_problem(call("ansatt", {"text": "Melderen"}), 404)
    assert_problem(call("revisor", {"text": "Revisor"}), 403)
    assert_problem(call("rektor", {"text": ""}), 400, errors=("text",))
    assert_problem(call("rektor", {"text": "Retting", "corrects": 999999}), 400, errors=("corrects",))
    assert_problem(call("rektor", {"text": "Ukjent felt", "hvem": "x"}), 400)
    done = call("rektor", {"text": "Samtale med tillitsvalgt i dag."})
    assert done.status_code == 201 and done.get_json()["id"] == case.id
    history = client.get(f"/api/v1/cases/{case.id}/history", headers=bearer(make_token(env, "rektor"))).get_json()
    [note] = [e for e in history["events"] if e["kind"] == "case_note"]
    assert note["text"] == "Notat: Samtale med tillitsvalgt i dag." and note["actor"] == "Rune Rektor"


def test_the_owner_notice_through_the_api(env):
    case = _report(env)
    demo.complete_next(env.kap12, env.demo.users["avdelingsleder"], case.id, alvorlig_sak=False)
    client = env.app.test_client()

    def call(user, body):
        return client.post(f"/api/v1/cases/{case.id}/owner-notice", headers=bearer(make_token(env, user)), json=body)

    assert_problem(call("revisor", {"reason": "x"}), 403)
    assert_problem(call("ansatt", {"reason": "x"}), 404)
    assert_problem(call("avdelingsleder", {"reason": ""}), 400, errors=("reason",))
    done = call("avdelingsleder", {"reason": "Gjentatt vold."})
    assert done.status_code == 201 and done.get_json()["id"] == case.id
    assert_problem(call("rektor", {"reason": "Igjen"}), 409)  # the notice is open now
