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


def test_an_owner_of_one_of_two_counties_sees_no_controls_to_publish_or_withdraw(fresh_env):
    """The pages say it before anything is written: no «Publiser», no upload, no withdrawal for
    someone who holds the role in one county of two, and a line that says why."""
    env = fresh_env
    owner, admin = login(env.app, "prosesseier"), login(env.app, "admin")
    pages = {"edit": "/prosesser/prosedyre_a/rediger", "list": "/prosesser",
             "form": "/prosesser/skjema/motta_melding", "version": "/prosesser/prosedyre_a/versjon/1"}
    one = {name: (admin if name == "version" else owner).get(path).text for name, path in pages.items()}
    assert 'id="deploy"' in one["edit"] and "Kontroller og publiser" in one["list"]
    assert 'value="publish"' in one["form"] and "Trekk tilbake versjon 1" in one["version"]
    assert not any('id="not-publishing"' in text for text in one.values())

    person_of_another_county(env.kap12, "prosesseier")  # now the installation serves two counties
    two = {name: (admin if name == "version" else owner).get(path).text for name, path in pages.items()}
    assert 'id="deploy"' not in two["edit"] and 'id="save-file"' in two["edit"]  # a copy can still be saved
    assert "Kontroller og publiser" not in two["list"] and 'name="fil"' not in two["list"]
    assert 'value="publish"' not in two["form"] and 'value="validate"' in two["form"]
    for name in ("edit", "list", "form"):
        assert 'id="not-publishing"' in two[name] and "alle fylkene" in two[name], name
    assert "Trekk tilbake versjon 1" not in two["version"]
