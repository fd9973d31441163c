"""Out-of-range input on the pages: ids beyond the database's integer, huge form ids, dates in
year 1 or 9999, CR/LF in redirect targets. Each is the page's normal answer (404, a message by
the field, a warning), never a 500, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest

from tests.support.web import csrf_of, login
from webui import bounds

HUGE = ["2147483648", "99999999999999999999", "9" * 400]


def _id_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if any(type(conv) is bounds.IdConverter for conv in rule._converters.values())]


def _url(rule, value: str) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = url.replace(f"<id:{name}>", value).replace(f"<{name}>", "x")
    return url


def test_every_id_in_a_route_is_bounded(any_env):
    rules = _id_rules(any_env.app)
    assert len(rules) >= 15  # cases, receipts, documents, audit, modeler versions, keys, API
    unbounded = [r.rule for r in any_env.app.url_map.iter_rules()
                 if any(type(c).__name__ == "IntegerConverter" for c in r._converters.values())]
    assert unbounded == []  # every integer in an address goes through the one converter


@pytest.mark.parametrize("value", HUGE + ["0", "-1", "2147483647"])
def test_out_of_range_ids_are_a_plain_404(any_env, value):
    client = login(any_env.app, "rektor")
    auditor = login(any_env.app, "revisor")
    token = csrf_of(client.get("/oppgaver").text)
    for rule in _id_rules(any_env.app):
        url = _url(rule, value)
        who = auditor if rule.rule.startswith("/revisjon") else client
        method = "GET" if "GET" in rule.methods else "POST"
        response = who.open(url, method=method, data={"_csrf": token} if method == "POST" else None)
        # The largest id fits, so the page looks and finds nothing (or refuses first); beyond it
        # the address itself is not found.
        expected = (302, 403, 404) if value == "2147483647" else (404,)
        assert response.status_code in expected, (url, response.status_code)
        if response.status_code == 404 and not rule.rule.startswith("/api/"):
            assert "Fant ikke siden" in response.text, url


def test_the_case_page_with_a_20_digit_id(any_env):
    client = login(any_env.app, "rektor")
    response = client.get("/saker/99999999999999999999")
    assert response.status_code == 404 and "Fant ikke siden" in response.text


@pytest.mark.parametrize("school_id", ["99999999999999999999", "2147483648", "²", "-3", "0", " 1e9"])
def test_a_huge_school_id_in_the_report_form(any_env, school_id):
    client = login(any_env.app, "ansatt")
    page = client.get("/melding/ny")
    response = client.post("/melding/ny", data={"_csrf": csrf_of(page.text), "school_id": school_id,
                                                "_once": "x" + school_id})
    assert response.status_code == 422, response.text[:300]
    assert "Velg skolen saken gjelder." in response.text


@pytest.mark.parametrize("first, last", [("0001-01-01", "2026-12-31"), ("2026-01-01", "9999-12-31"),
                                         ("0001-01-01", "9999-12-31"), ("2026-13-01", "2026-12-31")])
def test_archive_period_outside_sensible_years(any_env, first, last):
    client = login(any_env.app, "rektor")
    token = csrf_of(client.get("/oversikt").text)
    response = client.post("/dokumenter/arkivuttrekk", data={"_csrf": token, "fra": first, "til": last})
    assert response.status_code == 302, response.text[:300]
    assert "Velg både fra- og til-dato" in client.get(response.location).text


@pytest.mark.parametrize("target", ["/saker\r\nX-Injected: 1", "/\n", "/\t/evil.example"])
def test_control_characters_in_redirect_targets_are_ignored(any_env, target):
    anonymous = any_env.app.test_client()
    page = anonymous.get("/logg-inn", query_string={"next": target})
    assert page.status_code == 200
    switched = anonymous.get("/sprak/en", query_string={"neste": target})
    assert switched.status_code == 302 and "\n" not in switched.location and "X-Injected" not in switched.headers
    logged_in = anonymous.post("/logg-inn", data={"_csrf": csrf_of(page.text), "username": "ansatt",
                                                  "password": "demo1234", "next": target})
    assert logged_in.status_code == 302 and logged_in.location.endswith("/oppgaver")


@pytest.mark.parametrize("raw, expected", [("1", 1), ("2147483647", 2147483647), ("2147483648", None),
                                           ("0", None), ("-1", None), ("", None), (None, None), ("١٢", None),
                                           ("²", None), ("9" * 5000, None), (" 7 ", 7)])
def test_parse_id(raw, expected):
    assert bounds.parse_id(raw) == expected


@pytest.mark.parametrize("raw, ok", [("2026-11-30", True), ("1900-01-01", True), ("2199-12-31", True),
                                     ("0001-01-01", False), ("9999-12-31", False), ("1899-12-31", False),
                                     ("20261130", False), ("2026-02-30", False), ("", False)])
def test_parse_date(raw, ok):
    assert (bounds.parse_date(raw) is not None) is ok


def test_a_nul_character_is_refused_plainly(any_env):
    """PostgreSQL cannot store NUL in text: refused before any page reads it, never a 500."""
    client = login(any_env.app, "ansatt")
    page = client.get("/melding/ny")
    response = client.post("/melding/ny", data={"_csrf": csrf_of(page.text), "school_id": str(any_env.nordli),
                                                "beskrivelse": "Hei\x00du"})
    assert response.status_code == 400 and "et tegn som ikke kan lagres" in response.text
    assert client.get("/oppgaver/abc%00").status_code == 400
    assert any_env.app.test_client().post("/logg-inn", data={"username": "a\x00"}).status_code == 400


@pytest.mark.parametrize("limit", [1, 7, 10, 99, 250, 1000, 4096])
def test_the_id_pattern_takes_exactly_one_to_the_limit(limit):
    import re

    pattern = re.compile(bounds._up_to(limit) + r"\Z")
    assert [n for n in range(limit * 10 + 20) if pattern.match(str(n))] == list(range(1, limit + 1))
    assert not pattern.match("0" + str(limit))


@pytest.mark.parametrize("value", ["2147483647", "2147483648", "2147483650", "9999999999", "1999999999"])
def test_the_id_pattern_at_the_database_limit(value):
    import re

    assert bool(re.match(bounds._up_to(bounds.ID_MAX) + r"\Z", value)) is (int(value) <= bounds.ID_MAX)
