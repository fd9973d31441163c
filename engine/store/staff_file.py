"""The staff list as a file: a county's people and their roles, one line per person and school,
as a county's user administration exports it (CSV, from a spreadsheet or an identity system).

    brukernavn;navn;epost;skole;roller;identitet
    rune.rektor;Rune Rektor;rune@nordli.no;Nordli skole;rektor ansatt;rune.rektor@nordli.no
    sara.eier;Sara Eier;sara@fylke.no;;skoleeier;sara.eier@fylke.no

Semicolons (a Norwegian spreadsheet's CSV), commas or tabs separate the columns; ``epost`` and
``identitet`` (the person's identifier at the log-in service, ``KAP12_OIDC_CLAIM``) may be
empty, and ``identitet`` may be left out. A school role needs the school; a county role (school
owner, process owner, auditor, administrator) holds for the county whatever ``skole`` says. A
person at two schools has a line for each; their name, address and identifier must agree.

Reading checks every line and reports every problem at once, by line number: a file with one
mistake changes nothing (the import is all or nothing), and the operator mends it in one go."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from engine.errors import Refused
from engine.store import cells as spreadsheet
from processes.messages import Message
from processes.roles import COUNTY_ROLES, ROLES, SCHOOL_ROLES

COLUMNS = ("brukernavn", "navn", "epost", "skole", "roller", "identitet")
REQUIRED = ("brukernavn", "navn", "skole", "roller")
# Header words a spreadsheet may give the same column.
_ALIASES = {"e-post": "epost", "e-postadresse": "epost", "rolle": "roller", "feide": "identitet"}
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")
_ROLE_SPLIT = re.compile(r"[\s,|+]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The last of a refused file's problems, for the command line (the page's heading says it).
NOTHING_CHANGED = Message("Ingenting er endret.")
# Reported at most, so that a file in the wrong format gives a screen, not thousands of lines.
MAX_PROBLEMS = 30


@dataclass(frozen=True)
class StaffLine:
    """One line of the file: a person, and their roles at one school (or in the county)."""

    line: int
    username: str
    name: str
    email: str | None
    school: str | None
    roles: tuple[str, ...]
    identity: str | None


def read(data: bytes) -> list[StaffLine]:
    """The file's lines, each checked; ``Refused`` naming every problem by line when any has one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused([Message("Filen er ikke lagret som UTF-8. Lagre den som «CSV UTF-8» og prøv igjen.")]) from None
    rows = list(csv.reader(io.StringIO(text), _dialect(text)))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise Refused([Message("Filen er tom. Den første linjen skal være kolonnenavnene: %(columns)s.",
                               columns=";".join(COLUMNS))])
    columns = _columns(rows[0])
    problems: list[Message] = []
    lines = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: (spreadsheet.read(cells[i].strip()) if i < len(cells) else "") for name, i in columns.items()}
        line, wrong = _line(number, values)
        problems += wrong
        if line is not None:
            lines.append(line)
    if not lines and not problems:
        problems.append(Message("Filen har ingen personer, bare kolonnenavnene."))
    problems += _disagreements(lines)
    if problems:
        more = len(problems) - MAX_PROBLEMS
        raise Refused(problems[:MAX_PROBLEMS] + ([Message("… og %(more)s problem(er) til.", more=more)] if more > 0 else [])
                      + [NOTHING_CHANGED])
    return lines


def _dialect(text: str) -> type[csv.Dialect]:
    header = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=header.count)

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = cell.strip().lower()
        name = _ALIASES.get(name, name)
        if name in COLUMNS and name not in found:
            found[name] = i
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise Refused([Message("Den første linjen mangler kolonnen(e) %(missing)s. Den skal være kolonnenavnene: "
                               "%(columns)s (epost og identitet kan stå tomme).", missing=", ".join(missing),
                               columns=";".join(COLUMNS))])
    return found


def _line(number: int, values: dict[str, str]) -> tuple[StaffLine | None, list[Message]]:
    problems = []
    username, name = values.get("brukernavn", ""), values.get("navn", "")
    if not _USERNAME.match(username):
        problems.append(Message("Linje %(line)s: brukernavnet «%(username)s» kan ikke brukes (bokstaver a–z, tall og "
                                ". _ @ -, høyst 100 tegn).", line=number, username=username) if username else
                        Message("Linje %(line)s: brukernavn mangler.", line=number))
    if not name:
        problems.append(Message("Linje %(line)s: navn mangler.", line=number))
    elif len(name) > 200:
        problems.append(Message("Linje %(line)s: navnet er lengre enn 200 tegn.", line=number))
    email = values.get("epost") or None
    if email is not None and (len(email) > 320 or not _EMAIL.match(email)):
        problems.append(Message("Linje %(line)s: «%(email)s» er ikke en e-postadresse.", line=number, email=email))
    identity = values.get("identitet") or None
    if identity is not None and len(identity) > 500:
        problems.append(Message("Linje %(line)s: identiteten er lengre enn 500 tegn.", line=number))
    roles = tuple(dict.fromkeys(r.lower() for r in _ROLE_SPLIT.split(values.get("roller", "")) if r))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        problems.append(Message("Linje %(line)s: ukjent rolle %(unknown)s (rollene er %(roles)s).", line=number,
                                unknown=", ".join("«" + r + "»" for r in unknown), roles=", ".join(ROLES)))
    elif not roles:
        problems.append(Message("Linje %(line)s: ingen roller. En person uten roller skal ikke stå i filen.",
                                line=number))
    school = values.get("skole") or None
    if school is None and any(r in SCHOOL_ROLES for r in roles):
        problems.append(Message("Linje %(line)s: rollen %(roles)s gjelder en skole; skriv skolens navn i kolonnen "
                                "skole.", line=number, roles=", ".join(r for r in roles if r in SCHOOL_ROLES)))
    if school is not None and roles and all(r in COUNTY_ROLES for r in roles):
        school = None  # a county role holds for the county: the school column says nothing more
    if problems:
        return None, problems
    return StaffLine(number, username, name, email, school, roles, identity), []


def _disagreements(lines: list[StaffLine]) -> list[Message]:
    """A person's lines must agree on who they are; an identifier is one person's."""
    problems = []
    first: dict[str, StaffLine] = {}
    owner: dict[str, StaffLine] = {}
    for line in lines:
        earlier = first.setdefault(line.username, line)
        for label, attribute in (("navn", "name"), ("epost", "email"), ("identitet", "identity")):
            if getattr(line, attribute) != getattr(earlier, attribute):
                problems.append(Message("Linje %(line)s: %(column)s for %(username)s er ikke den samme som på linje "
                                        "%(earlier)s.", line=line.line, column=label, username=line.username,
                                        earlier=earlier.line))
        if line.identity is not None:
            holder = owner.setdefault(line.identity, line)
            if holder.username != line.username:
                problems.append(Message("Linje %(line)s: identiteten «%(identity)s» står også for %(holder)s (linje "
                                        "%(other)s). Én identitet er én person.", line=line.line,
                                        identity=line.identity, holder=holder.username, other=holder.line))
    return problems


def write(lines: list[StaffLine]) -> str:
    """The file for these lines (``kap12 katalog eksporter``): what ``read`` reads back the same."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow([spreadsheet.safe(cell) for cell in (line.username, line.name, line.email or "",
                                                               line.school or "", " ".join(line.roles),
                                                               line.identity or "")])
    return out.getvalue()
