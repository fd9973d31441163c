"""The archive extract for a period on the weekly overview: the same choice of cases as
``kap12 arkiv`` (engine/outputs/archive_job.py), refused to those who may not file cases."""
from __future__ import annotations

import hashlib

import pytest

from engine.write.demo import load_demo
from tests.support.web import login, make_kap12, token
from webui.app import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    kap12, _clock = make_kap12(tmp_path_factory.mktemp("archive-page"))
    load_demo(kap12)  # one closed case at Nordli
    yield create_app(kap12)
    kap12.close()


def _post(client, fra: str, til: str):
    return client.post("/dokumenter/arkivuttrekk", data={"_csrf": token(client), "fra": fra, "til": til})


def test_leaders_download_the_period(app):
    response = _post(login(app, "rektor"), "2020-01-01", "2099-12-31")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(response.data).hexdigest()


def test_an_empty_or_reversed_period_is_a_message(app):
    client = login(app, "rektor")
    for fra, til, says in [("2021-01-01", "2021-12-31", "Ingen avsluttede saker"),
                           ("2021-12-31", "2021-01-01", "før fra-datoen")]:
        response = _post(client, fra, til)
        assert response.status_code == 302
        assert says in client.get(response.headers["Location"]).text


def test_those_who_may_not_file_are_refused(app):
    for user in ("ansatt", "revisor"):
        response = _post(login(app, user), "2020-01-01", "2099-12-31")
        assert response.status_code == 403 and response.mimetype == "text/html"
