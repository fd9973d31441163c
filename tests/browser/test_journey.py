"""A real Chromium through the real pages: an A case from report to closing, and a B case the
accused employee never sees. Every page visited is saved as a screenshot to look at."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine.write import demo
from tests.support.browser import serving
from tests.support.chromium import chromium_available, test_output_dir
from tests.support.web import make_kap12
from webui.app import create_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")]

OSLO = ZoneInfo("Europe/Oslo")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kap12, clock = make_kap12(tmp_path_factory.mktemp("browser"))
    demo.ensure_directory(kap12)
    with serving(create_app(kap12)) as url:
        yield type("Server", (), {"url": url, "kap12": kap12, "clock": clock})
    kap12.close()


class Shots:
    def __init__(self):
        self.dir = test_output_dir("browser")
        self.n = 0

    def __call__(self, page, name: str, phone: bool = False, at: str | None = None):
        self.n += 1
        if phone:
            page.set_viewport_size(PHONE)
            if at:  # the part of the page the phone shot is about, at the top of the screen
                page.eval_on_selector(at, "el => el.scrollIntoView()")
        # Phone shots show the first screen, as the phone shows it.
        page.screenshot(path=str(self.dir / f"{self.n:02d}-{name}{'-mobil' if phone else ''}.png"), full_page=not phone)
        if phone:
            page.set_viewport_size(DESKTOP)


@pytest.fixture(scope="module")
def shot():
    return Shots()


def log_in(page, server, shot, username, name=None):
    page.goto(f"{server.url}/logg-inn")
    if name:
        shot(page, name)
    page.fill("#username", username)
    page.fill("#password", demo.PASSWORD)
    page.click("button:has-text('Logg inn')")
    page.wait_for_url("**/oppgaver")


def log_out(page):
    page.click("button:has-text('Logg ut')")
    page.wait_for_url("**/logg-inn**")


def open_task(page, title):
    page.click(f"a.task-title:has-text('{title}')")
    page.wait_for_selector("h1:has-text('%s')" % title)


def submit(page, title):
    page.click("button:has-text('Lagre og fullfør')")
    page.wait_for_url("**/oppgaver")
    assert f"«{title}» er utført" in page.inner_text(".flash")


def test_a_case_from_report_to_closing(browser, server, shot):
    page = browser.new_page(viewport=DESKTOP, locale="nb-NO")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if "/static/" in r.url and r.status >= 400 else None)

    # An employee reports.
    log_in(page, server, shot, "ansatt", "innlogging")
    shot(page, "mine-oppgaver-tom")
    page.click("text=+ Ny melding")
    page.wait_for_url("**/melding/ny")
    assert page.is_hidden("#f-anklaget_bruker")  # the accused picker waits for «ansatt»/«ledelse»
    shot(page, "ny-melding")
    shot(page, "ny-melding", phone=True)
    page.click("button:has-text('Send meldingen')")  # empty: the errors show by the fields
    assert "Skjemaet er ikke sendt" in page.inner_text(".error-summary")
    shot(page, "ny-melding-feil")
    page.fill("#f-berorte_elever", "Emma Hansen, Vg1")
    page.fill("#f-hva_skjedde", "Emma blir holdt utenfor og får stygge meldinger i klassechatten.")
    page.fill("#f-tid_og_sted", "Friminuttene, siste to uker")
    page.check("input[name=krenker_type][value=elev]")
    page.check("input[name=meldt_pa_vegne_av][value=elev]")
    page.click("button:has-text('Send meldingen')")
    page.wait_for_url("**/kvittering")
    receipt = page.inner_text("main")
    assert "Saksnummer: 2026-" in receipt and "avdelingsleder" in receipt
    number = receipt.split("Saksnummer: ")[1].split()[0]
    shot(page, "kvittering")
    log_out(page)

    # The department head receives it.
    log_in(page, server, shot, "avdelingsleder")
    assert number in page.inner_text(".tasklist")
    shot(page, "mine-oppgaver")
    shot(page, "mine-oppgaver", phone=True)
    page.click("button:has-text('Ta oppgaven')")
    assert "Oppgaven er din nå" in page.inner_text(".flash")
    open_task(page, "Motta og registrere melding")
    assert "Emma Hansen, Vg1" in page.inner_text(".context")
    shot(page, "motta-melding")
    page.fill("#f-mottatt_vurdering", "Tas på alvor. Undersøkes straks.")
    submit(page, "Motta og registrere melding")

    # Investigate: not safe.
    page.click("text=Gå videre til «Undersøke saken»")
    page.fill("#f-elevens_stemme", "Emma sier hun gruer seg til friminuttene.")
    page.fill("#f-samtale_elev_dato", "2026-11-30")
    page.fill("#f-samtaler_andre", "Kontaktlæreren har sett Emma alene i friminuttene.")
    page.check("input[name=eleven_sier][value=nei]")
    page.fill("#f-vurdering", "Eleven har ikke et trygt skolemiljø.")
    page.check("input[name=trygt_skolemiljo][value=nei]")
    shot(page, "undersokelse")
    submit(page, "Undersøke saken")

    # The action plan, with two measures: rows are added and removed in place (no reload: the
    # marker set on the page survives), and the server reads rows by number, gaps and all.
    page.click("text=Gå videre til «Utarbeide tiltaksplan»")
    page.evaluate("window.kap12Marker = 'samme side'")
    page.fill("#f-problem", "Emma holdes utenfor i friminuttene og i klassechatten.")
    page.fill("#f-tiltak-0-hva", "Voksen til stede i friminuttene")
    page.fill("#f-tiltak-0-nar", "Hvert friminutt fra uke 49")
    page.fill("#f-tiltak-0-ansvarlig", "Kontaktlærer")
    assert not page.is_visible("button:has-text('Fjern rad 1')")  # the one row a plan needs stays
    page.click("button:has-text('Legg til rad')")
    page.fill("#f-tiltak-1-hva", "Dette tiltaket fjernes igjen")
    assert page.evaluate("document.activeElement.id") == "f-tiltak-1-hva"
    page.click("button:has-text('Legg til rad')")
    assert page.input_value("#f-tiltak-2-hva") == ""
    page.click("button:has-text('Fjern rad 2')")
    assert page.locator("#f-tiltak-1-hva").count() == 0
    assert page.inner_text("#f-tiltak fieldset.row:nth-of-type(2) legend") == "Rad 2"
    assert page.evaluate("window.kap12Marker") == "samme side"
    assert page.input_value("#f-tiltak-0-hva") == "Voksen til stede i friminuttene"
    page.fill("#f-tiltak-2-hva", "Samtale med klassen om nettvett")
    page.fill("#f-tiltak-2-nar", "Tirsdag uke 49")
    page.select_option("#f-tiltak-2-ansvarlig_bruker", "ansatt")  # a colleague from the staff list
    page.fill("#f-evalueringsdato", "2026-12-14")
    page.fill("#f-elevens_stemme", "Emma ønsker en voksen i nærheten.")
    page.fill("#f-elevens_beste", "Emma må være trygg i friminuttene; tiltakene tar det først.")
    page.check("#f-foresatte_informert")
    shot(page, "tiltaksplan")
    shot(page, "tiltaksplan", phone=True, at="#skjema")
    submit(page, "Utarbeide tiltaksplan")

    # Carrying out, measure by measure: the plan's rows are there to mark.
    page.click("text=Gå videre til «Gjennomføre tiltak»")
    assert page.input_value("#f-tiltak_status-0-tiltak") == "Voksen til stede i friminuttene"
    assert page.input_value("#f-tiltak_status-1-tiltak") == "Samtale med klassen om nettvett"
    page.check("input[name='tiltak_status-0-status'][value=gjennomfort]")
    page.fill("#f-tiltak_status-0-merknad", "Hvert friminutt siden mandag.")
    page.check("input[name='tiltak_status-1-status'][value=delvis]")
    page.fill("#f-tiltak_status-1-merknad", "Første samtale holdt; neste er flyttet til uke 50.")
    shot(page, "gjennomforing")
    shot(page, "gjennomforing", phone=True, at="#skjema")
    submit(page, "Gjennomføre tiltak")

    # The evaluation date comes; the sweeper opens the evaluation.
    server.clock.set(datetime(2026, 12, 14, 9, 0, tzinfo=OSLO))
    server.kap12.sweep_timers()
    page.goto(f"{server.url}/oppgaver")
    shot(page, "evaluering-klar")
    open_task(page, "Evaluere tiltakene")
    assert "Samtale med klassen om nettvett" in page.inner_text(".context")
    carried = page.inner_text("table.carried-out")
    assert "Delvis gjennomført" in carried and "neste er flyttet til uke 50" in carried and "Kari Lærer" in carried
    page.fill("#f-elevens_stemme", "Emma sier det er mye bedre nå.")
    page.check("input[name=eleven_sier][value=ja]")
    page.fill("#f-effekt_tiltak", "Ingen nye hendelser.")
    page.check("input[name=evaluering_resultat][value=trygt]")
    shot(page, "evaluering")
    shot(page, "evaluering", phone=True, at="#skjema")
    submit(page, "Evaluere tiltakene")

    page.click("text=Gå videre til «Avslutte og dokumentere saken»")
    page.fill("#f-oppsummering", "Tiltakene virket. Saken avsluttes.")
    page.fill("#f-elevens_stemme", "Emma er fornøyd.")
    submit(page, "Avslutte og dokumentere saken")

    # The case page: closed, the whole story, the diagram in green.
    page.goto(f"{server.url}/saker?status=alle&q={number}")
    shot(page, "saker")
    page.click(f"a:has-text('{number}')")
    page.wait_for_selector(".diagram[data-ready='1']")
    assert "Avsluttet" in page.inner_text("dl.summary")
    assert "Saken ble avsluttet." in page.inner_text(".timeline")
    assert page.locator(".djs-element.done").count() > 5
    shot(page, "sak")
    shot(page, "sak", phone=True)
    assert not errors, errors
    page.close()


def test_b_case_is_invisible_to_the_accused(browser, server, shot):
    page = browser.new_page(viewport=DESKTOP, locale="nb-NO")
    log_in(page, server, shot, "ansatt")
    page.click("text=+ Ny melding")
    page.fill("#f-berorte_elever", "Ali, Vg3")
    page.fill("#f-hva_skjedde", "Eleven forteller at læreren har latterliggjort ham foran klassen.")
    page.fill("#f-tid_og_sted", "Matematikktimen mandag")
    page.check("input[name=krenker_type][value=ansatt]")
    assert page.is_visible("#f-anklaget_bruker")
    page.select_option("#f-anklaget_bruker", "ansatt2")
    page.fill("#f-krenker_navn", "Per Faglærer")
    page.check("input[name=meldt_pa_vegne_av][value=elev]")
    shot(page, "ny-melding-b")
    page.click("button:has-text('Send meldingen')")
    page.wait_for_url("**/kvittering")
    number = page.inner_text("main").split("Saksnummer: ")[1].split()[0]
    assert "rektor" in page.inner_text("main")
    case_url = page.url.replace("/melding/", "/saker/").replace("/kvittering", "")
    log_out(page)

    log_in(page, server, shot, "ansatt2")
    assert number not in page.content()
    page.goto(f"{server.url}/saker?status=alle")
    assert number not in page.content()
    shot(page, "anklaget-saker")
    response = page.goto(case_url)
    assert response.status == 404 and "Ali" not in page.content()
    shot(page, "anklaget-404", phone=True)
    log_out(page)

    # Rektor receives it with B's own form; the investigation, the hearing and the notice to the
    # school owner all open at once (§ 12-5): nothing waits for the school owner.
    log_in(page, server, shot, "rektor")
    page.click(f".tasklist li:has-text('{number}') a.task-title:has-text('Motta melding')")
    page.wait_for_selector("h1:has-text('Motta melding')")
    assert "Alvorlig sak" not in page.inner_text("main")
    shot(page, "motta-melding-b")
    page.fill("#f-mottatt_vurdering", "Skjerpet aktivitetsplikt. Undersøkes straks.")
    page.fill("#f-tatt_opp_dato", "2026-11-30")
    submit(page, "Motta melding")
    tasks = page.inner_text(".tasklist")
    for title in ("Undersøke saken", "Informere den anklagede og innhente tilsvar (kontradiksjon)",
                  "Varsle skoleeier straks"):
        assert title in tasks, title
    shot(page, "b-samtidig")
    page.goto(case_url)
    assert "07.12.2026" in page.inner_text("dl.summary")  # § 12-6: a week after they took it up
    page.close()


def test_c_case_without_a_named_accused_goes_to_the_school_owner_first(browser, server, shot):
    page = browser.new_page(viewport=DESKTOP, locale="nb-NO")
    log_in(page, server, shot, "ansatt")
    page.click("text=+ Ny melding")
    page.fill("#f-berorte_elever", "Nora, Vg2")
    page.fill("#f-hva_skjedde", "Eleven sier at en i ledelsen har snakket nedsettende til henne.")
    page.fill("#f-tid_og_sted", "Kontoret, fredag")
    page.check("input[name=krenker_type][value=ledelse]")
    page.check("input[name=meldt_pa_vegne_av][value=elev]")
    page.click("button:has-text('Send meldingen')")
    page.wait_for_url("**/kvittering")
    number = page.inner_text("main").split("Saksnummer: ")[1].split()[0]
    log_out(page)

    log_in(page, server, shot, "rektor")
    assert number not in page.content()  # C bypasses the school's leadership
    log_out(page)
    log_in(page, server, shot, "skoleeier")
    page.click(f".tasklist li:has-text('{number}') a.task-title:has-text('Identifisere den anklagede')")
    page.wait_for_selector("h1:has-text('Identifisere den anklagede')")
    shot(page, "identifisere-anklaget")
    page.check("input[name=anklaget_i_listen][value=ja]")  # in the list (an agency substitute is not)
    page.select_option("#f-anklaget_bruker", "avdelingsleder")  # a picker of the school's staff
    page.fill("#f-krenker_navn", "Anne Avdelingsleder")
    page.fill("#f-hvordan_identifisert", "Samtale med eleven.")
    submit(page, "Identifisere den anklagede")
    page.click(f".tasklist li:has-text('{number}') a.task-title:has-text('Motta melding')")
    page.wait_for_selector("h1:has-text('Motta melding')")
    assert "Alvorlig sak" not in page.inner_text("main")
    page.close()
