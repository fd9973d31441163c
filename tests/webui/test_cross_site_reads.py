"""Reads recorded only when the page was had. A case opened from another site asks first
(webui/security.py): the session cookie is
SameSite=Lax, so a link elsewhere opens kap12's pages in a leader's session, and a page that
records a read would record one in their name. Every page that can be reached by a link is
tried from another site, and none records a read; followed from kap12's own page, the read is
recorded as always."""
from __future__ import annotations

import re

from engine.outputs import documents
from engine.write.demo import report_data
from tests.support.web import login

ELSEWHERE = {"Sec-Fetch-Site": "cross-site"}


def _reads(env, case_id: int) -> int:
    return env.kap12.case_reads(case_id, 1)[0]


def _links(app, case_id: int, task_id: str, document_id: int) -> list[str]:
    """Every page a link can open (GET, not the API or static files), with this case's ids."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static")):
            continue
        url = rule.rule
        for name in rule.arguments:
            value = {"case_id": case_id, "task_id": task_id, "document_id": document_id}.get(name)
            if value is None:
                break
            url = re.sub(rf"<(?:\w+:)?{name}>", str(value), url)
        else:
            found.append(url)
    return found


def test_no_page_opened_from_another_site_records_a_read(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    task = next(t for t in env.kap12.tasks_for(env.demo.users["rektor"]) if t.case_id == case.id)
    document = documents.ensure_documents(env.kap12, case.id)[0]
    links = _links(env.app, case.id, task.id, document.id)
    assert {f"/saker/{case.id}", f"/oppgaver/{task.id}", f"/revisjon/saker/{case.id}",
            f"/saker/{case.id}/diagram.json", f"/melding/{case.id}/kvittering",
            f"/revisjon/saker/{case.id}/eksport.pdf", f"/dokumenter/{case.id}/{document.id}.pdf"} <= set(links)
    before = _reads(env, case.id)
    for who in ("rektor", "revisor", "ansatt"):
        client = login(env.app, who)
        for url in links:
            client.get(url, headers=ELSEWHERE)
    assert _reads(env, case.id) == before


def test_the_page_asks_and_the_read_follows_from_kap12s_own_link(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    rektor = login(env.app, "rektor")
    before = _reads(env, case.id)
    asked = rektor.get(f"/saker/{case.id}?historikk=alle", headers=ELSEWHERE)
    assert asked.status_code == 200 and "Åpne saken?" in asked.text
    assert f'href="/saker/{case.id}?historikk=alle"' in asked.text and case.number not in asked.text
    assert _reads(env, case.id) == before
    opened = rektor.get(f"/saker/{case.id}?historikk=alle", headers={"Sec-Fetch-Site": "same-origin"})
    assert case.number in opened.text and _reads(env, case.id) == before + 1
    # A mail program's link, a bookmark or a typed address: no site, opened at once.
    for site in ({"Sec-Fetch-Site": "none"}, {}):
        assert case.number in rektor.get(f"/saker/{case.id}", headers=site).text
    assert _reads(env, case.id) == before + 3


def test_a_stranger_from_another_site_learns_nothing_either(env):
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    outsider = env.app.test_client()
    assert outsider.get(f"/saker/{case.id}", headers=ELSEWHERE).status_code == 302  # to the log-in


def test_a_refused_export_or_document_records_no_read(env):
    """The reporter sees where their case stands, not the investigation: asking for the export or
    a document is refused, and the read log does not say they had it."""
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    document = documents.ensure_documents(env.kap12, case.id)[0]
    reporter = login(env.app, "ansatt")
    before = _reads(env, case.id)
    assert reporter.get(f"/revisjon/saker/{case.id}/eksport.json").status_code == 403
    assert reporter.get(f"/dokumenter/{case.id}/{document.id}.pdf").status_code == 404
    assert _reads(env, case.id) == before
    assert login(env.app, "rektor").get(f"/dokumenter/{case.id}/{document.id}.pdf").status_code == 200
    assert _reads(env, case.id) == before + 1


def test_the_api_with_the_session_refuses_another_sites_reads_and_records_none(env):
    """The API has no page to ask on: a read with the session that another site sent (a link,
    an image, a sibling subdomain) is refused, and nothing is recorded in the leader's name. With
    an API key, or from kap12's own pages, or typed in, it reads as always."""
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    task = next(t for t in env.kap12.tasks_for(env.demo.users["rektor"]) if t.case_id == case.id)
    rektor = login(env.app, "rektor")
    urls = [f"/api/v1/cases/{case.id}", f"/api/v1/cases/{case.id}/history", f"/api/v1/cases/{case.id}/grants",
            f"/api/v1/tasks/{task.id}", "/api/v1/cases", "/api/v1/tasks"]
    before = _reads(env, case.id)
    for site in ("cross-site", "same-site"):
        for url in urls:
            refused = rektor.get(url, headers={"Sec-Fetch-Site": site})
            assert refused.status_code == 403, (url, site)
            assert refused.json["type"] == "urn:kap12:problem:from-another-site"
    assert _reads(env, case.id) == before
    for site in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {}):
        assert rektor.get(f"/api/v1/cases/{case.id}", headers=site).status_code == 200
    assert _reads(env, case.id) == before + 3


def test_a_refused_api_history_or_grants_records_no_read(env):
    """The reporter sees where their case stands: asking the API for its history or its grants
    is refused, and the read log does not say they had them."""
    case = env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data())
    reporter = login(env.app, "ansatt")
    before = _reads(env, case.id)
    for url in (f"/api/v1/cases/{case.id}/history", f"/api/v1/cases/{case.id}/grants"):
        assert reporter.get(url).status_code == 403
    assert _reads(env, case.id) == before
    assert login(env.app, "rektor").get(f"/api/v1/cases/{case.id}/history").status_code == 200
    assert _reads(env, case.id) == before + 1
