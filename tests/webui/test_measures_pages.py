"""Measures through HTTP: the plan's rows without JavaScript, a colleague picked as responsible
who records on «Mine tiltak» (and who else may not), "Gjennomføre tiltak" per measure, what the
evaluation shows, and «Evaluere nå» on the case page with its record on the timeline and in the
auditors' replay."""
from __future__ import annotations

import re
from datetime import timedelta

from engine.write import demo
from tests.support.web import csrf_of, login

MEASURE_FORM = re.compile(r'action="/tiltak/(\d+)"')


def _at_plan(env, reporter="ansatt2"):
    case = env.kap12.report(env.demo.users[reporter], env.nordli, demo.report_data())
    leader = env.demo.users["avdelingsleder"]
    demo.complete_next(env.kap12, leader, case.id)
    demo.complete_next(env.kap12, leader, case.id, trygt_skolemiljo="nei")
    [task] = env.kap12.case_tasks(case.id)
    assert task.form_key == "tiltaksplan"
    return case, task


def _plan_post(page_text, **rows):
    day = "2026-12-14"
    data = {"_csrf": csrf_of(page_text), "problem": "Utestengning", "evalueringsdato": day,
            "elevens_stemme": "Eleven vil ha en voksen i nærheten.",
            "elevens_beste": "Trygghet i friminuttene veier tyngst.", "foresatte_informert": "false"}
    data.update(rows)
    return data


def test_rows_without_javascript_post_back_and_keep_gaps(env):
    """The no-JS path: «+ Legg til rad» posts the form back with one more row; rows numbered
    with gaps (as JavaScript leaves them after removing one) are read in order."""
    case, task = _at_plan(env)
    client = login(env.app, "avdelingsleder")
    url = f"/oppgaver/{task.id}"
    page = client.get(url)
    assert 'data-rows="tiltak"' in page.text and 'src="/static/js/forms.js"' in page.text
    data = _plan_post(page.text, **{"tiltak-0-hva": "Voksen i friminutt", "tiltak-0-nar": "Fra uke 49",
                                    "tiltak-0-ansvarlig": "Kontaktlærer", "tiltak-4-hva": "Samtale hver uke",
                                    "tiltak-4-nar": "Fredager", "tiltak-4-ansvarlig": "Rådgiver", "_add_row": "tiltak"})
    more = client.post(url, data=data)
    assert more.status_code == 200 and "Skjemaet er ikke sendt" not in more.text
    assert 'name="tiltak-2-hva"' in more.text  # two filled rows, renumbered, and one blank
    assert more.text.index("Voksen i friminutt") < more.text.index("Samtale hver uke")
    data.pop("_add_row")
    assert client.post(url, data=data).status_code == 302
    saved = [e for e in env.kap12.case_history(case.id) if e.kind == "task_completed"][-1].data["data"]
    assert [r["hva"] for r in saved["tiltak"]] == ["Voksen i friminutt", "Samtale hver uke"]


def test_a_colleague_is_made_responsible_records_it_and_others_may_not(env):
    case, task = _at_plan(env)
    env.kap12.report(env.demo.users["ansatt"], env.nordli, demo.report_data(
        krenker_type="ansatt", anklaget_bruker="ansatt2", krenker_navn="Per"))  # Per is accused elsewhere only
    leader = login(env.app, "avdelingsleder")
    url = f"/oppgaver/{task.id}"
    page = leader.get(url)
    # The picker offers the school's staff: Kari at Nordli, not Ola at Sørbakken.
    assert '<select id="f-tiltak-0-ansvarlig_bruker" name="tiltak-0-ansvarlig_bruker"' in page.text
    assert "Kari Lærer (ansatt)" in page.text and "Ola Lærer" not in page.text
    # Someone from another school is refused plainly, and nothing is lost.
    data = _plan_post(page.text, **{"tiltak-0-hva": "Voksen i friminutt", "tiltak-0-nar": "Fra uke 49",
                                    "tiltak-0-ansvarlig_bruker": "ansatt3"})
    bad = leader.post(url, data=data)
    assert bad.status_code == 422 and "ikke ansatt ved skolen" in bad.text and "Voksen i friminutt" in bad.text
    data["tiltak-0-ansvarlig_bruker"] = "ansatt"
    assert leader.post(url, data=data).status_code == 302

    kari = login(env.app, "ansatt")
    assert "Du er ansvarlig for 1 tiltak" in kari.get("/oppgaver").text
    mine = kari.get("/tiltak")
    assert "Voksen i friminutt" in mine.text and case.number in mine.text
    assert "Du er ansvarlig for 1 tiltak i saker som er åpne." in mine.text and "Denne siden viser" not in mine.text
    assert f'href="/saker/{case.id}"' not in mine.text  # the measure, not the case
    assert kari.get(f"/saker/{case.id}").status_code == 404
    [measure_id] = MEASURE_FORM.findall(mine.text)
    wrong = kari.post(f"/tiltak/{measure_id}", data={"_csrf": csrf_of(mine.text), "status": "kanskje"})
    assert wrong.status_code == 422 and "Velg om tiltaket er gjennomført" in wrong.text
    done = kari.post(f"/tiltak/{measure_id}", data={"_csrf": csrf_of(mine.text), "status": "delvis",
                                                    "merknad": "Startet mandag."})
    assert done.status_code == 302
    assert "Delvis gjennomført" in kari.get("/tiltak").text

    # Nobody else records it, and nobody else sees it.
    for other in ("ansatt2", "ansatt3", "revisor"):
        client = login(env.app, other)
        listing = client.get("/tiltak")
        assert "Voksen i friminutt" not in listing.text
        refused = client.post(f"/tiltak/{measure_id}", data={"_csrf": csrf_of(listing.text), "status": "ikke"})
        assert refused.status_code == 404
    recorded = [e for e in env.kap12.case_history(case.id) if e.kind == "measure_recorded"]
    assert [(e.actor, e.data["status"]) for e in recorded] == [("Kari Lærer", "delvis")]

    # "Gjennomføre tiltak" opens with a row per measure and what Kari recorded.
    [carry] = env.kap12.case_tasks(case.id)
    page = leader.get(f"/oppgaver/{carry.id}")
    assert 'name="tiltak_status-0-tiltak" value="Voksen i friminutt"' in page.text
    assert 'name="tiltak_status-0-status" value="delvis" checked' in page.text
    assert "Startet mandag." in page.text
    posted = leader.post(f"/oppgaver/{carry.id}", data={
        "_csrf": csrf_of(page.text), "tiltak_status-0-tiltak": "Voksen i friminutt",
        "tiltak_status-0-status": "gjennomfort", "tiltak_status-0-merknad": "Hver dag fra uke 49."})
    assert posted.status_code == 302
    assert "Gjennomført" in kari.get("/tiltak").text  # the owner sees what the leader recorded


