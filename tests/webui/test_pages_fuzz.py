"""Malformed input against every page route and form, through Flask's client, on SQLite and on
PostgreSQL: ids far beyond the database's integers, negative and non-ASCII digits, dates in year
1 and 9999, CR/LF and NUL in redirect targets, unknown and repeated fields, non-UTF-8 query
strings, wrong methods, every kind of user and no user at all. Never a 500."""
from __future__ import annotations

import io
import json
import string
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.config import PROJECT_ROOT
from engine.store.models import Case, DefinitionVersion, OpenTask
from engine.write import demo
from tests.support.web import csrf_of, login

EXAMPLES = 20
ROLES = ("ansatt", "rektor", "avdelingsleder", "skoleeier", "prosesseier", "revisor", "admin", "ansatt2")

# Every page (rule, method) of the app; test_every_page_route_is_fuzzed keeps the list whole.
PAGES = [
    ("/", "GET"), ("/arshjul", "GET"), ("/arshjul", "POST"),
    ("/dokumenter/<id:case_id>/<id:document_id>.pdf", "GET"), ("/dokumenter/<id:case_id>/arkivuttrekk", "POST"),
    ("/dokumenter/arkivuttrekk", "POST"), ("/drift", "GET"), ("/drift/<timer_id>/prov-igjen", "POST"),
    ("/drift/innlogginger", "GET"), ("/drift/innlogginger/logg-ut", "POST"), ("/profil/passord", "POST"),
    ("/drift/personer", "GET"), ("/drift/personer/personliste.csv", "GET"), ("/drift/personer/importer", "POST"),
    ("/drift/personer/deaktiver", "POST"), ("/drift/personer/passord", "POST"),
    ("/healthz", "GET"), ("/readyz", "GET"), ("/metrics", "GET"), ("/logg-inn", "GET"), ("/logg-inn", "POST"), ("/logg-inn/ekstern", "GET"),
    ("/logg-inn/ekstern/tilbake", "GET"), ("/logg-ut", "POST"),
    ("/melding/<id:case_id>/kvittering", "GET"), ("/melding/ny", "GET"), ("/melding/ny", "POST"),
    ("/melding/ansatte", "GET"),
    ("/oppgaver", "GET"), ("/oppgaver/<task_id>", "GET"), ("/oppgaver/<task_id>", "POST"),
    ("/oppgaver/<task_id>/legg-tilbake", "POST"), ("/oppgaver/<task_id>/ta", "POST"),
    ("/oversikt", "GET"), ("/oversikt/eksport.csv", "GET"), ("/oversikt/eksport.csv", "POST"),
    ("/oversikt/eksport.pdf", "GET"),
    ("/oversikt/gjennomgatt", "POST"), ("/profil", "GET"), ("/profil/api-nokler", "POST"),
    ("/profil/api-nokler/<id:key_id>/trekk-tilbake", "POST"), ("/prosesser", "GET"),
    ("/prosesser/<process_id>/rediger", "GET"), ("/prosesser/<process_id>/tom.bpmn", "GET"),
    ("/prosesser/<process_id>/versjon/<id:number>", "GET"), ("/prosesser/<process_id>/versjon/<id:number>.bpmn", "GET"),
    ("/prosesser/<process_id>/versjon/<id:number>/trekk-tilbake", "POST"),
    ("/prosesser/flytt-saker", "GET"), ("/prosesser/flytt-saker", "POST"), ("/prosesser/last-opp", "POST"),
    ("/prosesser/ny", "GET"), ("/prosesser/publiser", "POST"), ("/prosesser/skjema", "GET"),
    ("/prosesser/skjema/<key>", "GET"), ("/prosesser/skjema/<key>", "POST"), ("/prosesser/skjema/ny", "GET"),
    ("/prosesser/valider", "POST"), ("/revisjon", "GET"), ("/revisjon/system", "GET"), ("/revisjon/system/kontroll", "GET"), ("/revisjon/prosesser/<id:definition_id>", "GET"),
    ("/revisjon/saker/<id:case_id>", "GET"), ("/revisjon/saker/<id:case_id>/eksport.json", "GET"),
    ("/revisjon/saker/<id:case_id>/eksport.pdf", "GET"), ("/revisjon/saker/<id:case_id>/gjenkjoring.json", "GET"),
    ("/saker", "GET"), ("/saker/<id:case_id>", "GET"), ("/saker/<id:case_id>/diagram.json", "GET"),
    ("/saker/<id:case_id>/omklassifiser", "POST"), ("/saker/<id:case_id>/tilgang", "POST"),
    ("/saker/<id:case_id>/tilgang/<id:grant_id>/trekk", "POST"), ("/saker/<id:case_id>/anklaget", "POST"), ("/sprak/<lang>", "GET"), ("/sprak/<lang>", "POST"),
    ("/saker/<id:case_id>/avslutt", "POST"), ("/saker/<id:case_id>/evaluer-na", "POST"),
    ("/saker/<id:case_id>/notat", "POST"), ("/saker/<id:case_id>/varsle-skoleeier", "POST"),
    ("/tiltak", "GET"), ("/tiltak/<id:measure_id>", "POST"),
    ("/varsler", "GET"), ("/varsler/lest", "POST"),
]
# Pages that log the client out or in: they get a client of their own for each example.
OWN_CLIENT = {"/logg-ut", "/logg-inn"}


