"""Ny melding, Mine oppgaver, the task page and the case page, through Flask's test client."""
from __future__ import annotations

import re
from datetime import timedelta

from engine.write import demo
from tests.support.web import csrf_of, login, token
from webui.present import short

TASK_LINK = re.compile(r'href="/oppgaver/([0-9a-f-]{36})"')


def _report_form(client, env, **overrides):
    page = client.get("/melding/ny")
    data = {"_csrf": csrf_of(page.text), "_once": re.search(r'name="_once" value="([^"]+)"', page.text)[1],
            "school_id": str(env.nordli), "berorte_elever": "Emma, Vg1", "klasse": "1STA",
            "hva_skjedde": "Blir holdt utenfor.", "tid_og_sted": "Friminuttet", "kjent_dato": "2026-11-30",
            "krenker_type": "elev", "krenker_navn": "", "anklaget_bruker": "", "meldt_pa_vegne_av": "elev"}
    data.update(overrides)
    return data


def test_new_report_page_renders_the_declared_form(env):
    client = login(env.app, "ansatt")
    page = client.get("/melding/ny")
    assert page.status_code == 200
    text = page.text
    assert "Hvilken elev eller hvilke elever gjelder det?" in text
    assert 'type="radio" name="krenker_type" value="ansatt"' in text  # 3 choices: radios
    assert 'type="date" id="f-kjent_dato" name="kjent_dato" value="2026-11-30"' in text  # today, in Oslo
    assert '<select id="f-anklaget_bruker" name="anklaget_bruker"' in text  # the accused picker
    assert "Per Faglærer (ansatt2)" in text and "Kari Lærer (ansatt)" not in text  # not oneself
    assert f'<option value="{env.nordli}" selected>' in text  # the one school, pre-selected
    assert 'src="/static/js/forms.js"' in text


def test_every_page_has_the_header(env):
    client = login(env.app, "ansatt")
    for url in ("/oppgaver", "/saker", "/melding/ny"):
        text = client.get(url).text
        assert 'href="/melding/ny"' in text and "Mine oppgaver" in text and "Logg ut" in text and "Kari Lærer" in text


def test_report_errors_keep_what_was_typed(env):
    client = login(env.app, "ansatt")
    data = _report_form(client, env, berorte_elever="", hva_skjedde="Noe alvorlig\r\nskjedde", krenker_type="")
    response = client.post("/melding/ny", data=data)
    assert response.status_code == 422
    text = response.text
    assert "Skjemaet er ikke sendt" in text
    assert text.count("Feltet må fylles ut.") >= 2
    assert "Noe alvorlig" in text and 'value="1STA"' in text and 'value="Friminuttet"' in text
    assert 'name="meldt_pa_vegne_av" value="elev" checked' in text


def test_report_gives_a_receipt_and_double_submit_makes_one_case(env):
    client = login(env.app, "ansatt")
    data = _report_form(client, env)
    first = client.post("/melding/ny", data=data)
    assert first.status_code == 302 and "/kvittering" in first.location
    again = client.post("/melding/ny", data=data)
    assert again.location == first.location
    receipt = client.get(first.location)
    assert receipt.status_code == 200
    assert re.search(r"Saksnummer: <strong>2026-\d{5}</strong>", receipt.text)
    assert "avdelingsleder, rektor eller ass. rektor" in receipt.text


def test_report_accused_picker_leads_to_procedure_b(env):
    client = login(env.app, "ansatt")
    response = client.post("/melding/ny", data=_report_form(client, env, krenker_type="ansatt",
                                                             anklaget_bruker="ansatt2"))
    receipt = client.get(response.location)
    assert "rektor eller ass. rektor" in receipt.text and "avdelingsleder" not in receipt.text


def test_auditor_cannot_report(env):
    client = login(env.app, "revisor")
    page = client.get("/melding/ny")
    assert page.status_code == 200 and "ikke registrert som ansatt" in page.text


