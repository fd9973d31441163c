"""``kap12 katalog``: an operator exports the county's staff list, imports it back (trial first),
and takes a person out of service; problems in the file are named line by line."""
from __future__ import annotations

import json

import pytest

from tests.webui.cli_support import invoker

NORDLI = "Nordli videregående skole"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("KAP12_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("KAP12_DATABASE_URL", raising=False)
    monkeypatch.delenv("KAP12_OIDC_ISSUER", raising=False)
    invoke = invoker()
    invoke("demo")
    return invoke


def test_export_edit_try_and_import(run, tmp_path):
    listing = tmp_path / "ansatte.csv"
    code, out, _ = run("katalog", "eksporter", str(listing))
    assert code == 0 and "skrevet til" in out
    text = listing.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "brukernavn;navn;epost;skole;roller;identitet"
    assert f"rektor;Rune Rektor;rektor@demo.kap12.no;{NORDLI};ansatt rektor;" in text.splitlines()
    edited = "\n".join(line for line in text.splitlines() if not line.startswith("ansatt2;"))
    listing.write_text(edited + f"\nnina;Nina Ny;nina@x.no;{NORDLI};ansatt;\n", encoding="utf-8")

    code, out, _ = run("katalog", "importer", str(listing), "--fullstendig", "--prøv")
    assert code == 0 and out.splitlines()[-1] == "Prøvekjøring: ingenting er endret."
    assert f"ansatt2 (Per Faglærer): mister ansatt ved {NORDLI}, deaktivert" in out
    assert "ansatt2" in run("katalog", "eksporter")[1]  # still there

    code, out, _ = run("katalog", "importer", str(listing), "--fullstendig")
    assert code == 0
    assert out.splitlines()[0] == ("Personkatalogen for Innlandet fylkeskommune (demo) etter ansatte.csv: "
                                   "1 nye, 0 endret, 1 deaktivert, 9 uendret.")
    assert "ansatt2" not in run("katalog", "eksporter")[1]
    code, out, _ = run("katalog", "importer", str(listing), "--fullstendig", "--json")
    assert json.loads(out)["changes"] == [] and json.loads(out)["applied"] is True


def test_a_file_with_mistakes_names_each_by_line_and_changes_nothing(run, tmp_path):
    listing = tmp_path / "feil.csv"
    listing.write_text("brukernavn;navn;epost;skole;roller\nola;Ola;;Nordli;rekor\nkari;Kari;;Ukjent skole;ansatt\n",
                       encoding="utf-8")
    code, _, err = run("katalog", "importer", str(listing))
    assert code == 2
    assert err.splitlines() == ["kap12: Linje 2: ukjent rolle «rekor» (rollene er ansatt, avdelingsleder, rektor, "
                                "skoleeier, prosesseier, revisor, administrator).", "kap12: Ingenting er endret."]
    listing.write_text("brukernavn;navn;epost;skole;roller\nkari;Kari;;Ukjent skole;ansatt\n", encoding="utf-8")
    code, _, err = run("katalog", "importer", str(listing))
    assert code == 2 and err.splitlines()[0] == ("kap12: Linje 2: skolen «Ukjent skole» finnes ikke i "
                                                 "Innlandet fylkeskommune (demo).")
    assert "kari" not in run("katalog", "eksporter")[1]


def test_deactivate_needs_a_reason_and_says_what_followed(run):
    code, _, err = run("katalog", "deaktiver", "ansatt2")
    assert code == 2 and "--grunn" in err
    code, out, _ = run("katalog", "deaktiver", "ansatt2", "--grunn", "sluttet 30.11.")
    assert code == 0 and out.startswith("ansatt2 er deaktivert: 0 nye, 0 endret, 1 deaktivert")
    code, _, err = run("katalog", "deaktiver", "ansatt2", "--grunn", "igjen")
    assert code == 2 and err.strip() == "kap12: ansatt2 er allerede deaktivert."
    code, _, err = run("katalog", "deaktiver", "finnesikke", "--grunn", "x")
    assert code == 4 and "finnes ikke" in err


def test_a_first_password_is_printed_once_and_recorded_without_it(run):
    code, out, _ = run("katalog", "passord", "ansatt")
    assert code == 0 and out.startswith("Førstegangspassord for Kari Lærer (ansatt): ")
    first = out.split(": ", 1)[1].splitlines()[0]
    assert "bare til å velge et eget passord ved første innlogging" in out
    code, out, _ = run("katalog", "passord", "ansatt", "--json")
    again = json.loads(out)
    assert code == 0 and again["username"] == "ansatt" and again["password"] != first  # a new one each time
    code, _, err = run("katalog", "passord", "finnesikke")
    assert code != 0 and "Brukeren «finnesikke» finnes ikke." in err
