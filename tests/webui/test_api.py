"""The JSON API (/api/v1) through Flask's client: every endpoint's happy path and denials, the
access matrix (the accused gets 404 and is absent from every list and count), personal tokens,
session + CSRF, problem details, and an OpenAPI document that is valid and matches the routes
and the responses."""
from __future__ import annotations

import hashlib
import io

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from engine.audit.replay import verify_case
from engine.config import PROJECT_ROOT
from engine.store import directory
from engine.store.models import ApiToken, Case, HistoryEvent, User
from engine.versions.example_data import example_data
from engine.write import demo
from processes import forms
from tests.support.web import csrf_of, login

from .test_access import MATRIX, SECRET, USERS

PROBLEM = "application/problem+json"


# -- helpers -----------------------------------------------------------------------------------
def make_token(env, username: str) -> str:
    with env.kap12.db.writing() as session:
        user = session.get(User, env.demo.users[username].id)
        return directory.create_api_token(session, user, "test", env.kap12.clock.now())[1]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def doc(env):
    response = env.app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def conforms(doc, path: str, method: str, response) -> None:
    """The response body fits the schema the document gives for its status code."""
    operation = doc["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code)) or operation["responses"]["default"]
    content = documented["content"]
    assert response.mimetype in content, (response.status_code, response.mimetype, list(content))
    schema = {**content[response.mimetype]["schema"], "components": doc["components"]}
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(response.json)


def assert_problem(response, status: int, *, errors: tuple[str, ...] = ()) -> dict:
    assert response.status_code == status, response.text
    assert response.mimetype == PROBLEM
    body = response.json
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert isinstance(body["title"], str) and body["title"] and isinstance(body["detail"], str)
    for name in errors:
        assert name in body["errors"], body
    return body


@pytest.fixture(scope="module")
def tokens(env):
    return {u: make_token(env, u) for u in USERS}


@pytest.fixture(scope="module")
def api(env, tokens):
    """username -> a client function (method, url, **kwargs) with that user's token."""
    client = env.app.test_client()

    def for_user(username):
        def call(method, url, **kwargs):
            headers = {**bearer(tokens[username]), **kwargs.pop("headers", {})}
            return client.open(url, method=method, headers=headers, **kwargs)
        return call
    return {u: for_user(u) for u in USERS}


def report_body(env, **overrides) -> dict:
    data = {k: v for k, v in demo.report_data(kjent_dato="2026-11-30").items()}
    return {**data, "school_id": env.nordli, **overrides}


@pytest.fixture(scope="module")
def cases(env, api):
    """A, B (ansatt2 accused) and C (avdelingsleder accused), reported by ansatt through the API."""
    made = {}
    for procedure, extra in (("A", {}), ("B", {"krenker_type": "ansatt", "anklaget_bruker": "ansatt2"}),
                             ("C", {"krenker_type": "ledelse", "anklaget_bruker": "avdelingsleder"})):
        response = api["ansatt"]("POST", "/api/v1/cases", json=report_body(env, hva_skjedde=SECRET[procedure], **extra))
        assert response.status_code == 201, response.text
        case_id = response.json["id"]
        made[procedure] = (response.json, env.kap12.case_tasks(case_id)[0])
    return made


# -- the document --------------------------------------------------------------------------------
def test_openapi_is_valid_and_lists_every_route(env, doc):
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.1")
    served = set()
    for rule in env.app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(next(p for p in path.split("/") if name in p), "{" + name + "}")
            served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented
    assert len(served) >= 11
    for path, method in documented:
        responses = doc["paths"][path][method]["responses"]
        assert all("application/problem+json" in r["content"] for code, r in responses.items()
                   if code == "default" or code >= "400")


def test_openapi_needs_no_log_in_and_pages_keep_their_html_errors(env):
    client = env.app.test_client()
    assert client.get("/api/v1/openapi.json").status_code == 200
    page = client.get("/finnes-ikke")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.post("/oppgaver/x/ta").status_code == 400  # pages still need their CSRF token


# -- authentication ------------------------------------------------------------------------------
def test_no_credentials_is_401_problem(env):
    client = env.app.test_client()
    for method, url in (("GET", "/api/v1/cases"), ("GET", "/api/v1/tasks"), ("POST", "/api/v1/cases"),
                        ("GET", "/api/v1/me"), ("POST", "/api/v1/definitions")):
        response = client.open(url, method=method)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_401_even_with_a_session(env):
    client = login(env.app, "rektor")
    assert client.get("/api/v1/me").json["auth"] == "session"
    for header in ("Bearer k12_nope", "Bearer ", "Basic cmVrdG9yOmRlbW8xMjM0", "Bearer " + "x" * 5000):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert_problem(response, 401)


def test_token_made_on_the_profile_page_works_once_shown_and_is_revocable(env):
    client = login(env.app, "ansatt2")
    page = client.get("/profil")
    assert page.status_code == 200 and "API-nøkler" in page.text and 'href="/profil"' in page.text
    blank = client.post("/profil/api-nokler", data={"_csrf": csrf_of(page.text), "name": "  "})
    assert blank.status_code == 422 and "Skriv hva nøkkelen skal brukes til." in blank.text
    made = client.post("/profil/api-nokler", data={"_csrf": csrf_of(page.text), "name": "Rapportverktøy"})
    assert made.status_code == 200
    token = made.text.split('id="ny-nokkel" readonly value="')[1].split('"')[0]
    assert token.startswith("k12_") and len(token) > 40
    assert made.headers["Cache-Control"] == "no-store"
    again = client.get("/profil")
    assert token not in again.text and "Rapportverktøy" in again.text and "I bruk" in again.text
    with env.kap12.db.reading() as session:  # only the hash is stored
        row = session.scalars(select(ApiToken).where(ApiToken.name == "Rapportverktøy")).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash

    anonymous = env.app.test_client()
    me = anonymous.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json["name"] == "Per Faglærer" and me.json["auth"] == "token"
    assert "csrf_token" not in me.json
    with env.kap12.db.reading() as session:
        assert session.get(ApiToken, row.id).last_used_at is not None

    # Someone else cannot revoke it; its owner can, and then it is refused.
    other = login(env.app, "ansatt")
    stranger = other.post(f"/profil/api-nokler/{row.id}/trekk-tilbake", data={"_csrf": csrf_of(other.get("/profil").text)})
    assert stranger.status_code == 302 and anonymous.get("/api/v1/me", headers=bearer(token)).status_code == 200
    revoked = client.post(f"/profil/api-nokler/{row.id}/trekk-tilbake", data={"_csrf": csrf_of(again.text)})
    assert revoked.status_code == 302
    assert "Trukket tilbake" in client.get("/profil").text
    assert_problem(anonymous.get("/api/v1/me", headers=bearer(token)), 401)


def test_session_reads_freely_and_writes_with_the_csrf_header(env):
    client = login(env.app, "ansatt")
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json["auth"] == "session" and me.json["csrf_token"]
    body = report_body(env, hva_skjedde="Via økten")
    refused = client.post("/api/v1/cases", json=body)
    assert assert_problem(refused, 403)["type"] == "urn:kap12:problem:csrf"
    wrong = client.post("/api/v1/cases", json=body, headers={"X-CSRF-Token": "feil"})
    assert_problem(wrong, 403)
    done = client.post("/api/v1/cases", json=body, headers={"X-CSRF-Token": me.json["csrf_token"]})
    assert done.status_code == 201
    # The same token the pages use.
    assert me.json["csrf_token"] == csrf_of(client.get("/oppgaver").text)


def test_token_writes_need_no_csrf(env, api):
    response = api["ansatt"]("POST", "/api/v1/cases", json=report_body(env, hva_skjedde="Via nøkkel"))
    assert response.status_code == 201


# -- cases -----------------------------------------------------------------------------------------
def test_report_creates_a_case_and_answers_with_its_status(env, api, doc):
    response = api["ansatt"]("POST", "/api/v1/cases", json=report_body(env))
    assert response.status_code == 201
    conforms(doc, "/api/v1/cases", "post", response)
    body = response.json
    assert body["access"] == "status" and body["number"].startswith("2026-") and body["status"] == "open"
    assert response.headers["Location"] == f"/api/v1/cases/{body['id']}"
    assert "hva_skjedde" not in body and "procedure" not in body


def test_the_receipt_is_read_in_the_report_step_and_the_history_still_replays(env, api):
    """The API's answer to a report is a read of the case like any other, recorded in the
    report's own step after what the engine did there — and re-execution passes over it."""
    body = api["ansatt"]("POST", "/api/v1/cases", json=report_body(env)).json
    assert body["handled"] is True  # the routing opened the leaders' first task
    events = env.kap12.case_history(body["id"])
    assert events[0].kind == "reported" and "task_opened" in [ev.kind for ev in events]
    read = events[-1]
    assert read.kind == "case_read" and read.data == {"view": "api_receipt"}
    assert read.actor_id == events[0].actor_id and read.at == events[0].at  # the reporter, in the step
    assert all(result.ok for result in env.kap12.verify([body["id"]]))
    assert verify_case(env.kap12, body["id"]).verified


def test_report_field_errors(env, api):
    call = api["ansatt"]
    cases_before = _case_count(env)
    missing = call("POST", "/api/v1/cases", json={"school_id": env.nordli})
    body = assert_problem(missing, 400, errors=("berorte_elever", "hva_skjedde", "krenker_type"))
    assert body["type"] == "urn:kap12:problem:validation"
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, school_id="1")), 400, errors=("school_id",))
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, school_id=True)), 400, errors=("school_id",))
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, school_id=999999)), 400, errors=("school_id",))
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, ukjent="x")), 400, errors=("ukjent",))
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, krenker_type="lærer")), 400,
                   errors=("krenker_type",))
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, kjent_dato="30.11.2026")), 400,
                   errors=("kjent_dato",))
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, anklaget_bruker="ingen-slik")), 400,
                   errors=("anklaget_bruker",))
    # A wrong school and wrong fields are named together, as one form's errors.
    both = assert_problem(call("POST", "/api/v1/cases", json=report_body(env, school_id="1", ukjent="x",
                                                                          krenker_type="lærer")), 400,
                          errors=("school_id", "ukjent", "krenker_type"))
    assert both["type"] == "urn:kap12:problem:validation"
    assert _case_count(env) == cases_before  # nothing refused was kept
    # Reporting for a school where one does not work is refused.
    other = env.demo.schools["Sørbakken videregående skole"]
    assert_problem(call("POST", "/api/v1/cases", json=report_body(env, school_id=other)), 403)