def test_evaluate_now_on_the_case_page_and_in_the_replay(env):
    case, task = _at_plan(env)
    leader = login(env.app, "avdelingsleder")
    page = leader.get(f"/oppgaver/{task.id}")
    data = _plan_post(page.text, **{"tiltak-0-hva": "Voksen i friminutt", "tiltak-0-nar": "Fra uke 49",
                                    "tiltak-0-ansvarlig": "Kontaktlærer"})
    assert leader.post(f"/oppgaver/{task.id}", data=data).status_code == 302
    case_page = leader.get(f"/saker/{case.id}")
    assert 'id="evaluer-na"' in case_page.text
    empty = leader.post(f"/saker/{case.id}/evaluer-na", data={"_csrf": csrf_of(case_page.text), "begrunnelse": " "})
    assert empty.status_code == 422 and "Skriv hva som har endret seg" in empty.text
    # Outside the case: it does not exist.
    other = login(env.app, "rektor2")
    assert other.post(f"/saker/{case.id}/evaluer-na", data={"_csrf": csrf_of(other.get("/oppgaver").text),
                                                            "begrunnelse": "Jeg vil."}).status_code == 404
    env.clock.advance(timedelta(days=2))
    done = leader.post(f"/saker/{case.id}/evaluer-na", data={"_csrf": csrf_of(case_page.text),
                                                             "begrunnelse": "Ny hendelse i kantina."})
    assert done.status_code == 302
    after = leader.get(f"/saker/{case.id}").text
    assert "Evaluerte nå, før evalueringsdatoen 14.12.2026. Begrunnelse: Ny hendelse i kantina." in after
    assert 'id="evaluer-na"' not in after  # the evaluation is open: nothing left to move forward
    [evaluation] = env.kap12.case_tasks(case.id)
    assert evaluation.title == "Evaluere tiltakene"
    evaluation_page = leader.get(f"/oppgaver/{evaluation.id}").text
    assert "Slik er tiltakene gjennomført" in evaluation_page and "Ikke registrert" in evaluation_page
    replay = login(env.app, "revisor").get(f"/revisjon/saker/{case.id}")
    assert replay.status_code == 200 and "Evaluerte nå" in replay.text and "Ny hendelse i kantina." in replay.text
    assert "Avvik" not in replay.text


def test_a_page_of_measures_says_how_many_there_are_in_all(env, monkeypatch):
    """Paged, «Mine tiltak» tells how many measures are the person's in all, and that the page
    shows some of them; every one is reached through «Neste side»."""
    from engine.read import paging

    _case, task = _at_plan(env)
    leader = login(env.app, "avdelingsleder")
    page = leader.get(f"/oppgaver/{task.id}")
    rows = {f"tiltak-{i}-{k}": v for i, what in enumerate(("Fast plass i kantina", "Samtale hver fredag"))
            for k, v in (("hva", what), ("nar", "Fra uke 50"), ("ansvarlig_bruker", "ansatt"))}
    assert leader.post(f"/oppgaver/{task.id}", data=_plan_post(page.text, **rows)).status_code == 302
    monkeypatch.setattr(paging, "DEFAULT_LIMIT", 1)
    kari = login(env.app, "ansatt")
    first = kari.get("/tiltak").text
    shown = re.search(r"Du er ansvarlig for (\d+) tiltak i saker som er åpne\.", first)
    assert shown and int(shown[1]) >= 2 and "Denne siden viser 1 av dem." in first
    url, seen = "/tiltak", []
    while url:  # every one of them, a page at a time
        text = kari.get(url).text
        seen += re.findall(r'action="/tiltak/(\d+)[?"]', text)  # on a later page, with its cursor
        more = re.search(r'rel="next" href="([^"]+)"', text)
        url = more[1].replace("&amp;", "&") if more else None
    assert len(seen) == len(set(seen)) == int(shown[1])