def test_task_list_claim_release_and_overdue_badge(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(berorte_elever="Liste"))
    client = login(env.app, "avdelingsleder")
    env.clock.advance(timedelta(hours=9, minutes=15))  # 18:15: past the 16:00 deadline by 2 t 15 min
    try:
        page = client.get("/oppgaver")
        assert case.number in page.text
        assert "2 t 15 min på overtid" in page.text and "badge-red" in page.text
        assert "mandag 30.11.2026 kl. 16:00" in page.text
        task_id = next(t.id for t in env.kap12.case_tasks(case.id))
        claimed = client.post(f"/oppgaver/{task_id}/ta", data={"_csrf": csrf_of(page.text)})
        assert claimed.status_code == 302
        page = client.get("/oppgaver")
        assert "Oppgaven er din nå" in page.text and "Legg tilbake" in page.text
        # Once taken, it leaves the other leaders' lists.
        assert f"/oppgaver/{task_id}" not in login(env.app, "rektor").get("/oppgaver").text
        released = client.post(f"/oppgaver/{task_id}/legg-tilbake", data={"_csrf": csrf_of(page.text)})
        assert released.status_code == 302
        assert "Oppgaven er lagt tilbake" in client.get("/oppgaver").text
    finally:
        env.clock.set(env.clock.now() - timedelta(hours=9, minutes=15))