def _case_count(env) -> int:
    with env.kap12.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize("procedure", ["A", "B", "C"])
@pytest.mark.parametrize("user", USERS)
def test_access_matrix(env, cases, api, doc, procedure, user):
    created, task = cases[procedure]
    expected_case, expected_task, in_cases, in_tasks = MATRIX[procedure][user]
    call = api[user]
    case_id = created["id"]

    shown = call("GET", f"/api/v1/cases/{case_id}")
    history = call("GET", f"/api/v1/cases/{case_id}/history")
    if expected_case == 404:
        assert_problem(shown, 404)
        assert_problem(history, 404)
        assert created["number"] not in shown.text and SECRET[procedure] not in history.text
    else:
        assert shown.status_code == 200 and shown.json["access"] == expected_case
        conforms(doc, "/api/v1/cases/{case_id}", "get", shown)
        assert (SECRET[procedure] in shown.text) == (expected_case == "full")
        if expected_case == "full":
            assert history.status_code == 200 and SECRET[procedure] in history.text
            conforms(doc, "/api/v1/cases/{case_id}/history", "get", history)
        else:
            assert_problem(history, 403)
            assert SECRET[procedure] not in history.text

    task_page = call("GET", f"/api/v1/tasks/{task.id}")
    if expected_task == 404:
        assert_problem(task_page, 404)
    else:
        assert task_page.status_code == 200 and task_page.json["workable"] == (expected_task == "work")
        conforms(doc, "/api/v1/tasks/{task_id}", "get", task_page)

    listing = call("GET", "/api/v1/cases?status=all")
    assert listing.status_code == 200
    conforms(doc, "/api/v1/cases", "get", listing)
    assert (case_id in {c["id"] for c in listing.json["items"]}) == in_cases
    searched = call("GET", f"/api/v1/cases?q={created['number']}")
    assert len(searched.json["items"]) == (1 if in_cases else 0)
    tasks = call("GET", "/api/v1/tasks")
    conforms(doc, "/api/v1/tasks", "get", tasks)
    assert (task.id in {t["id"] for t in tasks.json["items"]}) == in_tasks