def _form_fields() -> list[str]:
    """Every field name the bundled forms declare (group rows as `group-0-field`)."""
    names: set[str] = set()
    for path in Path(PROJECT_ROOT, "processes", "forms").glob("*.json"):
        for f in json.loads(path.read_text(encoding="utf-8"))["fields"]:
            names.add(f["name"])
            for sub in f.get("fields", []):
                names.update({f"{f['name']}-0-{sub['name']}", f"{f['name']}-7-{sub['name']}"})
    return sorted(names)


PAGE_FIELDS = ["school_id", "case_id", "sak", "til", "fra", "begrunnelse", "kommentar", "krenker_type",
               "anklaget_bruker", "name", "declaration", "action", "note", "skole", "skolear", "username",
               "password", "next", "neste", "_once", "from", "_add_row", "id", "key", "status", "prosedyre", "q",
               "vis", "skjerm", "innsyn_for", "navn", "logged_out", "xml", "comment", "lang", "bruker", "merknad",
               "notat", "retter", "fil_data", "fil_navn", "fullstendig", "handling", "fylke", "grunn"]
FIELDS = PAGE_FIELDS + _form_fields()

odd_numbers = st.sampled_from(["0", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775808",
                               "99999999999999999999", "9" * 300, "1e9", "0x10", "²", "١٢", " 1", "1.5", "NaN"])
odd_dates = st.sampled_from(["0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "1899-12-31", "2026-11-30",
                             "2026-11-30T25:00", "20261130", "+002026-11-30", "2026-11-30T09:00:00+99:00"])
odd_text = st.sampled_from(["/saker\r\nX-Injected: 1", "/\n", "//evil.example", "/saker\x00", "\\\\evil",
                            "javascript:alert(1)", "<script>", "' OR 1=1 --", "%00", "\u202e", "a" * 5000,
                            "kap12_sak", "meldingsskjema", "elev", "ansatt", "publish", "1"])
values = st.one_of(odd_numbers, odd_dates, odd_text, st.text(max_size=40),
                   st.integers(min_value=-(2**70), max_value=2**70).map(str))
path_text = st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", min_size=1, max_size=40)


@pytest.fixture(scope="module")
def world(any_env):
    for _ in range(2):
        any_env.kap12.report(any_env.demo.users["ansatt"], any_env.nordli, demo.report_data())
    with any_env.kap12.db.reading() as session:
        task_ids = list(session.scalars(select(OpenTask.id)))
        case_ids = [str(i) for i in session.scalars(select(Case.id))]
        definition_ids = [str(i) for i in session.scalars(select(DefinitionVersion.id))]
        process_ids = sorted(set(session.scalars(select(DefinitionVersion.process_id))))
    clients = {name: login(any_env.app, name) for name in ROLES}
    clients[None] = any_env.app.test_client()
    tokens = {name: csrf_of(client.get("/logg-inn" if name is None else "/profil").text)
              for name, client in clients.items()}
    return {"task_ids": task_ids, "case_ids": case_ids, "definition_ids": definition_ids,
            "process_ids": process_ids, "clients": clients, "tokens": tokens}