def test_task_list_filters(env):
    # Its own tasks to filter (it must not lean on what tests before it reported): an A and a B.
    env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(
        krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2"))
    client = login(env.app, "rektor")
    all_tasks = client.get("/oppgaver").text
    only_b = client.get("/oppgaver?prosedyre=B").text
    assert all_tasks.count('class="task-title"') > only_b.count('class="task-title"')
    assert "B – ansatt mot elev" in only_b and "A – elev mot elev" not in only_b.split("</form>", 2)[-1]


def test_task_page_shows_case_and_earlier_steps(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(berorte_elever="Nora, Vg2"))
    demo.complete_next(env.kap12, env.demo.users["avdelingsleder"], case.id, mottatt_vurdering="Tatt på alvor.")
    client = login(env.app, "avdelingsleder")
    task = env.kap12.case_tasks(case.id)[0]
    page = client.get(f"/oppgaver/{task.id}")
    assert page.status_code == 200
    assert "Undersøke saken" in page.text and "Nora, Vg2" in page.text and "Tatt på alvor." in page.text
    assert "Hva har skjedd?" in page.text  # the report's labels, not its field names


def test_task_form_errors_keep_values_and_add_row(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    leader = env.demo.users["avdelingsleder"]
    demo.complete_next(env.kap12, leader, case.id)
    demo.complete_next(env.kap12, leader, case.id, trygt_skolemiljo="nei")
    task = env.kap12.case_tasks(case.id)[0]
    assert task.form_key == "tiltaksplan"
    client = login(env.app, "avdelingsleder")
    url = f"/oppgaver/{task.id}"
    page = client.get(url)
    assert 'name="tiltak-0-hva"' in page.text and 'name="tiltak-1-hva"' not in page.text
    data = {"_csrf": csrf_of(page.text), "problem": "Utestengning", "tiltak-0-hva": "Voksen i friminutt",
            "tiltak-0-nar": "Fra uke 49", "tiltak-0-ansvarlig": "Kontaktlærer", "_add_row": "tiltak"}
    more = client.post(url, data=data)
    assert more.status_code == 200
    assert 'name="tiltak-1-hva"' in more.text and "Voksen i friminutt" in more.text and "Utestengning" in more.text
    assert "Skjemaet er ikke sendt" not in more.text
    data.pop("_add_row")
    data.update({"tiltak-1-hva": "Samtale hver uke", "tiltak-1-nar": "", "tiltak-1-ansvarlig": "Rådgiver"})
    bad = client.post(url, data=data)
    assert bad.status_code == 422
    assert "Samtale hver uke" in bad.text and "Rådgiver" in bad.text and "Voksen i friminutt" in bad.text
    assert 'id="f-tiltak-1-nar"' in bad.text and bad.text.count("Feltet må fylles ut.") >= 4  # nar, date, voice, best interest
    data.update({"tiltak-1-nar": "Fredager", "evalueringsdato": "2026-12-14", "elevens_stemme": "Eleven vil ha det.",
                 "elevens_beste": "Eleven trenger en voksen å gå til.", "foresatte_informert": ["false", "true"]})
    done = client.post(url, data=data)
    assert done.status_code == 302
    steps = env.kap12.case_history(case.id)
    saved = [e for e in steps if e.kind == "task_completed"][-1].data["data"]
    assert [r["hva"] for r in saved["tiltak"]] == ["Voksen i friminutt", "Samtale hver uke"]
    assert saved["foresatte_informert"] is True


def test_stale_task_and_double_submit(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    task = env.kap12.case_tasks(case.id)[0]
    client = login(env.app, "avdelingsleder")
    page = client.get(f"/oppgaver/{task.id}")
    data = {"_csrf": csrf_of(page.text), "mottatt_vurdering": "Sett.", "alvorlig_sak": "false"}
    # Rektor completes it first, in another browser.
    demo.complete_next(env.kap12, env.demo.users["rektor"], case.id)
    response = client.post(f"/oppgaver/{task.id}", data=data)
    assert response.status_code == 302 and response.location.endswith("/oppgaver")
    listing = client.get("/oppgaver").text
    assert "allerede utført av Rune Rektor" in listing and f'href="/saker/{case.id}"' in listing
    # Opening the old page again says the same, plainly.
    again = client.get(f"/oppgaver/{task.id}", follow_redirects=True)
    assert "allerede utført" in again.text
    completed = [e for e in env.kap12.case_history(case.id) if e.kind == "task_completed"]
    assert len(completed) == 1


def test_double_submit_of_a_task_is_harmless(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    task = env.kap12.case_tasks(case.id)[0]
    client = login(env.app, "avdelingsleder")
    data = {"_csrf": token(client), "mottatt_vurdering": "Sett.", "alvorlig_sak": "false"}
    first = client.post(f"/oppgaver/{task.id}", data=data)
    second = client.post(f"/oppgaver/{task.id}", data=data)
    assert first.status_code == second.status_code == 302
    assert len([e for e in env.kap12.case_history(case.id) if e.kind == "task_completed"]) == 1
    assert "allerede utført" in client.get("/oppgaver").text


def test_a_much_read_case_lists_only_its_latest_openings(env):
    """Every view is a read: the page counts them all but lists the latest 50, newest first,
    so a case opened thousands of times does not load its read log on every view."""
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    client = login(env.app, "rektor")
    for _ in range(55):
        client.get(f"/saker/{case.id}")
    env.clock.advance(timedelta(minutes=5))
    text = client.get(f"/saker/{case.id}").text
    assert "Saken er åpnet 56 ganger." in text
    assert "Viser de 50 siste av 56, nyeste først." in text
    items = re.findall(r"<li>(.*?)</li>", re.search(r'<ul class="reads">(.*?)</ul>', text, re.S)[1])
    latest, earlier = (env.clock.now() - timedelta(minutes=m) for m in (0, 5))
    assert len(items) == 50 and items[0].startswith(short(latest)) and items[-1].startswith(short(earlier))
    assert len([e for e in env.kap12.case_history(case.id) if e.kind == "case_read"]) == 56


def test_the_case_page_says_when_a_report_was_not_made_at_once(env):
    """Known on Wednesday 25 November, reported Monday 30th: three of the county's working days
    (26, 27, 30) later. The leader sees it, to follow it up with the reporter."""
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(kjent_dato="2026-11-25"))
    text = login(env.app, "rektor").get(f"/saker/{case.id}").text
    assert "Melderen fikk vite om det 25.11.2026 og meldte 3 arbeidsdager senere." in text
    assert "Ikke meldt straks" in text
    assert "Ikke meldt straks" not in login(env.app, "ansatt").get(f"/saker/{case.id}").text  # the reporter's page


def test_case_page_for_a_leader(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(berorte_elever="Ida, Vg3"))
    demo.complete_next(env.kap12, env.demo.users["avdelingsleder"], case.id)
    client = login(env.app, "rektor")
    page = client.get(f"/saker/{case.id}")
    text = page.text
    assert page.status_code == 200
    assert "Prosedyre A – elev krenker elev (§ 12-4)" in text
    # § 12-6: a week from when the family took it up with the school (recorded at receipt).
    assert "Statsforvalteren" in text and "Fra 07.12.2026" in text and "§ 12-6" in text
    assert "tok saken opp med rektor 30.11.2026" in text
    assert "Melderen fikk vite om det 30.11.2026 og meldte samme dag." in text and "Ikke meldt straks" not in text
    assert "Meldte saken" in text and "Utførte «Motta og registrere melding»" in text
    assert "Ny oppgave: «Undersøke saken» – går til avdelingsleder" in text
    assert "Ida, Vg3" in text  # earlier steps
    assert "Klassifiser saken om" in text
    assert "Hvem har åpnet saken" in text  # leaders see the read log
    assert 'src="/static/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js"' in text
    diagram = client.get(f"/saker/{case.id}/diagram.json").get_json()
    # How far the case has come is a read of it, recorded like the page's.
    assert env.kap12.case_history(case.id)[-1].data == {"view": "diagram"}
    ids = [p["id"] for p in diagram["processes"]]
    assert ids == ["prosedyre_a", "oppfolging"]
    a, follow_up = diagram["processes"]
    assert "Task_motta_melding" in a["completed"] and "Call_oppfolging" in a["active"]
    assert "Task_undersokelse" in follow_up["active"] and "<bpmn:definitions" in a["xml"]


def test_reclassify_from_the_case_page(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    client = login(env.app, "rektor")
    url = f"/saker/{case.id}"
    page = client.get(url)
    missing = client.post(f"{url}/omklassifiser", data={"_csrf": csrf_of(page.text), "krenker_type": "ansatt",
                                                         "begrunnelse": "", "anklaget_bruker": "ansatt2"})
    assert missing.status_code == 422 and "Skriv hvorfor saken klassifiseres om." in missing.text
    done = client.post(f"{url}/omklassifiser", data={"_csrf": csrf_of(page.text), "krenker_type": "ansatt",
                                                      "begrunnelse": "Eleven sier det var en lærer.",
                                                      "anklaget_bruker": "ansatt2"})
    assert done.status_code == 302
    text = client.get(url).text
    assert "Prosedyre B – ansatt krenker elev" in text
    assert "klassifisert om fra prosedyre A til B. Begrunnelse: Eleven sier det var en lærer." in text
    assert login(env.app, "ansatt2").get(url).status_code == 404


def test_case_list_filters_and_search(env):
    client = login(env.app, "rektor")
    rows = env.kap12.cases_for(env.demo.users["rektor"])
    listing = client.get("/saker").text
    assert all(c.number in listing for c in rows if c.status == "open")
    one = rows[0].number
    found = client.get(f"/saker?q={one}&status=alle").text
    assert one in found and found.count('<td data-label="Sak">') == 1
    only_b = client.get("/saker?prosedyre=B&status=alle").text
    assert "B – ansatt mot elev" in only_b and "A – elev mot elev</td>" not in only_b


def test_reporter_sees_status_only(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(hva_skjedde="Hemmelig detalj"))
    demo.complete_next(env.kap12, env.demo.users["avdelingsleder"], case.id, mottatt_vurdering="Intern vurdering")
    client = login(env.app, "ansatt")
    page = client.get(f"/saker/{case.id}")
    assert page.status_code == 200
    assert case.number in page.text and "Undersøke saken" in page.text and "skolen arbeider med saken" in page.text
    assert "Intern vurdering" not in page.text and "Hemmelig detalj" not in page.text
    assert "Hva har skjedd" not in page.text
    assert client.get(f"/saker/{case.id}/diagram.json").status_code == 404


def test_a_crash_gives_a_friendly_page(env, monkeypatch):
    from webui import cases

    def boom(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(cases.queries, "case_schools", boom)
    client = login(env.app, "rektor")
    response = client.get("/saker")
    assert response.status_code == 500
    assert "Ingenting ble lagret" in response.text and "database on fire" not in response.text


def test_conditionally_required_field_says_when(env):
    from processes import forms
    from webui.formview import FormState

    state = FormState(forms.get_form("evaluering"))
    assert state.condition(next(f for f in state.form.fields if f.name == "evalueringsdato")).startswith(
        "Må fylles ut når «")


def test_a_revised_plan_opens_with_the_current_plan(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(berorte_elever="Ola, Vg1"))
    lead = env.demo.users["avdelingsleder"]
    today = env.clock.now().date().isoformat()
    demo.complete_next(env.kap12, lead, case.id)
    demo.complete_next(env.kap12, lead, case.id, trygt_skolemiljo="nei")
    # Evaluated today: the evaluation opens at once, and the result is to revise the plan.
    demo.complete_next(env.kap12, lead, case.id, problem="Ola holdes utenfor i gymtimene.", evalueringsdato=today)
    demo.complete_next(env.kap12, lead, case.id, evaluering_resultat="revidere")
    [task] = [t for t in env.kap12.case_tasks(case.id) if t.title == "Revidere tiltaksplan"]
    text = login(env.app, "avdelingsleder").get(f"/oppgaver/{task.id}").text
    assert "Ola holdes utenfor i gymtimene." in text  # the current plan, ready to change
    assert 'name="evalueringsdato" value=""' in text  # a new evaluation date is chosen anew
    # Someone who may not do the task sees no answers carried over.
    other = login(env.app, "rektor2").get(f"/oppgaver/{task.id}")
    assert "Ola holdes utenfor i gymtimene." not in other.text


def test_a_long_case_page_shows_the_latest_events_and_forms_and_all_on_request(env, monkeypatch):
    from webui import cases

    monkeypatch.setattr(cases, "TIMELINE_SHOWN", 5)
    monkeypatch.setattr(cases, "STEPS_SHOWN", 2)
    leader = env.demo.users["avdelingsleder"]
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data())
    demo.complete_next(env.kap12, leader, case.id, mottatt_vurdering="Første vurdering")
    demo.complete_next(env.kap12, leader, case.id, trygt_skolemiljo="nei")
    events = len(env.kap12.case_history(case.id, reads=False))
    assert events > 5
    client = login(env.app, "avdelingsleder")
    page = client.get(f"/saker/{case.id}").text
    assert f"Viser de 5 siste av {events} hendelser." in page and "Vis hele historikken" in page
    assert "Viser meldingen og de 1 siste av 2 utfylte skjema." in page
    assert "Første vurdering" not in page  # the oldest form after the report waits for «Vis alle»
    whole = client.get(f"/saker/{case.id}?historikk=alle").text
    assert "Vis hele historikken" not in whole and "Vis alle skjemaene" not in whole
    assert "Første vurdering" in whole and whole.count('class="ev ev-') == events


def test_a_note_is_written_on_the_case_page_and_shown_in_its_history(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(berorte_elever="Nora, Vg1"))
    url = f"/saker/{case.id}"
    leader = login(env.app, "avdelingsleder")
    page = leader.get(url).text
    assert 'id="notat"' in page and "Retter «Melding» fra" in page
    assert leader.post(f"{url}/notat", data={"notat": "Uten token"}).status_code == 400
    empty = leader.post(f"{url}/notat", data={"_csrf": csrf_of(page), "notat": "  ", "retter": ""})
    assert empty.status_code == 422 and "Skriv hva som skal stå i saken." in empty.text
    huge = leader.post(f"{url}/notat", data={"_csrf": csrf_of(page), "notat": "x", "retter": "9" * 20})
    assert huge.status_code == 422 and "Velg et steg fra listen." in huge.text  # not an overflow's 500
    done = leader.post(f"{url}/notat", data={"_csrf": csrf_of(page), "notat": "Far ringte <b>i dag</b>.", "retter": ""})
    assert done.status_code == 302 and done.location.endswith(f"{url}#notat")
    shown = leader.get(url).text
    assert "Notat: Far ringte &lt;b&gt;i dag&lt;/b&gt;." in shown and "Notatet er lagret i sakens historikk." in shown
    auditor = login(env.app, "revisor")
    assert 'id="notat"' not in auditor.get(url).text
    assert auditor.post(f"{url}/notat", data={"_csrf": csrf_of(auditor.get(url).text), "notat": "Nei"}).status_code == 403
    reporter = login(env.app, "ansatt")
    assert 'id="notat"' not in reporter.get(url).text


def test_a_closed_case_takes_a_leaders_note_and_says_the_archive_needs_it(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(berorte_elever="Ida, Vg1"))
    leader = env.demo.users["avdelingsleder"]
    for answers in ({}, {"trygt_skolemiljo": "ja"}, {}):  # received, found safe, closed
        demo.complete_next(env.kap12, leader, case.id, **answers)
    url = f"/saker/{case.id}"
    rektor = login(env.app, "rektor")
    page = rektor.get(url).text
    assert "Avsluttet" in page and 'id="notat"' in page and "Et notat nå blir merket som skrevet etter avslutningen" in page
    assert rektor.post(f"/dokumenter/{case.id}/arkivuttrekk", data={"_csrf": csrf_of(page)}).status_code == 200
    assert "levert til arkivet. Last ned et nytt" not in rektor.get(url).text
    done = rektor.post(f"{url}/notat", data={"_csrf": csrf_of(page), "notat": "Statsforvalteren fikk kopi.", "retter": ""})
    assert done.status_code == 302
    shown = rektor.get(url).text
    assert "Etter at saken ble avsluttet: Notat: Statsforvalteren fikk kopi." in shown
    assert "1 dokument er laget etter at saken ble levert til arkivet. Last ned et nytt arkivuttrekk" in shown
    auditor = login(env.app, "revisor")
    assert 'id="notat"' not in auditor.get(url).text


def test_a_leader_asks_for_the_owner_notice_on_the_case_page(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(berorte_elever="Jon, Vg1"))
    url = f"/saker/{case.id}"
    leader = login(env.app, "avdelingsleder")
    assert 'id="varsle-skoleeier"' not in leader.get(url).text  # the receipt decides it first
    demo.complete_next(env.kap12, env.demo.users["avdelingsleder"], case.id, alvorlig_sak=False)
    page = leader.get(url).text
    assert 'id="varsle-skoleeier"' in page
    empty = leader.post(f"{url}/varsle-skoleeier", data={"_csrf": csrf_of(page), "begrunnelse": " "})
    assert empty.status_code == 422 and "Skriv hvorfor saken er alvorlig" in empty.text
    done = leader.post(f"{url}/varsle-skoleeier", data={"_csrf": csrf_of(page), "begrunnelse": "Trusler om vold."})
    assert done.status_code == 302
    shown = leader.get(url).text
    assert "Ba rektor varsle skoleeier: saken er alvorlig. Begrunnelse: Trusler om vold." in shown
    assert 'id="varsle-skoleeier"' not in shown  # the notice is open now
    assert 'id="varsle-skoleeier"' not in login(env.app, "revisor").get(url).text


def test_a_school_filter_no_school_could_have_is_no_filter(env):
    """«?skole=» beyond any id the database can hold was an overflow, a 500."""
    leader = login(env.app, "rektor")
    for odd in ("9" * 20, "0", "-1", "١٢"):
        assert leader.get(f"/oppgaver?skole={odd}").status_code == 200, odd
