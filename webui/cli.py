"""The ``kap12`` command. Like the web pages it only translates: from the terminal to engine
calls and back. Every command has --help; bad input ends with one line on stderr and a
non-zero exit code, never a traceback; --json prints data for scripts.

Longer than ~400 lines: one click group of short commands, each a thin translation; split by
command it would only scatter the shared exit codes and output helpers."""
from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

import click

from engine.audit.replay import verify_case
from engine.config import SettingError, Settings
from engine.errors import Conflict, Denied, Kap12Error, NotFound, Refused, database_trouble
from engine.outputs import archive_job
from engine.read.case_list import STATUSES
from engine.read.operator import all_cases, case_overview
from engine.read.queries import all_case_ids
from engine.read.readiness import SCHEMA_BEHIND
from engine.read.staff_list import staff_lines
from engine.service import Kap12
from engine.store import directory, identities, staff_file
from engine.store.directory import school_by_name
from engine.write import accounts, first_password, schools, staff_directory
from engine.write import sessions as web_sessions
from engine.write.demo import load_demo
from engine.write.timers import run_forever
from processes.deadlines import format_local, school_year_of
from processes.roles import ROLES
from webui import health, logs, serving

from .progress import Progress

EXIT_INPUT, EXIT_CONFLICT, EXIT_NOT_FOUND, EXIT_DENIED = 2, 3, 4, 5


def _engine():
    return Kap12()


def _fail(message: str, code: int = EXIT_INPUT):
    click.echo(f"kap12: {message}", err=True)
    sys.exit(code)


def _when(dt: datetime | None) -> str:
    if dt is None:
        return "–"

    return format_local(dt)


def _emit(data, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else text)


