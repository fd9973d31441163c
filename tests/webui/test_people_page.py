"""Personer: the administrator's page of the county's people. A trial first, then the import of
the very file tried; deactivation from the list; and every denial: other roles, other counties,
oneself, a forged carried file, a missing CSRF token."""
from __future__ import annotations

import base64
import re
import zlib
from io import BytesIO

from sqlalchemy import select

from engine.store import events, history
from engine.store.models import HistoryEvent
from tests.support.counties import person_of_another_county
from tests.support.web import csrf_of, login

NORDLI = "Nordli videregående skole"
CARRIED = re.compile(r'name="fil_data" value="([^"]+)"')


def _upload(client, text: str, *, complete: bool = False, name: str = "ansatte.csv"):
    page = client.get("/drift/personer")
    data = {"_csrf": csrf_of(page.text), "handling": "prov", "fil": (BytesIO(text.encode("utf-8")), name)}
    if complete:
        data["fullstendig"] = "1"
    return client.post("/drift/personer/importer", data=data, content_type="multipart/form-data")


def _confirm(client, tried):
    form = {"_csrf": csrf_of(tried.text), "handling": "importer", "fil_data": CARRIED.search(tried.text)[1],
            "fil_navn": "ansatte.csv"}
    if 'name="fullstendig" value="1">' in tried.text:
        form["fullstendig"] = "1"
    return client.post("/drift/personer/importer", data=form)


