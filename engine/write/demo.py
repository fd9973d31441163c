"""A demo county: two schools with departments, one log-in per role, and a few cases in
different stages, made through the same engine calls the pages use."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.access import Viewer
from engine.store import directory
from engine.store.models import Case, User
from engine.versions.example_data import example_data
from processes import forms
from processes.deadlines import OSLO, school_year_of
from processes.stages import stage_of_element, stage_order

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

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


# What each log-in is for in the demo, printed by `kap12 demo` beside it.
NOTES = {
    "ansatt": "lærer; meldte de fleste demosakene",
    "ansatt2": "lærer; anklaget i demoens B-sak, og ser ingenting av den",
    "avdelingsleder": "mottar og undersøker meldinger i prosedyre A",
    "rektor": "har B-saken og Ukeoversikt for skolen",
    "rektor2": "rektor ved den andre skolen; ser ingen av Nordlis saker",
    "ansatt3": "lærer ved den andre skolen",
    "skoleeier": "fylkets skoleledelse: B- og C-saker og Ukeoversikt for alle skolene",
    "prosesseier": "prosessene og skjemaene",
    "revisor": "leser og spiller av alle saker i fylket",
    "admin": "drift, personer og roller, innlogginger",
}


@dataclass(frozen=True)
class DemoDirectory:
    county_id: int
    schools: dict[str, int]
    users: dict[str, Viewer]


def ensure_directory(kap12: Kap12) -> DemoDirectory:
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


def report_data(**overrides: Any) -> dict:
    return example_data(forms.get_form("meldingsskjema"), **{
        "berorte_elever": "Emma (demo), Vg1",
        "hva_skjedde": "Emma blir holdt utenfor og får stygge meldinger i klassechatten.",
        "tid_og_sted": "Friminuttene og på kvelden, siste to uker",
        "krenker_type": "elev", "krenker_navn": "To elever i samme klasse", "anklaget_bruker": None,
        "hendelse_dato": None,  # the form leaves it out when the reporter does not know
        "meldt_pa_vegne_av": "elev", **overrides})


def complete_next(kap12: Kap12, viewer: Viewer, case_id: int, **overrides: Any) -> None:
    """Complete the first open task of the case that ``viewer`` may do, with example data: the
    one earliest in the case's course (the receipt before the notice to the school owner that
    opens beside it in B), then the soonest due."""
    mine = [t for t in kap12.tasks_for(viewer) if t.case_id == case_id]
    task = min(mine, key=lambda t: stage_order(stage_of_element(t.element_id, t.title) or "annet"))
    data = example_data(kap12.forms.get(task.form_key), kap12.clock.now().date(), **overrides)
    kap12.complete(viewer, task.id, data)


def load_demo(kap12: Kap12) -> list[dict]:
    """The directory plus a handful of cases, once; returns the log-ins to print."""
    demo = ensure_directory(kap12)
    with kap12.db.reading() as session:
        has_cases = session.scalars(select(Case.id).limit(1)).first() is not None
    if not has_cases:
        _demo_cases(kap12, demo)
    return [{"username": u, "password": PASSWORD, "role": role, "name": name, "school": school or COUNTY,
             "note": NOTES.get(u, "")} for u, name, role, school in PEOPLE]


def _cycle_done_so_far(kap12: Kap12, leader: Viewer, case_id: int) -> None:
    """Each routine of the yearly cycle whose date has passed, recorded as done a few days
    before it by ``leader``. Some routines open when one before them is done (the school's own
    survey after the pupil survey), so the open ones are read again until none is overdue; the
    cycle has a dozen routines, and the bound keeps a diagram that opens them anew from looping."""
    now = kap12.clock.now()
    for _ in range(50):
        overdue = [(t, t.due_at) for t in kap12.case_tasks(case_id) if t.due_at is not None and t.due_at < now]
        if not overdue:
            return
        for task, due in overdue:
            done = (due - timedelta(days=3)).astimezone(OSLO).date()
            kap12.complete(leader, task.id, example_data(
                kap12.forms.get(task.form_key), now.date(), hva_ble_gjort=f"{task.title}: gjennomført som planlagt.",
                dato=done.isoformat(), hvem_deltok="Skoleledelsen og de det gjaldt", oppfolging=None))


def _story(days_ago: int, kap12: Kap12, **report: Any) -> dict:
    """A demo report: the defaults of ``report_data`` replaced by one consistent story, with the
    date it happened counted back from the engine's clock."""
    happened = (kap12.clock.now() - timedelta(days=days_ago)).date().isoformat()
    # What a story does not tell is left empty, never example text.
    untold = {"andre_som_vet": None, "elevens_beskrivelse": None, "tiltak_straks": None}
    return report_data(hendelse_dato=happened, kjent_dato=kap12.clock.now().date().isoformat(),
                       **{**untold, **report})


