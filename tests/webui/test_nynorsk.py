"""Nynorsk beside bokmål: chosen by the browser's language or the switch in the footer, with a
catalogue that has every message the English one has, translated, placeholders intact."""
from __future__ import annotations

import re

from babel.messages.pofile import read_po

from engine.versions.example_data import example_data
from engine.write.demo import report_data
from processes import forms
from tests.support.web import csrf_of, login
from webui import i18n

NN = {"Accept-Language": "nn-NO,nn;q=0.9,nb;q=0.5"}
PO = {lang: i18n.SOURCE_DIR / lang / "LC_MESSAGES" / "messages.po" for lang in ("nn", "en")}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog(lang: str):
    with PO[lang].open("rb") as f:
        return read_po(f, locale=lang)


def test_nynorsk_browsers_get_nynorsk(env):
    text = env.app.test_client().get("/logg-inn", headers=NN).text
    assert '<html lang="nn">' in text
    assert "<h1>Logg inn</h1>" in text and "Brukarnamn" in text and "Brukernavn" not in text
    assert 'hreflang="nb">Bokmål</a>' in text and 'hreflang="en">English</a>' in text


def test_nynorsk_pages_for_an_employee(env):
    client = login(env.app, "ansatt")
    tasks = client.get("/oppgaver", headers=NN).text
    assert "Oppgåvene mine" in tasks and "Hopp til innhaldet" in tasks and "Mine oppgaver" not in tasks
    form = client.get("/melding/ny", headers=NN).text
    assert "Send meldinga" in form and "(valfritt)" in form
    wrong = client.post("/logg-inn", headers=NN, data={"_csrf": csrf_of(form), "username": "x", "password": "y"})
    assert "Feil brukarnamn eller passord." in wrong.text


def test_the_switch_chooses_nynorsk(env):
    client = env.app.test_client()
    response = client.get("/sprak/nn?neste=/logg-inn")
    assert response.status_code == 302 and response.headers["Set-Cookie"].startswith("lang=nn;")
    text = client.get("/logg-inn", headers={"Accept-Language": "en"}).text
    assert '<html lang="nn">' in text and "Brukarnamn" in text


def test_the_catalogue_has_every_message_translated():
    nn, en = _catalog("nn"), _catalog("en")
    assert {m.id for m in nn if m.id} == {m.id for m in en if m.id}, "nn and en must have the same messages"
    for m in nn:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings) and not m.fuzzy, m.id
        wanted = set(PLACEHOLDER.findall((m.id if isinstance(m.id, tuple) else (m.id,))[-1]))
        assert all(set(PLACEHOLDER.findall(s)) == wanted for s in strings), m.id


def test_form_questions_in_nynorsk_where_the_form_version_has_them(env):
    client = login(env.app, "ansatt")
    form = client.get("/melding/ny", headers=NN).text
    assert "Kva elev eller kva elevar gjeld det?" in form and "Ein tilsett ved skulen" in form
    assert "Hvilken elev eller hvilke elever gjelder det?" not in form
    english = client.get("/melding/ny", headers={"Accept-Language": "en"}).text
    assert "Which pupil or pupils does it concern?" in english  # the version's English texts
    # A recorded step is shown with its own form version's texts.
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    page = login(env.app, "avdelingsleder").get(f"/saker/{case.id}", headers=NN).text
    assert "Kva har skjedd?" in page and "Hva har skjedd?" not in page


def test_task_and_stage_names_in_nynorsk_from_the_diagram_version(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    leader = login(env.app, "avdelingsleder")
    assert "Ta imot og registrere melding" in leader.get("/oppgaver", headers=NN).text
    page = leader.get(f"/saker/{case.id}", headers=NN).text
    assert "står på: Ta imot og registrere melding" in page  # the stage
    assert "Ny oppgåve: «Ta imot og registrere melding»" in page  # the timeline
    assert "Motta og registrere melding" not in page
    task_url = re.search(r'href="(/oppgaver/[^"?#]+)"', page).group(1)
    task = leader.get(task_url, headers=NN).text
    assert "<h1>Ta imot og registrere melding</h1>" in task and "Motta og registrere melding" not in task
    # Bokmål pages show the stored names; English pages the diagram's English ones.
    bokmal = leader.get(f"/saker/{case.id}").text
    assert "står på: Motta og registrere melding" in bokmal and "Ta imot og registrere melding" not in bokmal
    assert "Receive and record the report" in leader.get(f"/saker/{case.id}", headers={"Accept-Language": "en"}).text


def test_the_engines_messages_in_nynorsk(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    leader = login(env.app, "avdelingsleder")
    page = leader.get(f"/saker/{case.id}", headers=NN).text
    task_url = re.search(r'href="(/oppgaver/[^"?#]+)"', page).group(1)
    form = leader.get(task_url, headers=NN).text
    refused = leader.post(task_url, headers=NN, data={"_csrf": csrf_of(form)})
    assert refused.status_code == 422
    assert "Feltet må fyllast ut." in refused.text and "Feltet må fylles ut." not in refused.text
    # In bokmål the same refusal stays bokmål.
    assert "Feltet må fylles ut." in leader.post(task_url, data={"_csrf": csrf_of(form)}).text
    # A step someone else has done: the conflict, in nynorsk, names who and when.
    [task] = [t for t in env.kap12.case_tasks(case.id) if t.title == "Motta og registrere melding"]
    env.kap12.complete(env.demo.users["rektor"], task.id, example_data(forms.get_form(task.form_key),
                                                                       env.kap12.clock.now().date()))
    stale = leader.post(task_url, headers=NN, data={"_csrf": csrf_of(form)}, follow_redirects=True).text
    assert "er allereie utført av" in stale and "Ingenting vart endra." in stale


def test_the_weekly_overviews_stages_in_nynorsk_and_its_export_in_bokmal(env):
    env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    rektor = login(env.app, "rektor")
    page = rektor.get("/oversikt", headers=NN).text
    assert "Meld – ikkje motteken" in page and "Meldt – ikke mottatt" not in page
    export = rektor.get("/oversikt/eksport.csv", headers=NN).get_data(as_text=True)
    assert "Meldt – ikke mottatt" in export and "Meld – ikkje motteken" not in export


def test_where_a_case_stands_says_how_many_more_tasks_in_the_readers_language(env):
    """The row keeps as many whole task titles as fit and then how many more («+3»)."""
    from webui.local_names import stage_text

    stored = "Kartlegge elevens opplevelse; +3"
    for headers, more in (({}, "og 3 oppgaver til"), (NN, "og 3 oppgåver til"),
                          ({"Accept-Language": "en"}, "and 3 more tasks")):
        with env.app.test_request_context("/", headers=headers):
            assert stage_text(stored).endswith(f"; {more}")
    with env.app.test_request_context("/", headers=NN):
        assert stage_text("Motta melding; +1") == "Ta imot melding; og 1 oppgåve til"  # names translated too
