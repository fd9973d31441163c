"""The report form's accused picker lists the staff of one school: the school the report is for.

A school owner or administrator reports for every school of their county. The picker used to
list the staff of all of them at once (15,000 options, 900 kB at a county's scale); now it waits
for the school, and shows that school's staff alone. The school is chosen above it, and the
list follows by ``/melding/ansatte`` (forms.js) or, without JavaScript, by sending the form back
with «Vis ansatte ved skolen». The browser side: tests/browser/test_report_school_first.py."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.store.models import Case
from tests.support.web import csrf_of, login, web_env

PICKER = re.compile(r'<select id="f-anklaget_bruker"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"')


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    made = web_env(tmp_path_factory.mktemp("report-school-staff"))
    made.sorbakken = made.demo.schools["Sørbakken videregående skole"]
    yield made
    made.kap12.close()


def _picker(html: str) -> tuple[str, list[str]]:
    """The picker's opening tag and the usernames it offers."""
    tag = re.search(r'<select id="f-anklaget_bruker"[^>]*>', html)[0]
    return tag, [v for v in OPTION.findall(PICKER.search(html)[1]) if v]


def _cases(env) -> int:
    with env.kap12.db.reading() as session:
        return session.scalar(select(func.count(Case.id)))


def _report(page: str, **fields) -> dict:
    data = {"_csrf": csrf_of(page), "_once": re.search(r'name="_once" value="([^"]+)"', page)[1],
            "berorte_elever": "Sara (demo), Vg1", "hva_skjedde": "Eleven sier at en lærer ropte til henne.",
            "tid_og_sted": "Klasserommet", "kjent_dato": "2026-11-30", "krenker_type": "ansatt",
            "meldt_pa_vegne_av": "elev"}
    return data | fields


def test_a_school_owner_sees_no_staff_until_a_school_is_chosen(env):
    client = login(env.app, "skoleeier")
    page = client.get("/melding/ny").text
    tag, offered = _picker(page)
    assert offered == [] and " disabled" in tag and "– Velg skolen først –" in page
    assert "Vis ansatte ved skolen" in page  # the way on without JavaScript

    chosen = client.get(f"/melding/ny?skole={env.sorbakken}").text
    tag, offered = _picker(chosen)
    assert offered == ["ansatt3", "rektor2"] and " disabled" not in tag  # Sørbakken's, nobody from Nordli
    assert f'<option value="{env.sorbakken}" selected>' in chosen


def test_showing_a_schools_staff_sends_the_form_back_with_everything_kept(env):
    client = login(env.app, "skoleeier")
    before = _cases(env)
    page = client.get("/melding/ny").text
    shown = client.post("/melding/ny", data=_report(page, school_id=str(env.nordli), _school="1",
                                                    tid_og_sted="Gymsalen, fredag"))
    assert shown.status_code == 200 and _cases(env) == before  # nothing is sent yet
    assert "Skjemaet er ikke sendt" not in shown.text  # and so nothing is wrong yet
    assert sorted(_picker(shown.text)[1]) == ["ansatt", "ansatt2", "avdelingsleder", "rektor"]
    assert 'value="Gymsalen, fredag"' in shown.text and 'value="ansatt" checked' in shown.text

    sent = client.post("/melding/ny", data=_report(shown.text, school_id=str(env.nordli), anklaget_bruker="ansatt2"))
    assert sent.status_code == 302 and _cases(env) == before + 1


def test_an_accused_from_another_school_is_refused_and_the_right_list_shown(env):
    """The school changed without fetching its list (or a crafted post): the engine refuses, in
    the picker's words, and the page offers the chosen school's staff."""
    client = login(env.app, "skoleeier")
    before = _cases(env)
    page = client.get("/melding/ny").text
    refused = client.post("/melding/ny", data=_report(page, school_id=str(env.sorbakken), anklaget_bruker="ansatt2"))
    assert refused.status_code == 422 and _cases(env) == before
    assert "Velg personen fra listen over ansatte ved skolen." in refused.text
    assert _picker(refused.text)[1] == ["ansatt3", "rektor2"]


def test_a_teacher_at_one_school_gets_the_list_at_once_without_themselves(env):
    page = login(env.app, "ansatt").get("/melding/ny").text
    tag, offered = _picker(page)
    assert sorted(offered) == ["ansatt2", "avdelingsleder", "rektor"] and " disabled" not in tag
    assert "Vis ansatte ved skolen" not in page and "data-staff-url" not in page  # one school: nothing to choose


def test_the_staff_list_is_for_schools_the_viewer_reports_for(env):
    owner = login(env.app, "skoleeier")
    assert owner.get(f"/melding/ansatte?skole={env.sorbakken}").json == {
        "options": [["ansatt3", "Ola Lærer"], ["rektor2", "Siri Rektor"]]}
    teacher = login(env.app, "ansatt")
    assert "ansatt" not in [u for u, _ in teacher.get(f"/melding/ansatte?skole={env.nordli}").json["options"]]
    # Another school's staff, a school that does not exist, and no school at all: the same answer.
    for query in (f"skole={env.sorbakken}", "skole=999999", "skole=x", ""):
        denied = teacher.get(f"/melding/ansatte?{query}")
        assert denied.status_code == 404 and "options" not in denied.json, query
    assert login(env.app, "revisor").get(f"/melding/ansatte?skole={env.nordli}").status_code == 404
    anonymous = env.app.test_client().get(f"/melding/ansatte?skole={env.nordli}")
    assert anonymous.status_code in (302, 401) and b"ansatt2" not in anonymous.data
