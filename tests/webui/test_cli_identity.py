"""``kap12 identitet``: an administrator binds people at the identity provider to kap12 users."""
from __future__ import annotations

import json

import pytest

from tests.webui.cli_support import invoker

ISSUER = "https://auth.dataporten.no"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("KAP12_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("KAP12_DATABASE_URL", raising=False)
    monkeypatch.setenv("KAP12_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("KAP12_OIDC_CLIENT_ID", "kap12")
    invoke = invoker()
    invoke("demo")
    return invoke


def test_bind_list_and_remove(run):
    code, out, _ = run("identitet", "koble", "rektor", "rune@nordli.no")
    assert code == 0 and "rune@nordli.no" in out and "rektor" in out
    assert run("identitet", "koble", "rektor", "rune@nordli.no")[0] == 0  # again: no change
    code, out, _ = run("identitet", "liste", "--json")
    assert json.loads(out) == [{"username": "rektor", "issuer": ISSUER, "subject": "rune@nordli.no"}]
    code, out, _ = run("identitet", "fjern", "rektor", "rune@nordli.no")
    assert code == 0
    assert run("identitet", "liste")[1].strip() == "Ingen koblinger."


def test_one_person_is_one_user(run):
    run("identitet", "koble", "rektor", "rune@nordli.no")
    code, _, err = run("identitet", "koble", "ansatt", "rune@nordli.no")
    assert code == 2 and "allerede koblet til brukeren «rektor»" in err and err.count("\n") == 1


def test_bad_input_is_one_line(run):
    code, _, err = run("identitet", "koble", "finnesikke", "x@y.no")
    assert code == 4 and "finnes ikke" in err
    code, _, err = run("identitet", "koble", "rektor", " ")
    assert code == 2 and "Oppgi personens identitet" in err
    code, _, err = run("identitet", "fjern", "rektor", "aldri@koblet.no")
    assert code == 4 and "ikke koblet" in err


def test_without_a_provider_the_issuer_must_be_given(run, monkeypatch):
    monkeypatch.delenv("KAP12_OIDC_ISSUER")
    code, _, err = run("identitet", "koble", "rektor", "rune@nordli.no")
    assert code == 2 and "--utsteder" in err
    code, out, _ = run("identitet", "koble", "rektor", "rune@nordli.no", "--utsteder", "https://login.example.no/")
    assert code == 0
    assert json.loads(run("identitet", "liste", "--json")[1])[0]["issuer"] == "https://login.example.no"
