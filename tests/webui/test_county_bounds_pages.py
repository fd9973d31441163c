"""Several counties on one installation, on the pages: a process owner of one county is told in
words why a diagram or form is not published, and keeps what they wrote (``tests/engine/
test_county_bounds.py`` has the rules themselves)."""
from __future__ import annotations

import html
import json

from engine.write import migration
from tests.support.counties import person_of_another_county
from tests.support.diagrams import prosedyre_a
from tests.support.web import login, token


def test_a_process_owner_of_one_of_two_counties_is_told_why_nothing_is_published(fresh_env):
    env = fresh_env
    person_of_another_county(env.kap12, "prosesseier")  # now the installation serves two counties
    owner = login(env.app, "prosesseier")
    xml = prosedyre_a(new_task=True).decode("utf-8")
    answer = owner.post("/prosesser/publiser", data=json.dumps({"xml": xml, "filename": "prosedyre_a.bpmn",
                                                                "comment": "Ny samtale"}),
                        content_type="application/json", headers={"X-CSRF-Token": token(owner, "/prosesser")})
    assert answer.status_code == 422
    assert "alle fylkene" in answer.json["problems"][0]["message"]
    assert [r.version for r in migration.versions_with_cases(env.kap12, env.demo.users["prosesseier"])
            ["prosedyre_a"]] == [1]
    page = owner.get("/prosesser/skjema/motta_melding")
    text = html.unescape(page.text.split('name="declaration"')[1].split(">", 1)[1].split("</textarea>")[0])
    refused = owner.post("/prosesser/skjema/motta_melding",
                         data={"_csrf": token(owner, "/prosesser/skjema/motta_melding"), "declaration": text,
                               "kommentar": "Endret", "action": "publish"})
    assert refused.status_code == 403 and "alle fylkene" in refused.text and "Endret" in refused.text
