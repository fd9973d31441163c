"""The weekly overview page, its exports and the review button; the documents on the case page."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from pypdf import PdfReader

from engine.write.demo import complete_next, report_data
from tests.support.web import csrf_of, login


def _report(env, **kw):
    return env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data(**kw))


def test_overview_lists_cases_and_keeps_b_to_rektor(env):
    a = _report(env, berorte_elever="Emma Hansen")
    b = _report(env, krenker_type="ansatt", krenker_navn="Per", anklaget_bruker="ansatt2")
    rektor = login(env.app, "rektor")
    page = rektor.get("/oversikt")
    assert page.status_code == 200
    assert a.number in page.text and b.number in page.text and "Meldt – ikke mottatt" in page.text
    assert "Emma Hansen" not in page.text  # no pupil names on the page
    assert "<svg" in page.text and "Ukeoversikt" in page.text
    leader = login(env.app, "avdelingsleder").get("/oversikt")
    assert a.number in leader.text and b.number not in leader.text
    assert login(env.app, "ansatt").get("/oversikt").status_code == 404
    assert "Ukeoversikt" not in login(env.app, "ansatt").get("/saker").text


def test_mark_as_reviewed_needs_csrf_and_records_events(env):
    case = _report(env)
    client = login(env.app, "rektor")
    assert client.post("/oversikt/gjennomgatt", data={"case_id": [str(case.id)]}).status_code == 400
    token = csrf_of(client.get("/oversikt").text)
    response = client.post("/oversikt/gjennomgatt", data={"_csrf": token, "case_id": [str(case.id)],
                                                         "kommentar": "Følges opp neste uke"})
    assert response.status_code == 302
    reviewed = [e for e in env.kap12.case_history(case.id) if e.kind == "reviewed"]
    assert reviewed and reviewed[-1].data["comment"] == "Følges opp neste uke"
    assert "Siden gjennomgang" in client.get("/oversikt").text


def test_csv_without_and_with_names_and_pdf(env):
    case = _report(env, berorte_elever="Jonas Berg")
    client = login(env.app, "rektor")
    plain = client.get("/oversikt/eksport.csv")
    assert plain.status_code == 200 and plain.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(plain.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Saksnummer" and "Elev(er)" not in rows[0]
    assert any(r[0] == case.number for r in rows) and "Jonas Berg" not in plain.data.decode()
    # Names only from the page's form (POST with its token): a link cannot fetch them in a
    # leader's name, and record reads of every case that way.
    reads = len([e for e in env.kap12.case_history(case.id) if e.kind == "case_read"])
    linked = client.get("/oversikt/eksport.csv?navn=1").data.decode("utf-8-sig")
    assert "Elev(er)" not in linked and "Jonas Berg" not in linked
    assert client.post("/oversikt/eksport.csv", data={"navn": "1"}).status_code == 400  # no token
    assert len([e for e in env.kap12.case_history(case.id) if e.kind == "case_read"]) == reads
    page = client.get("/oversikt")
    named = client.post("/oversikt/eksport.csv", data={"_csrf": csrf_of(page.text), "navn": "1"}).data.decode("utf-8-sig")
    assert "Elev(er)" in named and "Jonas Berg" in named
    exported = [e for e in env.kap12.case_history(case.id) if e.kind == "case_read"][-1]
    assert exported.data == {"view": "oversikt-eksport"}
    pdf = client.get("/oversikt/eksport.pdf?prosedyre=A")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_case_page_lists_documents_and_downloads_are_recorded(env):
    case = _report(env)
    client = login(env.app, "rektor")
    page = client.get(f"/saker/{case.id}")
    assert page.status_code == 200 and "Dokumenter" in page.text and "Meldingsskjema" in page.text
    import re

    link = re.search(r'href="(/dokumenter/\d+/\d+\.pdf)"', page.text)[1]
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-") and pdf.mimetype == "application/pdf"
    assert any(e.kind == "case_read" and e.data == {"view": "document"} for e in env.kap12.case_history(case.id))
    assert login(env.app, "rektor2").get(link).status_code == 404


def test_a_long_stage_shows_its_first_cases_and_pages_the_rest(env, monkeypatch):
    from engine.read import overview

    monkeypatch.setattr(overview, "PER_STAGE", 1)
    monkeypatch.setattr(overview, "STAGE_PAGE", 1)
    first, second = _report(env), _report(env)
    waiting = overview.weekly_overview(env.kap12, env.demo.users["rektor"]).stage_count("meldt")
    assert waiting >= 2
    client = login(env.app, "rektor")
    page = client.get("/oversikt").text
    assert f"Vis alle {waiting} i «Meldt – ikke mottatt»" in page
    assert "Bare sakene som vises på siden, kan merkes her." in page
    ticked = re.compile(r'name="case_id" value="(\d+)"')
    url, seen = "/oversikt?fase=meldt", []
    while url:
        stage = client.get(url)
        assert stage.status_code == 200 and "Viser bare fasen «Meldt – ikke mottatt»." in stage.text
        seen += ticked.findall(stage.text)
        found = re.search(r'rel="next" href="([^"]+)"', stage.text)
        url = found[1].replace("&amp;", "&") if found else None
    assert len(seen) == len(set(seen)) == waiting  # every case of the stage once, a page at a time
    assert {str(first.id), str(second.id)} <= set(seen) and "Første side" in stage.text
    bad = client.get("/oversikt?fase=meldt&etter=ikke-en-peker")
    assert bad.status_code == 422 and "Sidepekeren er ugyldig" in bad.text
    assert client.get("/oversikt?fase=ukjent").status_code == 200  # an unknown stage: the whole overview


def test_the_lead_names_the_school_chosen(env):
    """The school owner's overview of one school says so: «Alle skoler i fylket» above one
    school's figures read as the county's."""
    _report(env, krenker_type="ansatt", krenker_navn="Per", anklaget_bruker="ansatt2")
    owner = login(env.app, "skoleeier")
    county = owner.get("/oversikt").text
    assert "Alle skoler i fylket:" in county
    one = owner.get("/oversikt", query_string={"skole": "Nordli videregående skole"}).text
    assert "Nordli videregående skole: saker i prosedyre B og C" in one
    assert "Alle skoler i fylket" not in one
    # A name that is no school of the county is not repeated back as if it were one.
    made_up = owner.get("/oversikt", query_string={"skole": "Ingen slik skole"}).text
    assert "Ingen slik skole:" not in made_up and "Alle skoler i fylket:" in made_up


def test_a_row_names_the_four_newest_changes_and_counts_the_rest(env):
    """The row shows what is new since the forum last went through the case: the four newest
    changes, and how many more there are; the CSV counts them all."""
    from engine.read.overview import CHANGES_SHOWN, QUIET_KINDS
    from engine.write import demo

    case = _report(env)
    leader = env.demo.users["avdelingsleder"]
    demo.complete_next(env.kap12, leader, case.id)
    demo.complete_next(env.kap12, leader, case.id, trygt_skolemiljo="nei")
    demo.complete_next(env.kap12, leader, case.id)  # the plan
    news = [e.kind for e in env.kap12.case_history(case.id) if e.kind not in QUIET_KINDS]
    assert len(news) > CHANGES_SHOWN, news
    client = login(env.app, "rektor")
    page = client.get("/oversikt").text
    row = page[page.index(f">{case.number}</a>"):]
    row = row[:row.index("</tr>")]
    assert row.count("<li><time>") == CHANGES_SHOWN
    more = re.search(r"… og (\d+) til – se saken\.", row)
    assert more, row
    lines = list(csv.reader(io.StringIO(client.get("/oversikt/eksport.csv").data.decode("utf-8-sig")), delimiter=";"))
    counted = int(next(r for r in lines if r[0] == case.number)[lines[0].index("Endringer siden gjennomgang")])
    assert counted == CHANGES_SHOWN + int(more.group(1)) >= len(news)
    pdf = client.get("/oversikt/eksport.pdf").data
    printed = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert f"og {more.group(1)} til – se saken" in " ".join(printed.split())


def test_the_closed_list_is_paged_and_says_how_many_there_are(env, monkeypatch):
    from engine.read import overview, paging
    from engine.write import demo

    monkeypatch.setattr(overview, "PER_STAGE", 2)
    leader = env.demo.users["avdelingsleder"]
    numbers = []
    for _ in range(3):
        case = _report(env)
        demo.complete_next(env.kap12, leader, case.id)
        demo.complete_next(env.kap12, leader, case.id, trygt_skolemiljo="ja")
        demo.complete_next(env.kap12, leader, case.id)
        numbers.append(case.number)
    client = login(env.app, "rektor")
    page = client.get("/oversikt?prosedyre=A").text
    closed = page[page.index('id="avsluttet"'):]
    assert "<strong>3</strong><span>avsluttet siste 7 dager" in page
    assert "Viser 2 av 3, de sist avsluttede først." in closed
    assert numbers[2] in closed and numbers[1] in closed and numbers[0] not in closed
    following = re.search(r'href="([^"]*avsluttet_etter=[^"#]*)#avsluttet" *>Neste side', closed.replace(' rel="next"', ""))
    assert following and "prosedyre=A" in following.group(1)  # the filters are kept
    second = client.get(following.group(1).replace("&amp;", "&")).text
    rest = second[second.index('id="avsluttet"'):]
    assert numbers[0] in rest and numbers[1] not in rest and "Neste side" not in rest and "Første side" in rest
    english = login(env.app, "rektor")
    english.set_cookie("lang", "en")
    assert "Showing 2 of 3, the most recently closed first." in english.get("/oversikt").text
    # A cursor that was not made by the page is refused in plain words, and nothing else breaks.
    refused = client.get("/oversikt?avsluttet_etter=tull")
    assert refused.status_code == 422 and paging.BAD_CURSOR in refused.text


def test_the_plan_chart_is_drawn_only_when_a_plan_was_made(env):
    rektor = login(env.app, "rektor")
    before = rektor.get("/oversikt").text
    planless = "Ingen tiltaksplaner er laget dette skoleåret ennå." in before
    assert planless == ('aria-labelledby="chart-plan-title"' not in before)  # the sentence or the chart
    case = _report(env)
    leader = env.demo.users["avdelingsleder"]
    complete_next(env.kap12, leader, case.id)  # received
    complete_next(env.kap12, leader, case.id, trygt_skolemiljo="nei")  # investigated
    plan_by = (env.kap12.clock.now() + timedelta(days=14)).date().isoformat()
    complete_next(env.kap12, leader, case.id, evalueringsdato=plan_by)  # the plan
    after = rektor.get("/oversikt").text
    assert 'aria-labelledby="chart-plan-title"' in after
    assert "Ingen tiltaksplaner er laget dette skoleåret ennå." not in after