def _log_in_again(any_env, world) -> None:
    for name in ROLES:
        world["clients"][name] = login(any_env.app, name)
        world["tokens"][name] = csrf_of(world["clients"][name].get("/profil").text)


def _path_value(draw, world, converter: str, name: str) -> str:
    if converter == "id":
        known = world["definition_ids"] if name == "definition_id" else world["case_ids"]
        return draw(st.one_of(st.sampled_from(known + ["1", "2"]), odd_numbers.filter(lambda v: "/" not in v),
                              st.integers(min_value=-3, max_value=2**70).map(str), path_text))
    known = {"task_id": world["task_ids"], "process_id": world["process_ids"], "key": ["meldingsskjema"],
             "lang": ["nb", "en"], "timer_id": []}[name]
    return draw(st.one_of(st.sampled_from(known or ["x"]), path_text, odd_numbers))


@st.composite
def page_requests(draw, world, rule: str, method: str):
    url = rule
    for part in [p for p in rule.split("<")[1:]]:
        spec = part.split(">", 1)[0]
        converter, _, name = spec.rpartition(":")
        url = url.replace(f"<{spec}>", quote(_path_value(draw, world, converter or "default", name), safe=""))
    who = draw(st.sampled_from(list(world["clients"])))
    if draw(st.integers(0, 3)) == 0:
        query = quote_from_bytes(draw(st.binary(max_size=60)), safe="=&")  # often not UTF-8
    else:
        pairs = draw(st.lists(st.tuples(st.sampled_from(PAGE_FIELDS), values), max_size=4))
        query = "&".join(f"{quote(k)}={quote(v, safe='', errors='surrogatepass')}" for k, v in pairs)
    kwargs: dict = {"query_string": query,
                    "environ_base": {"REMOTE_ADDR": f"10.{draw(st.integers(0, 255))}.{draw(st.integers(0, 255))}.1"}}
    verb = draw(st.sampled_from([method] * 8 + ["PUT", "DELETE", "GET", "POST"]))
    if verb != "GET":
        data = {key: draw(st.lists(values, min_size=1, max_size=3))
                for key in draw(st.lists(st.sampled_from(FIELDS), max_size=8, unique=True))}
        if draw(st.integers(0, 5)):  # mostly past the CSRF check, to reach the page itself
            data["_csrf"] = world["tokens"][who]
        if draw(st.booleans()) and rule in ("/prosesser/last-opp", "/drift/personer/importer"):
            data["fil"] = [(io.BytesIO(draw(st.binary(max_size=200))), draw(path_text))]
        kwargs.update(data=data)
    return who, verb, url, kwargs


@pytest.mark.parametrize("rule, method", PAGES)
def test_no_500_on_any_page(any_env, world, rule, method):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(page_requests(world, rule, method))
    def check(request):
        who, verb, url, kwargs = request
        client = world["clients"][who]
        if rule in OWN_CLIENT and who is not None:
            client = login(any_env.app, who)
            kwargs.get("data", {}).update(_csrf=csrf_of(client.get("/profil").text))
        response = client.open(url, method=verb, **kwargs)
        assert response.status_code < 500, (who, verb, url, kwargs, response.text[:500])
        if rule == "/drift/innlogginger/logg-ut" and who == "admin" and response.status_code == 302:
            _log_in_again(any_env, world)  # the administrator may just have logged everyone out
        location = response.headers.get("Location", "")
        assert "\n" not in location and "\r" not in location

    check()


def test_every_page_route_is_fuzzed(any_env):
    rules = {(r.rule, m) for r in any_env.app.url_map.iter_rules()
             for m in r.methods - {"HEAD", "OPTIONS"} if not r.rule.startswith(("/api/", "/static/"))}
    assert rules == set(PAGES)