def test_the_accused_cannot_touch_the_task_either(env, cases, api):
    for procedure, accused in (("B", "ansatt2"), ("C", "avdelingsleder")):
        created, task = cases[procedure]
        call = api[accused]
        assert created["id"] not in {c["id"] for c in call("GET", "/api/v1/cases").json["items"]}
        for url, kwargs in ((f"/api/v1/tasks/{task.id}/claim", {}), (f"/api/v1/tasks/{task.id}/release", {}),
                            (f"/api/v1/tasks/{task.id}/complete", {"json": {"mottatt_vurdering": "x"}})):
            response = call("POST", url, **kwargs)
            assert_problem(response, 404)
            assert created["number"] not in response.text


def test_every_read_is_recorded(env, cases, api):
    created, _task = cases["A"]
    before = len(env.kap12.case_history(created["id"]))
    assert api["rektor"]("GET", f"/api/v1/cases/{created['id']}").status_code == 200
    events = env.kap12.case_history(created["id"])
    assert len(events) == before + 1
    assert events[-1].kind == "case_read" and events[-1].data == {"view": "api"} and events[-1].actor == "Rune Rektor"
    history = api["rektor"]("GET", f"/api/v1/cases/{created['id']}/history").json
    assert history["reads"] >= 2 and any(ev["kind"] == "case_read" for ev in history["events"])


