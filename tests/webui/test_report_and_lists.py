"""Issue 15 through the pages: the report form's new questions, «Mottatt av» from the log-in,
a notice time ahead refused, the overview counting kinds of offence without names, the Saker
status tabs that keep a closed case findable, and the words on the task lines."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from engine.write.demo import complete_next, report_data
from tests.support.web import csrf_of, login, web_env

TASK_LINK = re.compile(r'href="/oppgaver/([0-9a-f-]{36})"')


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    made = web_env(tmp_path_factory.mktemp("friction"))
    yield made
    made.kap12.close()


def _report(env, user="ansatt", **data):
    return env.kap12.report(env.demo.users[user], env.nordli, report_data(**data))


def _task_id(env, user: str, case_id: int, title: str) -> str:
    return next(t.id for t in env.kap12.tasks_for(env.demo.users[user]) if t.case_id == case_id and t.title == title)


def test_the_report_form_asks_kind_date_where_and_still_going_on(env):
    client = login(env.app, "ansatt")
    text = client.get("/melding/ny").text
    assert 'type="checkbox" name="krenkelse_art" value="diskriminering"' in text
    assert "Rasisme eller annen diskriminering" in text and "Digitale krenkelser (nett, sosiale medier)" in text
    assert 'type="date" id="f-hendelse_dato" name="hendelse_dato"' in text
    assert "Hvor skjedde det?" in text and 'type="radio" name="pagaar" value="vet_ikke"' in text
    assert "Velg den anklagede ansatte" in text and "brukernavn" not in text
    # A group of checkboxes is never «(valgfritt)»; a text field that may be left empty is.
    legend = re.search(r"<legend>Hva slags krenkelse er det\?(.*?)</legend>", text, re.S)[1]
    assert "valgfritt" not in legend
    assert re.search(r'for="f-klasse">Klasse <span class="opt">\(valgfritt\)', text)


def test_a_report_keeps_the_answers_and_refuses_a_date_ahead(env):
    client = login(env.app, "ansatt")
    page = client.get("/melding/ny").text
    data = {"_csrf": csrf_of(page), "_once": re.search(r'name="_once" value="([^"]+)"', page)[1],
            "school_id": str(env.nordli), "berorte_elever": "Ola (demo)", "hva_skjedde": "Slått i friminuttet.",
            "krenkelse_art": ["vold", "mobbing"], "hendelse_dato": "2026-12-01", "tid_og_sted": "Skolegården",
            "pagaar": "nei", "kjent_dato": "2026-11-30", "krenker_type": "elev", "meldt_pa_vegne_av": "elev"}
    refused = client.post("/melding/ny", data=data)
    assert refused.status_code == 422
    assert "Datoen 01.12.2026 er fram i tid" in refused.text
    assert 'name="krenkelse_art" value="vold" checked' in refused.text  # nothing typed is lost
    data["hendelse_dato"] = "2026-11-27"
    sent = client.post("/melding/ny", data=data)
    assert sent.status_code == 302
    case_id = int(re.search(r"/melding/(\d+)/kvittering", sent.headers["Location"])[1])
    reported = next(e for e in env.kap12.case_history(case_id) if e.kind == "reported").data["report"]
    assert (reported["krenkelse_art"], reported["pagaar"], reported["hendelse_dato"]) == (
        ["vold", "mobbing"], "nei", "2026-11-27")


def test_the_overview_counts_kinds_without_names(env):
    _report(env, berorte_elever="Navnesen Telles (demo)", krenkelse_art=["seksuell_trakassering"], pagaar="ja")
    client = login(env.app, "rektor")
    text = client.get("/oversikt").text
    section = text[text.index('id="krenkelser"'):]
    section = section[:section.index("</section>")]
    assert "Seksuell trakassering" in section and "Ja, det pågår fortsatt" in section
    assert "Navnesen" not in text  # counts only: no pupil anywhere on the page
    assert "Hva meldingene gjelder" in section
    pdf = client.get("/oversikt/eksport.pdf")
    printed = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Hva meldingene gjelder" in printed and "Seksuell trakassering" in printed
    assert "Navnesen" not in printed
    # The archive is named as configured, and what happens is said: registered in the county's archive.
    assert "Arkivering i fylkets arkiv (Elements)" in text and "Dokumentene i uttrekket blir merket som levert" in text


def test_received_by_is_shown_and_recorded_from_the_log_in(env):
    case = _report(env, krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")
    complete_next(env.kap12, env.demo.users["rektor"], case.id)  # Motta melding
    rektor = login(env.app, "rektor")
    notice = _task_id(env, "rektor", case.id, "Varsle skoleeier straks")
    page = rektor.get(f"/oppgaver/{notice}").text
    data = {"_csrf": csrf_of(page), "varslet_tidspunkt": "2026-11-30T09:30", "varslet_hvem": "Skolesjef",
            "varslet_hvordan": "telefon", "varsel_innhold": "Meldt om saken."}
    refused = rektor.post(f"/oppgaver/{notice}", data=data)
    assert refused.status_code == 422
    assert "Tidspunktet 30.11.2026 kl. 09:30 er fram i tid" in refused.text and 'value="Skolesjef"' in refused.text
    data["varslet_tidspunkt"] = "2026-11-30T08:45"
    assert rektor.post(f"/oppgaver/{notice}", data=data).status_code == 302

    owner = login(env.app, "skoleeier")
    ack = _task_id(env, "skoleeier", case.id, "Bekrefte mottatt varsel")
    page = owner.get(f"/oppgaver/{ack}").text
    assert '<p class="fixed-value">Sigrid Skoleeier</p>' in page and 'name="mottatt_av"' not in page
    # A posted name is not trusted: the log-in decides who received it.
    sent = owner.post(f"/oppgaver/{ack}", data={"_csrf": csrf_of(page), "mottatt_av": "Rune Rektor",
                                                "skoleeiers_vurdering": "Følger saken.", "behov_for_bistand": "false"})
    assert sent.status_code == 302
    done = next(e for e in env.kap12.case_history(case.id)
                if e.kind == "task_completed" and e.data.get("form") == "bekreft_varsel")
    assert done.data["data"]["mottatt_av"] == "Sigrid Skoleeier"


def test_saker_shows_the_status_as_tabs_and_a_closed_case_stays_findable(env):
    case = _report(env, berorte_elever="Lukket Sak (demo)")
    leader = env.demo.users["avdelingsleder"]
    complete_next(env.kap12, leader, case.id)
    complete_next(env.kap12, leader, case.id, trygt_skolemiljo="ja")
    complete_next(env.kap12, leader, case.id)  # closed
    client = login(env.app, "rektor")
    open_page = client.get("/saker").text
    assert 'aria-current="page">Under behandling' in open_page
    closed_count = re.search(r'status=closed">Avsluttet <span class="count">(\d+)</span>', open_page)
    assert closed_count and int(closed_count[1]) >= 1
    assert "avsluttet sak vises ikke her" in open_page or "avsluttede saker vises ikke her" in open_page
    assert case.number not in open_page
    closed = client.get("/saker?status=closed").text
    assert case.number in closed and 'aria-current="page">Avsluttet' in closed
    everything = client.get("/saker?status=alle&prosedyre=A").text
    assert case.number in everything and '<span class="badge badge-grey">Avsluttet</span>' in everything
    assert "<strong>alle saker</strong>, A – elev mot elev" in everything


def test_the_status_tabs_count_exactly_and_a_search_up_to_a_cap(env, monkeypatch):
    from webui import cases

    for _ in range(3):
        _report(env)
    client = login(env.app, "rektor")
    counted = client.get("/saker").text
    open_n = int(re.search(r'status=open"[^>]*>Under behandling <span class="count">(\d+)</span>', counted)[1])
    assert open_n >= 3
    monkeypatch.setattr(cases, "COUNTED_UP_TO", open_n - 1)
    # Unsearched, the tabs are summed from the case tallies: exact, whatever the cap.
    assert f'Under behandling <span class="count">{open_n}</span>' in client.get("/saker").text
    # Searched by number, each is counted up to the cap and then says "over".
    capped = client.get("/saker?q=20").text
    assert f'Under behandling <span class="count">over {open_n - 1}</span>' in capped
    assert f'Alle <span class="count">over {open_n - 1}</span>' in capped
    counts = env.kap12.case_status_counts(env.demo.users["rektor"], search="20", cap=open_n - 1)
    assert counts["open"] == open_n  # counted up to cap + 1, "more than the cap"
    assert env.kap12.case_status_counts(env.demo.users["rektor"])["open"] == open_n


def test_the_yearly_cycle_is_named_on_task_lines_and_in_the_filter(env):
    env.kap12.start_prevention_cycle(None, env.nordli, 2026)
    text = login(env.app, "rektor").get("/oppgaver").text
    assert "Årshjul (forebygging)" in text
    assert " · Å · " not in text and ">Å<" not in text
    assert '<option value="Å" >Årshjul (forebygging)</option>' in text  # the filter offers it


def test_naming_the_accused_is_a_picker_of_the_schools_staff(env):
    # A C report that names nobody: the school owner identifies the accused on a task.
    case = _report(env, krenker_type="ledelse", krenker_navn="", anklaget_bruker=None)
    owner = login(env.app, "skoleeier")
    task = _task_id(env, "skoleeier", case.id, "Identifisere den anklagede")
    page = owner.get(f"/oppgaver/{task}").text
    assert "Velg den anklagede ansatte" in page and '<select id="f-anklaget_bruker" name="anklaget_bruker"' in page
    assert "Anne Avdelingsleder (avdelingsleder)" in page and "Siri Rektor" not in page  # Nordli's staff only