def _demo_cases(kap12: Kap12, demo: DemoDirectory) -> None:
    """Five made-up cases at Nordli, each a whole story from report to where it stands: every
    name is fictional and marked «(demo)»."""
    nordli = demo.schools["Nordli videregående skole"]
    u = demo.users
    today = kap12.clock.now().date()
    # 1. A: just reported by the contact teacher, waiting to be received today.
    kap12.report(u["ansatt"], nordli, _story(
        1, kap12, berorte_elever="Emma Nilsen (demo)", klasse="1STA",
        hva_skjedde="Emma fortalte i dag at to jenter i klassen har laget en Snapchat-gruppe uten henne, der de "
                    "deler bilder av henne med stygge kommentarer. Hun gråt i friminuttet og ville ikke gå inn "
                    "i timen.",
        krenkelse_art=["mobbing", "digital"], tid_og_sted="På nett (Snapchat) og i klasserommet", pagaar="ja",
        krenker_navn="To elever i 1STA", meldt_pa_vegne_av="elev",
        elevens_beskrivelse="«Alle ser på telefonen og ler når jeg kommer inn. Jeg orker ikke å være her.»",
        tiltak_straks="Snakket med Emma med en gang og sa at jeg melder fra til ledelsen i dag. Ringte mor.",
        andre_som_vet="Sidemannen til Emma i norsktimen."))
    # 2. A: received by the department head, under investigation.
    case = kap12.report(u["ansatt"], nordli, _story(
        3, kap12, berorte_elever="Jonas Berg (demo)", klasse="2ELA",
        hva_skjedde="Jonas blir kalt «homo» og dyttet inn i veggen i garderoben etter kroppsøving av tre gutter "
                    "fra parallellklassen. Det har skjedd flere ganger siden høstferien.",
        krenkelse_art=["mobbing", "diskriminering", "vold"], tid_og_sted="Garderoben ved gymsalen",
        pagaar="ja", krenker_navn="Tre elever i 2ELB", meldt_pa_vegne_av="meg_selv",
        elevens_beskrivelse="«Jeg skifter på toalettet nå, for å slippe dem.»",
        tiltak_straks="Gikk inn i garderoben og stoppet det. Sa til guttene at dette blir meldt."))
    complete_next(kap12, u["avdelingsleder"], case.id,
                  mottatt_vurdering="Gjentatt krenkelse fra flere elever, også fysisk. Undersøkes straks: samtale "
                                    "med Jonas i dag og med de tre guttene hver for seg i morgen.",
                  strakstiltak="En voksen står i garderobegangen etter hver kroppsøvingstime fra i dag.",
                  tatt_opp_dato=None, alvorlig_sak=False, foresatte_kontaktet=True)
    # 3. A: investigated, action plan running, evaluation in two weeks.
    case = kap12.report(u["ansatt2"], nordli, _story(
        10, kap12, berorte_elever="Sara Ahmed (demo)", klasse="1STB",
        hva_skjedde="Sara sitter alene i lunsjen hver dag. Noen i klassen flytter seg når hun setter seg, og en "
                    "elev sa høyt at hun «lukter krydder». Andre lo.",
        krenkelse_art=["diskriminering", "mobbing"], tid_og_sted="Kantina og klasserommet", pagaar="ja",
        krenker_navn="Flere elever i 1STB", meldt_pa_vegne_av="foresatt",
        elevens_beskrivelse="Mor forteller at Sara ikke vil spise på skolen og sier at ingen liker henne."))
    complete_next(kap12, u["avdelingsleder"], case.id,
                  mottatt_vurdering="Utestenging over tid, med en rasistisk kommentar. Må undersøkes; samtale "
                                    "med Sara og med kontaktlærer denne uken.",
                  strakstiltak="Kontaktlærer spiser i kantina med klassen de neste dagene.",
                  tatt_opp_dato=(today - timedelta(days=9)).isoformat(), alvorlig_sak=False, foresatte_kontaktet=True)
    complete_next(kap12, u["avdelingsleder"], case.id, eleven_sier="nei", trygt_skolemiljo="nei", tatt_opp_dato=None,
                  elevens_stemme="Sara sier hun gruer seg til hver lunsj, og at hun ikke tør å si fra i klassen. "
                                 "Hun vil gjerne sitte med jentene fra innføringsklassen.",
                  samtale_elev_dato=(today - timedelta(days=7)).isoformat(),
                  samtaler_andre="Kontaktlærer bekrefter at Sara har vært alene i lunsjen i flere uker.",
                  samtaler_foresatte="Mor er bekymret og vil ha jevnlig kontakt med skolen.",
                  observasjoner="Observert i kantina tre dager: Sara satt alene alle dagene.",
                  vurdering="Sara har ikke et trygt og godt skolemiljø. Skolen setter inn tiltak og lager plan.")
    in_two_weeks = (kap12.clock.now() + timedelta(days=14)).date().isoformat()
    complete_next(kap12, u["avdelingsleder"], case.id, evalueringsdato=in_two_weeks,
                  problem="Sara blir holdt utenfor i lunsjen og i klassen, og har hørt en rasistisk kommentar.",
                  elevens_stemme="Sara vil ha en voksen i nærheten i lunsjen, og ønsker ikke at klassen får vite "
                                 "at hun har sagt fra.",
                  elevens_beste="Sara må først og fremst være trygg i lunsjen. Tiltakene skjermer henne for "
                                "klassen, slik hun ønsker, og hun snakker med en voksen hun kjenner hver uke.",
                  foresatte_informert=True, tiltak=[
                      {"hva": "Voksen til stede i kantina i lunsjen", "nar": "Fra i morgen, hver skoledag",
                       "ansvarlig": "Kontaktlærer"},
                      {"hva": "Samtale med klassen om utestenging og rasisme, med helsesykepleier",
                       "nar": "Neste uke", "ansvarlig": "Avdelingsleder"},
                      {"hva": "Fast samtale med Sara", "nar": "Hver fredag til evalueringen",
                       "ansvarlig": "Kontaktlærer"}])
    # 4. B: an employee is accused; rektor has it. Per Faglærer must never see it.
    kap12.report(u["ansatt"], nordli, _story(
        1, kap12, berorte_elever="Ali Hassan (demo)", klasse="3STA",
        hva_skjedde="Ali forteller at matematikklæreren har latterliggjort ham foran klassen flere ganger, senest "
                    "i går: «Du skjønner vel ikke dette heller, Ali?» Klassen lo.",
        krenkelse_art=["annet"], tid_og_sted="Matematikktimen, rom 214", pagaar="ja",
        krenker_type="ansatt", krenker_navn="Per Faglærer", anklaget_bruker="ansatt2", meldt_pa_vegne_av="elev",
        elevens_beskrivelse="«Jeg sier ingenting i mattetimene lenger.»"))
    # The school's yearly prevention cycle, for the school year under way, with what a school
    # has done of it by now: a cycle started today would show every routine of the autumn as
    # months overdue, which reads as a school that did nothing (or as kap12 being wrong).
    now = kap12.clock.now()
    cycle = kap12.start_prevention_cycle(None, nordli, school_year_of(now))
    _cycle_done_so_far(kap12, u["rektor"], cycle.id)
    # 5. A: closed after the investigation found the environment safe.
    case = kap12.report(u["ansatt"], nordli, _story(
        20, kap12, berorte_elever="Maja Lie (demo)", klasse="2STB",
        hva_skjedde="Maja ble ikke invitert med på klassens tur, og en venninne sa at de andre ikke ville ha "
                    "henne med.",
        krenkelse_art=["annet"], tid_og_sted="Klassetur til Trysil", pagaar="vet_ikke",
        krenker_navn="Ukjent", meldt_pa_vegne_av="elev"))
    complete_next(kap12, u["avdelingsleder"], case.id,
                  mottatt_vurdering="Uklart om dette er utestenging; undersøkes med samtale med Maja.",
                  strakstiltak=None, tatt_opp_dato=None, alvorlig_sak=False, foresatte_kontaktet=False)
    complete_next(kap12, u["avdelingsleder"], case.id, trygt_skolemiljo="ja", tatt_opp_dato=None,
                  elevens_stemme="Maja sier at det var en misforståelse om påmeldingen, at hun har det bra i "
                                 "klassen og har venner der.",
                  samtale_elev_dato=(today - timedelta(days=18)).isoformat(),
                  samtaler_andre="Kontaktlærer: påmeldingen gikk via en lapp Maja ikke fikk. Ingen tegn på "
                                 "utestenging ellers.",
                  samtaler_foresatte="Far er enig i at saken kan avsluttes.",
                  observasjoner=None,
                  vurdering="Maja har et trygt og godt skolemiljø. Ingen tiltaksplan er nødvendig.")
    complete_next(kap12, u["avdelingsleder"], case.id,
                  oppsummering="Undersøkt: en misforståelse om påmelding til klassetur. Maja har et trygt og godt "
                               "skolemiljø. Familien er informert.",
                  elevens_stemme="«Det er greit nå. Jeg er med på neste tur.»",
                  foresatte_informert=True, arkivert_elements=False)