def _history_pages(api, user: str, case_id: int, limit: int, doc) -> tuple[list[dict], list[int]]:
    """Every page of a case's history followed by ``next_cursor``: the events, and each page's
    count of reads."""
    events, reads, cursor = [], [], None
    for _ in range(200):
        response = api[user]("GET", f"/api/v1/cases/{case_id}/history?limit={limit}"
                                    + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.text
        conforms(doc, "/api/v1/cases/{case_id}/history", "get", response)
        assert len(response.json["events"]) <= limit and response.json["limit"] == limit
        events += response.json["events"]
        reads.append(response.json["reads"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return events, reads
    raise AssertionError("the pages never ended")


def test_a_case_history_followed_page_by_page_is_the_history_once(env, cases, api, doc):
    """Each page is a read, an event more: the pages end at the event of the first page's own
    read (a reader of the read log taking one event a page never reached the end), with every
    event before it once, in order, and the reads counted as they grow."""
    created, _task = cases["A"]
    case_id = created["id"]
    for user in ("rektor", "revisor"):
        before = env.kap12.case_history(case_id)
        events, reads = _history_pages(api, user, case_id, 1, doc)
        stored = env.kap12.case_history(case_id)
        head = len(before) + 1  # the first page's own read
        assert [e["seq"] for e in events] == [e.seq for e in stored[:head]] == list(range(1, head + 1))
        assert [e["hash"] for e in events] == [e.hash for e in stored[:head]]
        assert events[-1]["kind"] == "case_read" and events[-1]["data"] == {"view": "api_history"}
        assert len(stored) == head + len(reads) - 1  # every page recorded its read
        assert reads == list(range(reads[0], reads[0] + len(reads)))  # each page counts the reads so far
    whole, _ = _history_pages(api, "rektor", case_id, 500, doc)
    paged, _ = _history_pages(api, "rektor", case_id, 3, doc)
    assert [e["seq"] for e in paged] == [e["seq"] for e in whole] + [whole[-1]["seq"] + 1]
    response = api["rektor"]("GET", f"/api/v1/cases/{case_id}/history?cursor=WzFd")  # [1]: one key of two
    assert_problem(response, 400, errors=("cursor",))
    response = api["rektor"]("GET", f"/api/v1/cases/{case_id}/history?limit=0")
    assert_problem(response, 400, errors=("limit",))


def test_a_history_without_the_read_log_is_paged_past_the_reads(env, cases):
    """One who sees a count of reads, not who read (``sees_read_log``), pages through the rest."""
    created, _task = cases["A"]
    case = env.kap12.case(env.demo.users["rektor"], created["id"])[0]
    shown, cursor = [], None
    while True:
        page, reads = env.kap12.case_history_page(case, reads=False, cursor=cursor, limit=2)
        assert len(page.items) <= 2
        shown += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [e.seq for e in shown] == [e.seq for e in env.kap12.case_history(case.id, reads=False)]
    assert reads == len([e for e in env.kap12.case_history(case.id) if e.kind == "case_read"]) > 0


def test_case_list_filters_and_query_errors(env, cases, api, doc):
    call = api["rektor"]
    open_a = call("GET", "/api/v1/cases?status=open&procedure=A&limit=1")
    assert open_a.status_code == 200 and open_a.json["limit"] == 1 and len(open_a.json["items"]) == 1
    assert all(c["procedure"] == "A" for c in open_a.json["items"])
    school = call("GET", "/api/v1/cases?school=Sørbakken videregående skole")
    assert school.json["items"] == [] and school.json["next_cursor"] is None
    for query, field in (("status=alle", "status"), ("procedure=D", "procedure"), ("limit=0", "limit"),
                         ("limit=abc", "limit"), ("offset=0", "offset"), ("ukjent=1", "ukjent"),
                         ("cursor=ikke-en-peker", "cursor"), ("cursor=WzEsMl0", "cursor"),
                         ("status=open&status=closed", "status"), ("q=a%00b", "q")):
        response = call("GET", f"/api/v1/cases?{query}")
        assert_problem(response, 400, errors=(field,))
        conforms(doc, "/api/v1/cases", "get", response)


def test_a_reporters_case_list_followed_page_by_page_is_what_she_sees(env, cases, api, doc):
    """The teacher reported the cases: her list is read in parts (what she reported, in the order
    the database keeps it), and a client that follows ``next_cursor`` one case at a time gets
    every case she sees once, newest first — and the accused none of the case she is accused in."""
    for user in ("ansatt", "ansatt2", "rektor"):
        for status in ("all", "open"):
            shown, cursor = [], None
            while True:
                response = api[user]("GET", f"/api/v1/cases?status={status}&limit=1"
                                            + (f"&cursor={cursor}" if cursor else ""))
                assert response.status_code == 200, response.text
                conforms(doc, "/api/v1/cases", "get", response)
                shown += [c["id"] for c in response.json["items"]]
                cursor = response.json["next_cursor"]
                if cursor is None:
                    break
            seen = env.kap12.cases_for(env.demo.users[user], None if status == "all" else status)
            assert shown == [c.id for c in seen], (user, status)
    assert {cases[p][0]["id"] for p in "ABC"} <= set(_shown_by(api, "ansatt"))
    assert cases["B"][0]["id"] not in _shown_by(api, "ansatt2")


def _shown_by(api, user: str) -> list[int]:
    return [c["id"] for c in api[user]("GET", "/api/v1/cases?status=all&limit=500").json["items"]]


# -- tasks -------------------------------------------------------------------------------------------
def test_claim_release_complete_and_409_when_done(env, api, doc):
    created = api["ansatt"]("POST", "/api/v1/cases", json=report_body(env, hva_skjedde="Oppgaveflyt")).json
    task = env.kap12.case_tasks(created["id"])[0]
    url = f"/api/v1/tasks/{task.id}"

    detail = api["rektor"]("GET", url).json
    assert detail["form"]["key"] == task.form_key and detail["workable"] and not detail["mine"]
    # Whom the task is open to, the same in the task, the list and what follows an action.
    roles = sorted(r.role for r in task.roles)
    assert roles == ["avdelingsleder", "rektor"] and detail["roles"] == roles
    assert {t["id"]: t["roles"] for t in api["rektor"]("GET", "/api/v1/tasks").json["items"]}[task.id] == roles
    claimed = api["rektor"]("POST", f"{url}/claim")
    assert claimed.status_code == 200 and claimed.json["next_tasks"][0]["mine"]
    assert claimed.json["next_tasks"][0]["roles"] == roles
    conforms(doc, "/api/v1/tasks/{task_id}/claim", "post", claimed)
    taken = api["avdelingsleder"]("POST", f"{url}/claim")
    assert "Rune Rektor" in assert_problem(taken, 409)["detail"]
    released = api["rektor"]("POST", f"{url}/release", json={})
    assert released.status_code == 200 and not released.json["next_tasks"][0]["mine"]
    assert_problem(api["rektor"]("POST", f"{url}/release", json={"extra": 1}), 400, errors=("extra",))

    invalid = api["avdelingsleder"]("POST", f"{url}/complete", json={"ukjent": "x"})
    assert_problem(invalid, 400, errors=("ukjent", "mottatt_vurdering"))
    assert env.kap12.case_tasks(created["id"])[0].id == task.id  # nothing changed
    data = example_data(forms.get_form(task.form_key), env.kap12.clock.now().date())
    done = api["avdelingsleder"]("POST", f"{url}/complete", json=data)
    assert done.status_code == 200 and done.json["case"]["id"] == created["id"]
    conforms(doc, "/api/v1/tasks/{task_id}/complete", "post", done)
    assert all(t["id"] != task.id for t in done.json["next_tasks"])

    again = api["rektor"]("POST", f"{url}/complete", json=data)
    body = assert_problem(again, 409)
    assert body["type"] == "urn:kap12:problem:conflict" and "Anne Avdelingsleder" in body["detail"]
    conforms(doc, "/api/v1/tasks/{task_id}/complete", "post", again)
    assert_problem(api["rektor"]("GET", url), 410)
    # Someone who never saw the case learns nothing: 404, not 409.
    assert_problem(api["rektor2"]("POST", f"{url}/complete", json=data), 404)
    assert_problem(api["rektor"]("GET", "/api/v1/tasks/not-a-task"), 404)


def test_auditor_reads_and_every_write_is_refused(env, cases, api):
    call = api["revisor"]
    created, task = cases["A"]
    assert call("GET", f"/api/v1/cases/{created['id']}").json["access"] == "full"
    writes = [("POST", f"/api/v1/tasks/{task.id}/claim", {}), ("POST", f"/api/v1/tasks/{task.id}/release", {}),
              ("POST", f"/api/v1/tasks/{task.id}/complete", {"json": {"mottatt_vurdering": "x"}}),
              ("POST", "/api/v1/cases", {"json": report_body(env)}),
              ("POST", "/api/v1/definitions", {"data": {"comment": "x"}})]
    for method, url, kwargs in writes:
        assert assert_problem(call(method, url, **kwargs), 403)["type"] == "urn:kap12:problem:read-only"
    assert env.kap12.case_tasks(created["id"])[0].assignee_id is None


# -- definitions --------------------------------------------------------------------------------------
def _bpmn(name="kap12_sak.bpmn"):
    path = PROJECT_ROOT / "bpmn" / name
    return path.read_bytes(), path.name


def test_definitions_list_and_deploy(env, api, doc):
    listing = api["ansatt"]("GET", "/api/v1/definitions")
    assert listing.status_code == 200 and listing.json["count"] >= 1
    conforms(doc, "/api/v1/definitions", "get", listing)
    assert any(d["process_id"] == "kap12_sak" and d["latest"] for d in listing.json["items"])

    content, name = _bpmn()
    upload = lambda: {"comment": "Samme igjen", "files": [(io.BytesIO(content), name)]}  # noqa: E731
    assert_problem(api["ansatt"]("POST", "/api/v1/definitions", data=upload()), 403)
    assert_problem(api["skoleeier"]("POST", "/api/v1/definitions", data=upload()), 403)
    same = api["prosesseier"]("POST", "/api/v1/definitions", data=upload())
    assert same.status_code == 200 and same.json["results"][0]["created"] is False
    conforms(doc, "/api/v1/definitions", "post", same)

    changed = content.replace(b'name="Kapittel 12-sak"', b'name="Kapittel 12-sak (ny)"', 1)
    assert changed != content
    new = api["admin"]("POST", "/api/v1/definitions",
                       data={"comment": "Nytt navn", "files": [(io.BytesIO(changed), name)]})
    assert new.status_code == 201 and new.json["results"][0]["created"] is True
    conforms(doc, "/api/v1/definitions", "post", new)
    latest = [d for d in api["ansatt"]("GET", "/api/v1/definitions").json["items"]
              if d["process_id"] == "kap12_sak" and d["latest"]][0]
    assert latest["comment"] == "Nytt navn" and latest["deployed_by"] == "Arne Administrator"
    with env.kap12.db.reading() as session:
        assert session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "deployed")
                               .order_by(HistoryEvent.id.desc())).first().data["comment"] == "Nytt navn"


def test_deploy_errors(env, api):
    call = api["prosesseier"]
    content, name = _bpmn()
    assert_problem(call("POST", "/api/v1/definitions", data={"files": [(io.BytesIO(content), name)]}), 400,
                   errors=("comment",))
    assert_problem(call("POST", "/api/v1/definitions", data={"comment": "   ",
                                                             "files": [(io.BytesIO(content), name)]}), 400,
                   errors=("comment",))
    assert_problem(call("POST", "/api/v1/definitions", data={"comment": "x"}, content_type="multipart/form-data"),
                   400, errors=("files",))
    assert_problem(call("POST", "/api/v1/definitions", data={"comment": "x", "files": [(io.BytesIO(content), "a.xml")]}),
                   400, errors=("files",))
    broken = call("POST", "/api/v1/definitions", data={"comment": "x", "files": [(io.BytesIO(b"<nei"), "a.bpmn")]})
    assert "a.bpmn" in assert_problem(broken, 400, errors=("files",))["errors"]["files"][0]
    assert_problem(call("POST", "/api/v1/definitions", json={"comment": "x"}), 415)


# -- problems for bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, content_type, status", [
    (b"{", "application/json", 400),
    (b"\xff\xfe{}", "application/json", 400),
    (b"[]", "application/json", 400),
    (b'"text"', "application/json", 400),
    (b'{"school_id": 1' + b"0" * 5000 + b"}", "application/json", 400),
    (b'{"school_id": 1e999}', "application/json", 400),
    (b'{"school_id": NaN}', "application/json", 400),
    (b'{"school_id": 9007199254740993}', "application/json", 400),
    (b'{"berorte_elever": "a\\u0000b"}', "application/json", 400),
    (b'{"berorte_elever": "\\ud800"}', "application/json", 400),
    (b"[" * 100000 + b"]" * 100000, "application/json", 400),
    (b"school_id=1", "application/x-www-form-urlencoded", 415),
    (b"{}", "text/plain", 415),
    (b"x" * (3 * 1024 * 1024), "application/json", 413),
])
def test_bad_bodies_are_problems(env, api, raw, content_type, status):
    assert_problem(api["ansatt"]("POST", "/api/v1/cases", data=raw, content_type=content_type), status)


def test_unknown_paths_and_methods_are_problems(env, api):
    assert_problem(api["ansatt"]("GET", "/api/v1/finnes-ikke"), 404)
    assert_problem(api["ansatt"]("GET", "/api/v1/cases/99999999999999999999"), 404)
    assert_problem(api["ansatt"]("GET", "/api/v1/cases/0"), 404)
    wrong = api["ansatt"]("DELETE", "/api/v1/cases")
    assert_problem(wrong, 405)
    assert set(wrong.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert_problem(env.app.test_client().put("/api/v1/tasks"), 405)
