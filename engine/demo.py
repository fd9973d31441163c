"""A demo county: two schools with departments, one log-in per role, and a few cases in
different stages, made through the same engine calls the pages use."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from engine.access import Viewer
from engine.store import directory
from engine.store.models import Case, User
from engine.versions.example_data import example_data
from processes import forms
from processes.deadlines import school_year_of

COUNTY = "Innlandet fylkeskommune (demo)"
SCHOOLS = {"Nordli videregående skole": ["Studiespesialisering", "Yrkesfag"],
           "Sørbakken videregående skole": ["Studiespesialisering"]}
PASSWORD = "demo1234"

# username, display name, role, school (None: the county)
PEOPLE = [
    ("ansatt", "Kari Lærer", "ansatt", "Nordli videregående skole"),
    ("ansatt2", "Per Faglærer", "ansatt", "Nordli videregående skole"),
    ("avdelingsleder", "Anne Avdelingsleder", "avdelingsleder", "Nordli videregående skole"),
    ("rektor", "Rune Rektor", "rektor", "Nordli videregående skole"),
    ("rektor2", "Siri Rektor", "rektor", "Sørbakken videregående skole"),
    ("ansatt3", "Ola Lærer", "ansatt", "Sørbakken videregående skole"),
    ("skoleeier", "Sigrid Skoleeier", "skoleeier", None),
    ("prosesseier", "Paul Prosesseier", "prosesseier", None),
    ("revisor", "Randi Revisor", "revisor", None),
    ("admin", "Arne Administrator", "administrator", None),
]


@dataclass(frozen=True)
class DemoDirectory:
    county_id: int
    schools: dict[str, int]
    users: dict[str, Viewer]


def ensure_directory(kap12) -> DemoDirectory:
    """Create the demo county, schools and people once; return them either way."""
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        county = directory.get_or_create_county(session, COUNTY)
        schools = {}
        for name, departments in SCHOOLS.items():
            school = directory.get_or_create_school(session, county, name)
            schools[name] = school
            for dep in departments:
                directory.get_or_create_department(session, school, dep)
        for username, display, role, school_name in PEOPLE:
            if session.scalars(select(User).where(User.username == username)).first() is not None:
                continue
            user = directory.create_user(session, username, display, password=PASSWORD,
                                         email=f"{username}@demo.kap12.no", now=now)
            if school_name:
                directory.grant(session, user, role, school=schools[school_name])
                if role != "ansatt":  # every leader is also an employee who can report
                    directory.grant(session, user, "ansatt", school=schools[school_name])
            else:
                directory.grant(session, user, role, county=county)
        users = {u.username: Viewer.of(u) for u in session.scalars(select(User))}
        return DemoDirectory(county.id, {n: s.id for n, s in schools.items()}, users)


def report_data(**overrides) -> dict:
    return example_data(forms.get_form("meldingsskjema"), **{
        "berorte_elever": "Emma (demo), Vg1",
        "hva_skjedde": "Emma blir holdt utenfor og får stygge meldinger i klassechatten.",
        "tid_og_sted": "Friminuttene og på kvelden, siste to uker",
        "krenker_type": "elev", "krenker_navn": "To elever i samme klasse", "anklaget_bruker": None,
        "meldt_pa_vegne_av": "elev", **overrides})


def complete_next(kap12, viewer: Viewer, case_id: int, **overrides) -> None:
    """Complete the first open task of the case that ``viewer`` may do, with example data."""
    task = next(t for t in kap12.tasks_for(viewer) if t.case_id == case_id)
    data = example_data(kap12.forms.get(task.form_key), kap12.clock.now().date(), **overrides)
    kap12.complete(viewer, task.id, data)


def load_demo(kap12) -> list[dict]:
    """The directory plus a handful of cases, once; returns the log-ins to print."""
    demo = ensure_directory(kap12)
    with kap12.db.reading() as session:
        has_cases = session.scalars(select(Case.id).limit(1)).first() is not None
    if not has_cases:
        _demo_cases(kap12, demo)
    return [{"username": u, "password": PASSWORD, "role": role, "name": name, "school": school or COUNTY}
            for u, name, role, school in PEOPLE]


def _demo_cases(kap12, demo: DemoDirectory) -> None:
    nordli = demo.schools["Nordli videregående skole"]
    u = demo.users
    # 1. A: just reported, waiting to be received.
    kap12.report(u["ansatt"], nordli, report_data())
    # 2. A: received, under investigation.
    case = kap12.report(u["ansatt"], nordli, report_data(berorte_elever="Jonas (demo), Vg2"))
    complete_next(kap12, u["avdelingsleder"], case.id)
    # 3. A: action plan running, evaluation ahead.
    case = kap12.report(u["ansatt2"], nordli, report_data(berorte_elever="Sara (demo), Vg1"))
    complete_next(kap12, u["avdelingsleder"], case.id)
    complete_next(kap12, u["avdelingsleder"], case.id, trygt_skolemiljo="nei")
    in_two_weeks = (kap12.clock.now() + timedelta(days=14)).date().isoformat()
    complete_next(kap12, u["avdelingsleder"], case.id, evalueringsdato=in_two_weeks, tiltak=[
        {"hva": "Voksen til stede i friminuttene", "nar": "Fra i morgen, hver dag", "ansvarlig": "Kontaktlærer"},
        {"hva": "Samtale med klassen om klassechatten", "nar": "Neste uke", "ansvarlig": "Avdelingsleder"}])
    # 4. B: an employee is accused; rektor has it. Per Faglærer must never see it.
    kap12.report(u["ansatt"], nordli, report_data(
        berorte_elever="Ali (demo), Vg3", krenker_type="ansatt", krenker_navn="Per Faglærer",
        anklaget_bruker="ansatt2", hva_skjedde="Eleven forteller at læreren har latterliggjort ham foran klassen."))
    # The school's yearly prevention cycle, for the school year under way.
    now = kap12.clock.now()
    kap12.start_prevention_cycle(None, nordli, school_year_of(now))
    # 5. A: closed after the investigation found the environment safe.
    case = kap12.report(u["ansatt"], nordli, report_data(berorte_elever="Maja (demo), Vg2"))
    complete_next(kap12, u["avdelingsleder"], case.id)
    complete_next(kap12, u["avdelingsleder"], case.id, trygt_skolemiljo="ja")
    complete_next(kap12, u["avdelingsleder"], case.id)