class _Group(click.Group):
    """Turns the engine's plain-sentence errors into one line and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Refused as err:
            for problem in err.problems:
                click.echo(f"kap12: {problem}", err=True)
            sys.exit(EXIT_INPUT)
        except NotFound as err:
            _fail(str(err), EXIT_NOT_FOUND)
        except Conflict as err:
            _fail(str(err), EXIT_CONFLICT)
        except Denied as err:
            _fail(str(err), EXIT_DENIED)
        except Kap12Error as err:
            errors = getattr(err, "errors", None)
            detail = f" {json.dumps(errors, ensure_ascii=False)}" if errors else ""
            _fail(f"{err}{detail}")
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except SettingError as err:
            _fail(str(err))
        except Exception as err:  # noqa: BLE001 - a bug still ends in one line; -v shows the log
            logging.getLogger("kap12").debug("unexpected error", exc_info=True)
            trouble = database_trouble(err)
            _fail(trouble or f"uventet feil: {type(err).__name__}: {err}", 1)


@click.group(cls=_Group, help="kap12 – kapittel 12-saker i skolen som BPMN-prosesser.")
@click.option("-v", "--verbose", is_flag=True, help="Vis logg.")
def main(verbose: bool) -> None:
    logs.configure(logging.INFO if verbose else logging.WARNING, Settings.from_env().log_format)


@main.command(help="Opprett eller oppgrader databasen og publiser diagrammene som følger med.")
@click.option("--json", "as_json", is_flag=True)
def init(as_json: bool) -> None:
    kap12 = _engine()
    results = kap12.init()
    rows = [{"process_id": r.process_id, "version": r.version, "new": r.created} for r in results]
    text = f"Database klar: {kap12.db.shown_url}\n" + "\n".join(
        f"  {r.process_id} v{r.version}{' (ny)' if r.created else ''}" for r in results)
    _emit(rows, as_json, text)


@main.command(help="Oppgrader databaseskjemaet (Alembic) og ingenting annet: den kjørende versjonen av kap12 "
                    "virker videre. Publiser diagrammene med «kap12 init» når alle kjører den nye.")
def migrate() -> None:
    kap12 = _engine()
    before = kap12.db.schema_revision()
    kap12.db.upgrade()
    after = kap12.db.schema_revision()
    click.echo(f"Databaseskjemaet er {'oppgradert til' if after != before else 'allerede på'} {after} "
               f"({kap12.db.shown_url}).")


@main.command(help="Publiser BPMN-filer som nye versjoner (samme innhold to ganger gir ingen ny versjon).")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--comment", default="Publisert fra kommandolinjen", help="Hvorfor endringen gjøres.")
@click.option("--json", "as_json", is_flag=True)
def deploy(files, comment: str, as_json: bool) -> None:
    loaded = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            _fail(f"Fant ikke filen {name}.")
        loaded.append((path.name, path.read_bytes()))
    kap12 = _engine()
    kap12.db.upgrade()
    results = kap12.deploy(loaded, actor=None, comment=comment)
    rows = [{"process_id": r.process_id, "version": r.version, "content_hash": r.content_hash, "new": r.created}
            for r in results]
    _emit(rows, as_json, "\n".join(
        f"{r.process_id} v{r.version} {'publisert' if r.created else 'uendret (finnes fra før)'}" for r in results))


@main.command(help="Last inn et demofylke med to skoler, brukere for hver rolle og noen saker.")
@click.option("--json", "as_json", is_flag=True)
def demo(as_json: bool) -> None:
    kap12 = _engine()
    kap12.init()
    logins = load_demo(kap12)
    # Grouped by where each person works, so it is plain which school a log-in belongs to.
    places = list(dict.fromkeys(u["school"] for u in logins))
    lines = [f"Demobrukere (passord {logins[0]['password']} for alle):"] if logins else []
    for place in places:
        lines.append(f"\n  {place}")
        lines += [f"    {u['username']:<15} {u['name']:<20} {u['role']:<15} {u['note']}".rstrip()
                  for u in logins if u["school"] == place]
    _emit(logins, as_json, "\n".join(lines))


def _viewer_or_all(kap12, user: str | None):
    return kap12.viewer(user) if user else None


@main.command(help="List saker (alle, eller de en bruker kan se med --user).")
@click.option("--user", help="Vis det denne brukeren kan se.")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--json", "as_json", is_flag=True)
def cases(user: str | None, status: str | None, as_json: bool) -> None:
    kap12 = _engine()
    viewer = _viewer_or_all(kap12, user)
    rows = kap12.cases_for(viewer, status) if viewer else all_cases(kap12, status)
    data = [{"id": c.id, "number": c.number, "school": c.school, "procedure": c.procedure, "status": c.status,
             "stage": c.stage, "next_deadline": c.next_deadline, "open_tasks": c.open_tasks} for c in rows]
    text = "\n".join(f"{c.number:<12} {c.procedure} {c.status:<7} {c.stage[:50]:<50} frist: {_when(c.next_deadline)}"
                     for c in rows) or "Ingen saker."
    _emit(data, as_json, text)


@main.command(help="Vis én sak: prosedyre, fase, åpne oppgaver og neste frist.")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def case(case_id: int, as_json: bool) -> None:
    overview = case_overview(_engine(), case_id)
    lines = [f"Sak {overview['number']} – prosedyre {overview['procedure']} – {overview['status']}",
             f"Skole: {overview['school']}", f"Fase: {overview['stage']}",
             f"Neste frist: {_when(overview['next_deadline'])}", "Åpne oppgaver:"]
    lines += [f"  {t['id']}  {t['title']} ({t['lane']}) frist {_when(t['due_at'])}" for t in overview["tasks"]] or ["  ingen"]
    lines += ["Ventende tidsfrister:"]
    lines += [f"  {t['name']} ({t['kind'] or 'tid'}) {_when(t['due_at'])}" for t in overview["timers"]] or ["  ingen"]
    _emit(overview, as_json, "\n".join(lines))


@main.command(help="List oppgavene en bruker kan gjøre nå.")
@click.option("--user", required=True)
@click.option("--json", "as_json", is_flag=True)
def tasks(user: str, as_json: bool) -> None:
    kap12 = _engine()
    rows = kap12.tasks_for(kap12.viewer(user))
    data = [{"id": t.id, "case_id": t.case_id, "title": t.title, "form": t.form_key, "lane": t.lane,
             "assignee_id": t.assignee_id, "due_at": t.due_at} for t in rows]
    _emit(data, as_json, "\n".join(f"{t.id}  sak {t.case_id}  {t.title}  frist {_when(t.due_at)}" for t in rows)
          or "Ingen oppgaver.")


@main.command(help="Ta en oppgave (den blir din).")
@click.argument("task_id")
@click.option("--user", required=True)
def claim(task_id: str, user: str) -> None:
    kap12 = _engine()
    case = kap12.claim(kap12.viewer(user), task_id)
    click.echo(f"Oppgaven er din (sak {case.number}).")


def _form_data(data_json: str) -> dict:
    """Form data given as JSON, or as ``@file.json``: a plain message for anything else."""
    if data_json.startswith("@"):
        path = Path(data_json[1:])
        if not path.is_file():
            _fail(f"Fant ikke filen {path}.")
        data_json = path.read_text(encoding="utf-8")
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as err:
        _fail(f"--data er ikke gyldig JSON: {err.msg} (tegn {err.pos}).")
    if not isinstance(data, dict):
        _fail("--data må være et JSON-objekt.")
    return data


@main.command(help="Fullfør en oppgave med skjemadata som JSON.")
@click.argument("task_id")
@click.option("--user", required=True)
@click.option("--data", "data_json", required=True, help="Skjemadata som JSON, eller @fil.json.")
@click.option("--json", "as_json", is_flag=True)
def complete(task_id: str, user: str, data_json: str, as_json: bool) -> None:
    data = _form_data(data_json)
    kap12 = _engine()
    case = kap12.complete(kap12.viewer(user), task_id, data)
    _emit({"case_id": case.id, "number": case.number, "stage": case.stage, "status": case.status}, as_json,
          f"Utført. Sak {case.number}: {case.stage}")


@main.command(help="Klassifiser en sak om (A, B eller C) med begrunnelse.")
@click.argument("case_id", type=int)
@click.option("--user", required=True)
@click.option("--krenker", "offender", required=True, type=click.Choice(["elev", "ansatt", "ledelse"]))
@click.option("--begrunnelse", "reason", required=True)
@click.option("--anklaget", "accused", help="Brukernavnet til den anklagede (B og C).")
def reclassify(case_id: int, user: str, offender: str, reason: str, accused: str | None) -> None:
    kap12 = _engine()
    case = kap12.reclassify(kap12.viewer(user), case_id, offender, reason, accused)
    click.echo(f"Sak {case.number} følger nå prosedyre {case.procedure}.")


@main.command("avslutt", help="Avslutt en sak av annen grunn (eleven har sluttet, slått sammen med en annen sak, "
                                "gjelder ikke kapittel 12), med skjemaet «annen_avslutning» som JSON.")
@click.argument("case_id", type=int)
@click.option("--user", required=True)
@click.option("--data", "data_json", required=True, help="Skjemadata som JSON, eller @fil.json: grunn, begrunnelse, "
                                                         "eleven_hort, elevens_stemme eller hvorfor_ikke_hort …")
@click.option("--json", "as_json", is_flag=True)
def end_case(case_id: int, user: str, data_json: str, as_json: bool) -> None:
    data = _form_data(data_json)
    kap12 = _engine()
    case = kap12.end_case(kap12.viewer(user), case_id, data)
    _emit({"case_id": case.id, "number": case.number, "status": case.status}, as_json,
          f"Sak {case.number} er avsluttet. Grunnen står i historikken.")


@main.command(help="Trekk tilbake en publisert versjon som ingen saker bruker (bare administratorer); "
                   "handlingen logges i systemhistorikken.")
@click.argument("process_id")
@click.argument("number", type=int)
@click.option("--user", required=True, help="Administratorens brukernavn.")
@click.option("--begrunnelse", "reason", required=True)
def withdraw(process_id: str, number: int, user: str, reason: str) -> None:
    kap12 = _engine()
    kap12.withdraw_version(kap12.viewer(user), process_id, number, reason)
    click.echo(f"Versjon {number} av «{process_id}» er trukket tilbake.")


@main.command(help="Start skolens årshjul (forebyggende arbeid, § 12-3) for et skoleår.")
@click.option("--skole", "school", required=True, help="Skolens navn.")
@click.option("--aar", "year", type=int, help="Året skoleåret begynner (standard: skoleåret som pågår).")
def arshjul(school: str, year: int | None) -> None:
    kap12 = _engine()
    with kap12.db.reading() as session:
        school_id = school_by_name(session, school).id
    now = kap12.clock.now()
    year = year or school_year_of(now)
    case = kap12.start_prevention_cycle(None, school_id, year)
    click.echo(f"Årshjulet {case.number} er startet for {school} {year}/{year + 1}.")


@main.command(help="Registrer dager skolen er stengt (skoleferie, planleggingsdager): fristene i "
                   "arbeidsdager hopper over dem.")
@click.option("--skole", "school", required=True, help="Skolens navn.")
@click.option("--fra", "first", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Første dag (ÅÅÅÅ-MM-DD).")
@click.option("--til", "last", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="Siste dag (ÅÅÅÅ-MM-DD).")
@click.option("--navn", "name", default="", help="F.eks. «Høstferie».")
def skoleferie(school: str, first, last, name: str) -> None:
    kap12 = _engine()
    first_day, last_day = schools.add_school_closure(kap12, school, first.date(), last.date(), name)
    click.echo(f"{school}: stengt {first_day:%d.%m.%Y}–{last_day:%d.%m.%Y}"
               f"{' (' + name + ')' if name else ''}. Nye frister teller ikke disse dagene.")


@main.group(help="Koble personer hos innloggingstjenesten (Feide / OpenID Connect) til brukere i kap12. "
                 "Roller og skoler kommer fortsatt fra kap12.")
def identitet() -> None:
    pass


def _issuer(kap12, given: str | None) -> str:
    if given:
        return given
    if kap12.settings.oidc_issuer is None:
        _fail("Ingen innloggingstjeneste er satt opp (KAP12_OIDC_ISSUER); oppgi --utsteder.")
    return kap12.settings.oidc_issuer


_ISSUER_HELP = "Innloggingstjenestens utsteder (standard: KAP12_OIDC_ISSUER)."


def _bind(username: str, subject: str, issuer: str | None, *, remove: bool) -> None:
    kap12 = _engine()
    issuer = _issuer(kap12, issuer)
    act = accounts.unlink_identity if remove else accounts.link_identity
    act(kap12, username, issuer, subject)
    click.echo(f"«{subject}» hos {issuer} er ikke lenger koblet til {username}." if remove
               else f"«{subject}» hos {issuer} logger nå inn som {username}.")


@identitet.command("koble", help="Koble ID (verdien av det identifiserende kravet, f.eks. ola@skole.no) "
                                 "til brukeren BRUKER.")
@click.argument("username")
@click.argument("subject")
@click.option("--utsteder", "issuer", help=_ISSUER_HELP)
def identitet_koble(username: str, subject: str, issuer: str | None) -> None:
    _bind(username, subject, issuer, remove=False)


@identitet.command("fjern", help="Fjern koblingen mellom ID og brukeren BRUKER.")
@click.argument("username")
@click.argument("subject")
@click.option("--utsteder", "issuer", help=_ISSUER_HELP)
def identitet_fjern(username: str, subject: str, issuer: str | None) -> None:
    _bind(username, subject, issuer, remove=True)


@identitet.command("liste", help="Vis alle koblinger.")
@click.option("--json", "as_json", is_flag=True)
def identitet_liste(as_json: bool) -> None:
    with _engine().db.reading() as session:
        rows = identities.all_identities(session)
    _emit([r.__dict__ for r in rows], as_json,
          "\n".join(f"{r.username:<16} {r.subject}  ({r.issuer})" for r in rows) or "Ingen koblinger.")


@main.group(help="Personkatalogen: hvem som arbeider i fylket, og med hvilke roller. Rollene avgjør hvilke saker "
                 "og oppgaver hver person ser, og hver endring står i systemhistorikken.")
def katalog() -> None:
    pass


@katalog.command("importer", help="Les personlisten FIL (CSV: brukernavn;navn;epost;skole;roller;identitet, én linje "
                                  "per person og skole) og gjør katalogen lik den: nye personer, nye navn og adresser, "
                                  "nye roller. Med --fullstendig er listen alle: roller i fylket som listen ikke "
                                  "nevner, tas bort, og den som da ikke har noen rolle, deaktiveres. Alt eller "
                                  "ingenting: en feil i filen endrer ingenting.")
@click.argument("path", metavar="FIL", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--fylke", "county", help="Fylket listen gjelder (kan sløyfes når det bare er ett).")
@click.option("--fullstendig", "complete", is_flag=True,
              help="Listen er alle i fylket: ta bort roller den ikke nevner, deaktiver den som står uten rolle.")
@click.option("--prov", "--prøv", "dry_run", is_flag=True, help="Vis hva som ville blitt endret, og endre ingenting.")
@click.option("--nye-skoler", "create_schools", is_flag=True, help="Opprett skoler listen nevner som ikke finnes.")
@click.option("--tillat-store-endringer", "allow_large", is_flag=True,
              help="Med --fullstendig: godta at mer enn halvparten mister alle roller i fylket.")
@click.option("--utsteder", "issuer", help=_ISSUER_HELP + " Brukes for kolonnen identitet.")
@click.option("--json", "as_json", is_flag=True)
def katalog_importer(path: Path, county: str | None, complete: bool, dry_run: bool, create_schools: bool,
                     allow_large: bool, issuer: str | None, as_json: bool) -> None:
    kap12 = _engine()
    data = path.read_bytes()
    lines = staff_file.read(data)
    issuer = issuer or kap12.settings.oidc_issuer
    result = staff_directory.import_staff(kap12, lines, source=path.name, digest=staff_directory.file_digest(data),
                                          county=county, complete=complete, dry_run=dry_run,
                                          create_schools=create_schools, allow_large=allow_large, issuer=issuer)
    _directory_result(result, f"Personkatalogen for {result.county} etter {path.name}", as_json)


@katalog.command("eksporter", help="Skriv fylkets personliste (de aktive og rollene deres) i formatet «katalog "
                                   "importer» leser, til FIL eller til skjermen.")
@click.argument("path", metavar="[FIL]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fylke", "county", help="Fylket (kan sløyfes når det bare er ett).")
@click.option("--utsteder", "issuer", help=_ISSUER_HELP + " Gir kolonnen identitet.")
def katalog_eksporter(path: Path | None, county: str | None, issuer: str | None) -> None:
    kap12 = _engine()
    issuer = issuer or kap12.settings.oidc_issuer
    text = staff_file.write(staff_lines(kap12, county, issuer))
    if path is None:
        click.echo(text, nl=False)
        return
    path.write_text(text, encoding="utf-8")
    click.echo(f"Personlisten er skrevet til {path}.")


@katalog.command("deaktiver", help="Ta en person ut av tjeneste nå: ingen innlogging eller API-nøkkel virker, "
                                   "nettleserne logges ut, og oppgaver personen har tatt, går tilbake til rollen.")
@click.argument("username", metavar="BRUKER")
@click.option("--grunn", "reason", required=True, help="Hvorfor (står i systemhistorikken), f.eks. «sluttet 31.12.».")
@click.option("--json", "as_json", is_flag=True)
def katalog_deaktiver(username: str, reason: str, as_json: bool) -> None:
    result = staff_directory.deactivate(_engine(), username, reason)
    _directory_result(result, f"{username} er deaktivert", as_json)


@katalog.command("passord", help="Gi personen et førstegangspassord (for innlogging med brukernavn og passord). "
                                 "Det vises én gang, virker i 7 dager og bare til å velge sitt eget ved første "
                                 "innlogging. Personen logges ut overalt og mister API-nøklene sine; et glemt passord "
                                 "erstattes på samme måte.")
@click.argument("username", metavar="BRUKER")
@click.option("--json", "as_json", is_flag=True)
def katalog_passord(username: str, as_json: bool) -> None:
    given = first_password.give(_engine(), username)
    until = format_local(given.valid_until)
    keys = (f" Personens {given.keys_revoked} API-nøkler er trukket tilbake." if given.keys_revoked > 1 else
            " Personens API-nøkkel er trukket tilbake." if given.keys_revoked else "")
    _emit({"username": given.username, "password": given.password, "valid_until": given.valid_until.isoformat(),
           "keys_revoked": given.keys_revoked},
          as_json, f"Førstegangspassord for {given.name} ({given.username}): {given.password}\n"
                   f"Det virker til {until}, og bare til å velge et eget passord ved første innlogging.{keys} "
                   "Gi det til personen selv, ikke i samme e-post som brukernavnet.")


def _directory_result(result: staff_directory.DirectoryResult, title: str, as_json: bool) -> None:
    if as_json:
        _emit(dataclasses.asdict(result), True, "")
        return
    made = sum(c.created for c in result.changes)
    gone = sum(c.deactivated for c in result.changes)
    lines = [f"{title}: {made} nye, {len(result.changes) - made - gone} endret, {gone} deaktivert, "
             f"{result.unchanged} uendret."]
    lines += [f"  ny skole: {name}" for name in result.schools_created]
    lines += [f"  {change.describe()}" for change in result.changes]
    if result.let_go:
        lines.append("Oppgaver gitt tilbake til rollen (den som hadde tatt dem, kan ikke lenger gjøre dem):"
                     if result.applied else "Oppgaver som vil bli gitt tilbake til rollen:")
        lines += [f"  sak {t.case_number}: «{t.title}» (var tatt av {t.username})" for t in result.let_go]
    if result.not_let_go:
        lines.append("Kunne ikke gis tilbake nå (saken var opptatt); neste import prøver igjen:")
        lines += [f"  sak {t.case_number}: «{t.title}» (tatt av {t.username})" for t in result.not_let_go]
    if result.unstaffed:
        lines.append("OBS: åpne oppgaver som ingen kan ta nå. Gi rollen til noen i dag, fristene løper:")
        lines += [f"  {u.school}: {u.tasks} oppgave(r) for {' / '.join(ROLES.get(r, r) for r in u.roles)}"
                  for u in result.unstaffed]
    if not result.applied:
        lines.append("Prøvekjøring: ingenting er endret.")
    click.echo("\n".join(lines))


@main.command(help="Sett skolens målform (nb bokmål, nn nynorsk) for brev til elever og foresatte som ikke "
                   "har valgt selv i meldingen.")
@click.option("--skole", "school", required=True, help="Skolens navn.")
@click.argument("language_form", type=click.Choice(["nb", "nn"]))
def malform(school: str, language_form: str) -> None:
    schools.set_school_language_form(_engine(), school, language_form)
    click.echo(f"{school}: brev til familier skrives på {'nynorsk' if language_form == 'nn' else 'bokmål'} "
               "når familien ikke har valgt selv.")


@main.command(help="Logg ut overalt: avslutt alle innlogginger for brukerne (--user, kan gjentas) eller for alle "
                   "(--all). Nettleserne må logge inn på nytt; API-nøkler påvirkes ikke.")
@click.option("--user", "usernames", multiple=True, help="Brukernavnet (kan gjentas).")
@click.option("--all", "everyone", is_flag=True, help="Alle brukere.")
@click.option("--json", "as_json", is_flag=True)
def logout(usernames: tuple[str, ...], everyone: bool, as_json: bool) -> None:
    if everyone == bool(usernames):
        _fail("Oppgi enten --user BRUKER (en eller flere) eller --all.")
    kap12 = _engine()
    user_ids = None
    if usernames:
        with kap12.db.reading() as session:
            user_ids = [directory.user_by_username(session, name).id for name in usernames]
    ended = web_sessions.end_everywhere(kap12.db, user_ids, kap12.clock.now())
    who = "alle" if everyone else ", ".join(usernames)
    _emit({"ended": ended, "users": list(usernames) or None}, as_json,
          f"{ended} innlogging(er) avsluttet for {who}.")


@main.command(help="Utløs tidsfrister som har forfalt (--once), eller fortsett: sover til neste frist "
                   "og vekkes når et steg skriver en tidligere frist. Start flere for flere sveipere.")
@click.option("--once", is_flag=True, help="Én runde, så avslutt.")
@click.option("--idle", "--interval", "idle", default=15.0, show_default=True,
              help="Lengste søvn i sekunder mellom rundene (e-post sendes også hver runde).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--metrics-port", type=int, default=None,
              help="Vis sveiperens målinger (Prometheus) på denne porten, for en sveiper på en maskin uten "
                   "webprosesser. Bare tall, uten innlogging.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Adressen målingene vises på (loopback, eller et nett bare overvåkingen når).")
def timers(once: bool, idle: float, as_json: bool, metrics_port: int | None, metrics_host: str) -> None:
    kap12 = _engine()
    if kap12.readiness() == SCHEMA_BEHIND:  # not made or older than this release: no round can run
        _fail("Databasen er ikke oppgradert til denne versjonen av kap12: kjør «kap12 migrate» (eller «kap12 init»).", 1)
    if metrics_port is not None:
        health.serve_sweeper_metrics(kap12.settings, metrics_host, metrics_port)
    if once:
        done = kap12.sweep_round()
        result, mailed = done.fired, done.mailed
        _emit({"claimed": result.claimed, "cases_advanced": result.cases_advanced, "failures": result.failures,
               "mailed": mailed, "notices": done.notices},
              as_json, f"{result.claimed} tidsfrist(er) utløst i {result.cases_advanced} sak(er); "
                       f"{len(result.failures)} feil; {mailed} e-post(er) sendt; "
                       f"{done.notices} varsel/varsler skrevet (lederforum, oppgaver over fristen).")
        return
    click.echo("Sjekker tidsfrister (Ctrl+C eller SIGTERM stopper).")
    run_forever(kap12, stop_on_signals())


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: a process manager stops a sweeper gracefully."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@main.command(help="Kontroller at historikken ikke er endret, forkortet eller slettet (hash-kjeden og "
                   "kjedehodet per sak, og siste kontrollpunkt), og med --reexecute at lagret tilstand "
                   "følger av de registrerte handlingene. Avslutter med 0 bare når alt er i orden.")
@click.argument("case_ids", nargs=-1, type=int)
@click.option("--reexecute", is_flag=True, help="Kjør sakene på nytt fra historikken og sammenlign.")
@click.option("--checkpoint", "kept_digest", metavar="SAMMENDRAG",
              help="Sammendraget til et kontrollpunkt som er tatt vare på utenfor databasen: det må finnes, "
                   "og historikken må fortsatt inneholde det det registrerte.")
@click.option("--json", "as_json", is_flag=True)
def verify(case_ids, reexecute: bool, kept_digest: str | None, as_json: bool) -> None:
    if reexecute:
        _verify_by_reexecution(list(case_ids), as_json)
        return
    report = _engine().verify_history(list(case_ids) or None, kept_digest)
    lines = [_checkpoint_line(report.checkpoint)]
    for r in report.chains:
        lines += r.lines() or [f"{r.label}: OK ({r.events} hendelser)"]
    problems = sum(len(r.findings) for r in report.chains)
    lines.append("Alt i orden." if report.ok else f"{problems} funn: historikken er ikke hel.")
    _emit(report.as_dict(), as_json, "\n".join(lines))
    if not report.ok:
        sys.exit(1)


def _checkpoint_line(checkpoint) -> str:
    if checkpoint is None:
        return "Ingen kontrollpunkt ennå (kap12 checkpoint skriver ett)."
    return (f"Siste kontrollpunkt: nr. {checkpoint.seq}, {_when(checkpoint.at)}, {checkpoint.chains} saker, "
            f"sammendrag {checkpoint.digest}")


@main.command(help="Skriv et kontrollpunkt nå: et sammendrag av alle sakers historikk, som kan tas vare på "
                   "utenfor databasen (arkiv eller publisert) og kontrolleres med kap12 verify --checkpoint.")
@click.option("--json", "as_json", is_flag=True)
def checkpoint(as_json: bool) -> None:
    written = _engine().write_checkpoint()
    _emit(written.__dict__, as_json,
          f"Kontrollpunkt nr. {written.seq} skrevet ({written.chains} saker, {written.changed} endret siden forrige).\n"
          f"Sammendrag: {written.digest}")


def _verify_by_reexecution(case_ids: list[int], as_json: bool) -> None:
    kap12 = _engine()
    if not case_ids:
        case_ids = all_case_ids(kap12)
    results = []
    with Progress("Kjører sakene på nytt") as progress:
        for n, case_id in enumerate(case_ids, start=1):
            results.append(verify_case(kap12, case_id))
            progress(n, len(case_ids), results[-1].number)
    data = [{"case_id": r.case_id, "number": r.number, "ok": r.ok, "summary": r.summary(),
             "final_hash": r.chain.last_hash, "chain": r.chain.as_dict(),
             "divergences": [{"seq": d.seq, "what": d.what, "recorded": d.recorded, "replayed": d.replayed}
                             for d in r.divergences]} for r in results]
    lines = []
    for r in results:
        lines.append(f"{r.number}: {r.summary()} (siste hash {r.chain.last_hash[:16]}…)")
        lines += [f"  hendelse {d.seq}: {d.what}" for d in r.divergences]
        lines += [f"  {line}" for line in r.chain.lines()]
    _emit(data, as_json, "\n".join(lines) or "Ingen saker.")
    if not all(r.ok for r in results):
        sys.exit(1)


@main.command(help="Skriv Noark 5-arkivuttrekket for avsluttede saker til en mappe, for en planlagt jobb. "
                   "Samme saker gir samme pakke: kjøres jobben igjen, blir filen stående uendret. "
                   "Skriver sakene, filen og pakkens SHA-256 (også i FIL.sha256).")
@click.option("--bruker", "user", required=True, help="Hvem uttrekket lages som (skolens ledelse eller skoleeier).")
@click.option("--fra", "first", type=click.DateTime(formats=["%Y-%m-%d"]), help="Avsluttet fra og med (ÅÅÅÅ-MM-DD).")
@click.option("--til", "last", type=click.DateTime(formats=["%Y-%m-%d"]), help="Avsluttet til og med (ÅÅÅÅ-MM-DD).")
@click.option("--saker", "refs", multiple=True, help="Saksnumre (eller id-er), med komma mellom; kan gjentas.")
@click.option("--ut", "folder", required=True, type=click.Path(file_okay=False), help="Mappen pakken skrives til.")
@click.option("--json", "as_json", is_flag=True)
def arkiv(user: str, first, last, refs, folder: str, as_json: bool) -> None:
    cases = [r for ref in refs for r in ref.replace(",", " ").split()]
    if cases and (first or last):
        _fail("Bruk enten --saker eller --fra og --til, ikke begge.")
    if not cases and not (first and last):
        _fail("Oppgi perioden (--fra og --til) eller sakene (--saker).")
    kap12 = _engine()
    viewer = kap12.viewer(user)
    if cases:
        ids, name = archive_job.case_ids(kap12, cases), None
    else:
        ids = archive_job.archivable_in_period(kap12, viewer, first.date(), last.date())
        name = f"noark5-uttrekk-{first:%Y-%m-%d}_{last:%Y-%m-%d}.zip"
        if not ids:
            raise NotFound(f"Ingen avsluttede saker {user} kan arkivere fra {first:%d.%m.%Y} til {last:%d.%m.%Y}.")
    with Progress("Lager dokumentene") as progress:
        done = archive_job.write_extract(kap12, viewer, ids, Path(folder), name=name, progress=progress)
    result = done.result
    data = {"cases": list(result.case_numbers), "documents": result.documents, "file": str(done.path),
            "sha256": result.sha256, "written": done.written}
    _emit(data, as_json, "\n".join([
        f"Arkivert {len(result.case_numbers)} sak(er) med {result.documents} dokument(er): "
        + ", ".join(result.case_numbers),
        f"Fil: {done.path} ({'skrevet' if done.written else 'uendret, samme pakke fantes fra før'})",
        f"SHA-256: {result.sha256}"]))


@main.command(help="Start nettsidene under gunicorn på http://HOST:PORT, med tidsurene i en egen prosess.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(min=1),
              help="Antall webprosesser (standard: KAP12_WEB_WORKERS, ellers 1 med SQLite og 1 per kjerne "
                   "med PostgreSQL).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(min=1), help="Tråder per webprosess.")
@click.option("--no-sweeper", is_flag=True, help="Ikke start tidsurene (kjør «kap12 timers» for seg).")
def serve(host: str, port: int, workers: int | None, threads: int, no_sweeper: bool) -> None:
    settings = Settings.from_env()
    # Before anything imports prometheus-client: every process of this server shares the directory.
    serving.prepare_metrics_dir(settings)
    kap12 = _engine()
    kap12.db.upgrade()
    kap12.close()  # the workers open their own connections
    workers = workers or serving.default_workers(settings)
    level = logging.getLogger().level
    logs.say(f"kap12 kjører på http://{host}:{port} med {workers} webprosess(er)"
             f"{'' if no_sweeper else ' og tidsurene'} (Ctrl+C stopper)", settings.log_format)
    options = serving.gunicorn_options(host, port, workers, threads, logs.gunicorn_config(level, settings.log_format))
    serving.become_server(options, with_sweeper=not no_sweeper)


if __name__ == "__main__":
    main()