def _listing(client) -> str:
    response = client.get("/drift/personer/personliste.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return response.data.decode("utf-8-sig")


def _directory_events(env) -> list[HistoryEvent]:
    with env.kap12.db.reading() as session:
        return list(session.scalars(select(HistoryEvent).where(
            HistoryEvent.chain == history.SYSTEM_CHAIN, HistoryEvent.kind == events.DIRECTORY_CHANGED)))


def test_the_administrator_tries_the_list_then_imports_the_very_file_tried(fresh_env):
    env = fresh_env
    admin = login(env.app, "admin")
    page = admin.get("/drift/personer").text
    assert "Rune Rektor (rektor)" in page and f"Rektor / ass. rektor ved {NORDLI}" in page
    listing = _listing(admin)
    edited = "\n".join(line for line in listing.splitlines() if not line.startswith("ansatt2;"))
    edited += f"\nnina;Nina Ny;nina@x.no;{NORDLI};ansatt;\n"

    tried = _upload(admin, edited, complete=True)
    assert tried.status_code == 200
    assert "Prøvekjøring av ansatte.csv: ingenting er endret ennå" in tried.text
    assert "1 nye, 0 endret, 1 deaktivert, 9 uendret." in tried.text
    assert f"ansatt2 (Per Faglærer): mister rollen «Ansatt» ved {NORDLI}, deaktivert" in tried.text
    assert "nina" not in _listing(admin) and _directory_events(env) == []

    done = _confirm(admin, tried)
    assert done.status_code == 200 and "ansatte.csv er lest inn" in done.text
    assert "nina;Nina Ny" in _listing(admin) and "ansatt2;" not in _listing(admin)
    [recorded] = _directory_events(env)
    assert (recorded.actor_id, recorded.actor) == (env.demo.users["admin"].id, "Arne Administrator")
    assert "(ansatt2)" not in admin.get("/drift/personer").text  # no role in the county left: not theirs


def test_a_list_with_mistakes_is_named_line_by_line_and_nothing_is_offered(fresh_env):
    admin = login(fresh_env.app, "admin")
    response = _upload(admin, "brukernavn;navn;epost;skole;roller\nola;Ola;;Nordli;rekor\n")
    assert response.status_code == 422
    assert "ansatte.csv ble ikke lest inn. Ingenting er endret." in response.text
    assert "Linje 2: ukjent rolle «rekor»" in response.text
    assert 'name="fil_data"' not in response.text


def test_an_unchanged_list_offers_nothing_to_do(fresh_env):
    admin = login(fresh_env.app, "admin")
    tried = _upload(admin, _listing(admin), complete=True)
    assert "Filen er lik det som står i kap12. Det er ingenting å endre." in tried.text
    assert 'name="fil_data"' not in tried.text


def test_only_administrators_see_or_change_people(fresh_env):
    for who in ("rektor", "skoleeier", "prosesseier", "revisor", "ansatt"):
        client = login(fresh_env.app, who)
        assert client.get("/drift/personer").status_code == 403
        assert client.get("/drift/personer/personliste.csv").status_code == 403
        token = csrf_of(client.get("/profil").text)
        assert client.post("/drift/personer/deaktiver", data={"_csrf": token, "brukernavn": "ansatt2",
                                                               "grunn": "x"}).status_code == 403
    assert fresh_env.kap12.viewer("ansatt2")  # still there
    assert login(fresh_env.app, "admin").post("/drift/personer/deaktiver", data={
        "brukernavn": "ansatt2", "grunn": "x"}).status_code == 400  # no CSRF token


def test_an_administrator_cannot_change_who_someone_of_another_county_is(fresh_env):
    env = fresh_env
    person_of_another_county(env.kap12, "revisor", "to_fylker")
    admin = login(env.app, "admin")
    listing = _listing(admin) + "to_fylker;Et annet navn;;;skoleeier;\n"
    refused = _upload(admin, listing)
    assert refused.status_code == 422
    assert "Linje 12: to_fylker har roller i et annet fylke også; bare driften kan endre navnet." in refused.text
    # Their roles here are the county's to give: with the name as it is, the role is given.
    tried = _upload(admin, _listing(admin) + "to_fylker;Annen Fylkesperson;;;skoleeier;\n")
    assert "to_fylker (Annen Fylkesperson): får rollen «Skoleeier (sentral skoleledelse i fylket)» i Innlandet fylkeskommune (demo)" in tried.text
    _confirm(admin, tried)
    page = admin.get("/drift/personer").text
    assert "og roller i et annet fylke" in page and "Driften deaktiverer" in page
    token = csrf_of(page)
    response = admin.post("/drift/personer/deaktiver", data={"_csrf": token, "brukernavn": "to_fylker",
                                                              "grunn": "sluttet"}, follow_redirects=True)
    assert "to_fylker har roller i et annet fylke også" in response.text
    assert env.kap12.viewer("to_fylker")  # active


def test_a_person_only_of_another_county_is_unknown_to_the_administrator(fresh_env):
    person_of_another_county(fresh_env.kap12, "revisor", "fremmed")
    admin = login(fresh_env.app, "admin")
    assert "fremmed" not in admin.get("/drift/personer").text
    response = admin.post("/drift/personer/deaktiver", data={
        "_csrf": csrf_of(admin.get("/drift/personer").text), "brukernavn": "fremmed", "grunn": "x"},
        follow_redirects=True)
    assert "Brukeren «fremmed» finnes ikke." in response.text
    assert fresh_env.kap12.viewer("fremmed")
    assert admin.get("/drift/personer/personliste.csv?fylke=Et annet fylke").status_code == 404
    assert "fremmed" not in _listing(admin)


def test_deactivating_from_the_list_logs_out_and_says_what_followed(fresh_env):
    env = fresh_env
    gone = login(env.app, "ansatt2")
    admin = login(env.app, "admin")
    token = csrf_of(admin.get("/drift/personer").text)
    refused = admin.post("/drift/personer/deaktiver", data={"_csrf": token, "brukernavn": "ansatt2", "grunn": " "},
                         follow_redirects=True)
    assert "Skriv hvorfor personen deaktiveres" in refused.text and gone.get("/oppgaver").status_code == 200
    own = admin.post("/drift/personer/deaktiver", data={"_csrf": token, "brukernavn": "admin", "grunn": "x"},
                     follow_redirects=True)
    assert "Du kan ikke deaktivere deg selv." in own.text
    done = admin.post("/drift/personer/deaktiver", data={"_csrf": token, "brukernavn": "ansatt2",
                                                          "grunn": "sluttet 30.11."}, follow_redirects=True)
    assert "Per Faglærer er deaktivert og logget ut overalt." in done.text
    assert gone.get("/oppgaver").status_code == 302
    assert 'Per Faglærer (ansatt2) <span class="badge badge-grey">deaktivert' in done.text  # roles kept


def test_a_forged_carried_file_is_refused_and_changes_nothing(fresh_env):
    admin = login(fresh_env.app, "admin")
    token = csrf_of(admin.get("/drift/personer").text)
    bomb = base64.b64encode(zlib.compress(b"a" * (3 * 1024 * 1024), 9)).decode()
    for carried, status in (("ikke base64!", 400), (base64.b64encode(b"ikke zlib").decode(), 400), (bomb, 413)):
        response = admin.post("/drift/personer/importer", data={"_csrf": token, "handling": "importer",
                                                                "fil_data": carried})
        assert response.status_code == status
    assert _directory_events(fresh_env) == []


def test_the_countys_auditor_reads_what_the_administrator_changed_and_no_other_county_does(fresh_env):
    env = fresh_env
    admin = login(env.app, "admin")
    _confirm(admin, _upload(admin, _listing(admin) + f"nina;Nina Ny;nina@x.no;{NORDLI};ansatt;\n"))
    token = csrf_of(admin.get("/drift/personer").text)
    admin.post("/drift/personer/deaktiver", data={"_csrf": token, "brukernavn": "ansatt2", "grunn": "sluttet 30.11."})

    auditor = login(env.app, "revisor")
    assert "/revisjon/system" in auditor.get("/revisjon").text
    page = auditor.get("/revisjon/system").text
    assert "Personlisten for Innlandet fylkeskommune (demo) lest inn" in page and "Fil: ansatte.csv, SHA-256 " in page
    assert f"nina (Nina Ny): ny, får rollen «Ansatt» ved {NORDLI}" in page
    assert page.index("Deaktivert i Innlandet fylkeskommune (demo)") < page.index("Personlisten for")  # newest first
    assert "Begrunnelse: sluttet 30.11." in page and "Arne Administrator" in page
    assert "Prosessen «" in page  # the versions every county runs
    only_versions = auditor.get("/revisjon/system?vis=prosesser").text
    assert "Prosessen «" in only_versions and "Personlisten for" not in only_versions
    assert auditor.get("/revisjon/system?vis=noe-annet").status_code == 200  # an unknown filter shows all

    person_of_another_county(env.kap12, "revisor", "revisor_annet", "annet-fylke-1")
    elsewhere = login(env.app, "revisor_annet", "annet-fylke-1").get("/revisjon/system").text
    assert "Prosessen «" in elsewhere and "Nina Ny" not in elsewhere and "ansatte.csv" not in elsewhere
    for username in ("rektor", "skoleeier", "ansatt", "prosesseier"):
        assert login(env.app, username).get("/revisjon/system").status_code == 403
    assert "/revisjon/system?vis=personer" in admin.get("/drift/personer").text  # the administrator's own imports
    own = admin.get("/revisjon/system?vis=personer").text
    assert "Personlisten for Innlandet fylkeskommune (demo) lest inn" in own and "← Personer og roller" in own


def test_each_change_is_said_in_the_readers_language(fresh_env):
    admin = login(fresh_env.app, "admin")
    text = _listing(admin).replace("Per Faglærer", "Per Faglærer Hansen") + f"nina;Nina Ny;nina@x.no;{NORDLI};ansatt;\n"
    page = admin.get("/drift/personer")
    data = {"_csrf": csrf_of(page.text), "handling": "prov", "fil": (BytesIO(text.encode("utf-8")), "ansatte.csv")}
    english = admin.post("/drift/personer/importer", data=data, content_type="multipart/form-data",
                         headers={"Accept-Language": "en"}).text
    assert "ansatt2 (Per Faglærer Hansen): new name" in english
    assert f"nina (Nina Ny): new, gets the role “Member of staff” at {NORDLI}" in english  # the school as named
    listed = admin.get("/drift/personer", headers={"Accept-Language": "en"}).text
    assert f"Head teacher / deputy head at {NORDLI}" in listed and f" ved {NORDLI}" not in listed


def test_a_files_problems_are_said_in_the_readers_language(fresh_env):
    """The file's format is Norwegian (its column names and role codes stay as they are), but
    what is wrong with it is said in the page's language, line by line."""
    admin = login(fresh_env.app, "admin")
    text = ("brukernavn;navn;epost;skole;roller\n"
            "ola nordmann;Ola;ola@x;;lærer\n")
    for language, expected in (
            ("en", ["Line 2: the user name “ola nordmann” cannot be used", "Line 2: “ola@x” is not an e-mail address.",
                    "Line 2: unknown role «lærer» (the roles are ansatt, ", "Nothing has changed."]),
            ("nn", ["Linje 2: brukarnamnet «ola nordmann» kan ikkje brukast", "Linje 2: ukjend rolle «lærer»"])):
        page = admin.get("/drift/personer")
        data = {"_csrf": csrf_of(page.text), "handling": "prov", "fil": (BytesIO(text.encode("utf-8")), "ansatte.csv")}
        refused = admin.post("/drift/personer/importer", data=data, content_type="multipart/form-data",
                             headers={"Accept-Language": language})
        assert refused.status_code == 422
        for words in expected:
            assert words in refused.text, (language, words)
