"""The access matrix: every demo user against the case page, the task page, the case list and
the task list, for a case of each procedure. The accused sees nothing at all; the reporter sees
where the case stands; the auditor reads and changes nothing."""
from __future__ import annotations

import pytest

from engine.write import demo
from tests.support.web import csrf_of, login

USERS = ["ansatt", "ansatt2", "avdelingsleder", "rektor", "rektor2", "ansatt3", "skoleeier", "prosesseier",
         "revisor", "admin"]

# case -> user -> (case page, task page, listed in Saker, listed in Mine oppgaver)
#   case page: "full" | "status" | 404; task page: "work" | "read" | 404
MATRIX = {
    "A": {"ansatt": ("status", 404, True, False), "ansatt2": (404, 404, False, False),
          "avdelingsleder": ("full", "work", True, True), "rektor": ("full", "work", True, True),
          "rektor2": (404, 404, False, False), "ansatt3": (404, 404, False, False),
          "skoleeier": (404, 404, False, False), "prosesseier": (404, 404, False, False),
          "revisor": ("full", "read", True, False), "admin": (404, 404, False, False)},
    # B: ansatt2 is accused; rektor receives it; the school owner is notified; the department
    # head sees nothing without a grant from rektor.
    "B": {"ansatt": ("status", 404, True, False), "ansatt2": (404, 404, False, False),
          "avdelingsleder": (404, 404, False, False), "rektor": ("full", "work", True, True),
          "rektor2": (404, 404, False, False), "ansatt3": (404, 404, False, False),
          "skoleeier": ("full", "read", True, False), "prosesseier": (404, 404, False, False),
          "revisor": ("full", "read", True, False), "admin": (404, 404, False, False)},
    # C: the department head is accused; the school's leadership is bypassed.
    "C": {"ansatt": ("status", 404, True, False), "ansatt2": (404, 404, False, False),
          "avdelingsleder": (404, 404, False, False), "rektor": (404, 404, False, False),
          "rektor2": (404, 404, False, False), "ansatt3": (404, 404, False, False),
          "skoleeier": ("full", "work", True, True), "prosesseier": (404, 404, False, False),
          "revisor": ("full", "read", True, False), "admin": (404, 404, False, False)},
}
SECRET = {"A": "Hemmelig A-detalj", "B": "Hemmelig B-detalj", "C": "Hemmelig C-detalj"}


@pytest.fixture(scope="module")
def cases(env):
    reporter = env.demo.users["ansatt"]
    made = {
        "A": env.kap12.report(reporter, env.nordli, demo.report_data(hva_skjedde=SECRET["A"])),
        "B": env.kap12.report(reporter, env.nordli, demo.report_data(
            hva_skjedde=SECRET["B"], krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2")),
        "C": env.kap12.report(reporter, env.nordli, demo.report_data(
            hva_skjedde=SECRET["C"], krenker_type="ledelse", anklaget_bruker="avdelingsleder")),
    }
    return {k: (c, env.kap12.case_tasks(c.id)[0]) for k, c in made.items()}


@pytest.fixture(scope="module")
def clients(env):
    return {u: login(env.app, u) for u in USERS}


@pytest.mark.parametrize("procedure", ["A", "B", "C"])
@pytest.mark.parametrize("user", USERS)
def test_matrix(env, cases, clients, procedure, user):
    case, task = cases[procedure]
    expected_case, expected_task, in_cases, in_tasks = MATRIX[procedure][user]
    client = clients[user]

    page = client.get(f"/saker/{case.id}")
    if expected_case == 404:
        assert page.status_code == 404
        assert case.number not in page.text and SECRET[procedure] not in page.text
    else:
        assert page.status_code == 200 and case.number in page.text
        assert (SECRET[procedure] in page.text) == (expected_case == "full")
        assert ("Hva har skjedd" in page.text) == (expected_case == "full")

    task_page = client.get(f"/oppgaver/{task.id}")
    if expected_task == 404:
        assert task_page.status_code == 404 and SECRET[procedure] not in task_page.text
    else:
        assert task_page.status_code == 200
        assert ("Lagre og fullfør" in task_page.text) == (expected_task == "work")

    listing = client.get("/saker?status=alle").text
    assert (case.number in listing) == in_cases
    tasks = client.get("/oppgaver").text
    assert (case.number in tasks) == in_tasks

    diagram = client.get(f"/saker/{case.id}/diagram.json")
    assert diagram.status_code == (200 if expected_case == "full" else 404)


def test_accused_sees_nothing_in_any_count(env, cases, clients):
    for procedure, accused in (("B", "ansatt2"), ("C", "avdelingsleder")):
        case, task = cases[procedure]
        viewer = env.demo.users[accused]
        assert case.id not in {c.id for c in env.kap12.cases_for(viewer)}
        assert task.id not in {t.id for t in env.kap12.tasks_for(viewer)}
        client = clients[accused]
        for url in ("/saker?status=alle", "/oppgaver"):
            assert case.number not in client.get(url).text
        assert "Ingen saker passer" in client.get(f"/saker?q={case.number}&status=alle").text
        # Writes to the task are refused the same way as reads: it does not exist.
        token = csrf_of(client.get("/oppgaver").text)
        assert client.post(f"/oppgaver/{task.id}/ta", data={"_csrf": token}).status_code == 404
        assert client.post(f"/oppgaver/{task.id}", data={"_csrf": token}).status_code == 404
        assert client.post(f"/saker/{case.id}/omklassifiser",
                           data={"_csrf": token, "krenker_type": "elev", "begrunnelse": "x"}).status_code == 404


def test_auditor_reads_but_every_write_is_refused(env, cases, clients):
    client = clients["revisor"]
    token = csrf_of(client.get("/oppgaver").text)
    case, task = cases["A"]
    page = client.get(f"/saker/{case.id}")
    assert page.status_code == 200 and "Klassifiser saken om" not in page.text
    assert client.post(f"/oppgaver/{task.id}/ta", data={"_csrf": token}).status_code == 403
    assert client.post(f"/oppgaver/{task.id}", data={"_csrf": token, "mottatt_vurdering": "x"}).status_code == 403
    assert client.post(f"/saker/{case.id}/omklassifiser",
                       data={"_csrf": token, "krenker_type": "ansatt", "begrunnelse": "x"}).status_code in (403, 404)
    response = client.post("/melding/ny", data={"_csrf": token, "school_id": str(env.nordli),
                                                **demo.report_data(kjent_dato="2026-11-30", anklaget_bruker="")})
    assert response.status_code in (403, 422)
    assert env.kap12.case_tasks(case.id)[0].assignee_id is None
