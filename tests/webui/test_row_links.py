"""A list's row links (webui/row_links.py) are the addresses ``url_for`` makes, for every kind of
key kap12 routes by, and a key that would need quoting is quoted as ``url_for`` quotes it."""
from __future__ import annotations

import pytest
from flask import url_for

from engine.write.demo import report_data
from tests.support.web import login
from webui.row_links import row_link

ROUTES = [("cases.show", "case_id", [1, 42, 2147483647]),
          ("audit.case", "case_id", [7]),
          ("tasks.show", "task_id", ["0b5e7f3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c", "abc"]),
          ("tasks.claim", "task_id", ["0b5e7f3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"]),
          ("tasks.release", "task_id", ["x y/ø?&#", "1987654321"])]


@pytest.mark.parametrize(("endpoint", "key", "values"), ROUTES)
def test_a_row_link_is_what_url_for_makes(env, endpoint, key, values):
    with env.app.test_request_context("/oppgaver"):
        link = row_link(endpoint, key)
        for value in values:
            assert link(value) == url_for(endpoint, **{key: value})


def test_a_key_in_the_query_is_refused(env):
    with env.app.test_request_context("/"), pytest.raises(ValueError, match="skole"):
        row_link("overview.index", "skole")


def test_the_lists_link_each_row_to_its_own_task_and_case(env):
    cases = [env.kap12.report(env.demo.users["ansatt"], env.nordli, report_data()) for _ in range(2)]
    rektor = env.demo.users["rektor"]
    tasks = {t.case_id: t.id for t in env.kap12.tasks_for(rektor) if t.case_id in {c.id for c in cases}}
    client = login(env.app, "rektor")
    task_list, case_list = client.get("/oppgaver").text, client.get("/saker").text
    for case in cases:
        assert f'href="/oppgaver/{tasks[case.id]}"' in task_list
        assert f'action="/oppgaver/{tasks[case.id]}/ta"' in task_list
        assert f'href="/saker/{case.id}"' in case_list
    assert "1987654321" not in task_list + case_list
