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


def test_a_period_too_large_for_a_web_worker_is_a_message_and_nothing_is_read(app, monkeypatch):
    """The extract is made in the request and held in memory: a county's year from one click
    would be a gigabyte in a web worker. Above the limit the page says so, and how to go on."""
    from sqlalchemy import func, select

    from engine.store.events import CASE_READ
    from engine.store.models import HistoryEvent
    from webui import documents

    kap12 = app.extensions["kap12"]

    def reads() -> int:
        with kap12.db.reading() as session:
            return session.scalar(select(func.count()).select_from(HistoryEvent).where(HistoryEvent.kind == CASE_READ))

    client = login(app, "rektor")
    before = reads()
    monkeypatch.setattr(documents, "PERIOD_EXTRACT_MAX", 0)  # the demo has one closed case
    response = _post(client, "2020-01-01", "2099-12-31")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Perioden har 1 avsluttede saker" in page and "høyst 0" in page and "kap12 arkiv" in page
    assert reads() == before  # nothing was exported, so nothing was read
    monkeypatch.setattr(documents, "PERIOD_EXTRACT_MAX", 1)
    assert _post(client, "2020-01-01", "2099-12-31").mimetype == "application/zip"
    assert reads() == before + 1
