"""Words and display formats for what the engine returns: dates in Oslo time, roles, statuses,
history events and stored form values. Bokmål is the source text; each string goes through
gettext, so an English page gets the English words (webui/translations)."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app, g
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from engine.read import queries
from engine.store import history
from engine.store.events import (
    ACCESS_GRANTED,
    ACCESS_WITHDRAWN,
    ACCUSED_IDENTIFIED,
    CASE_CLOSED,
    CASE_ENDED,
    CASE_NOTE,
    CASE_READ,
    DEADLINE_MISSED,
    ESCALATED,
    EVALUATION_NOW,
    INCIDENT,
    INCIDENT_RESOLVED,
    MEASURE_RECORDED,
    MEASURES_ASSIGNED,
    MIGRATED,
    OWNER_NOTICE_ASKED,
    RECLASSIFIED,
    REMINDER,
    REPORTED,
    REVIEWED,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_OPENED,
    TASK_RELEASED,
    TIMER_FIRED,
)
from engine.store.person_change import role_place
from engine.write import parties
from processes import forms
from processes.deadlines import OSLO, REPORTED_AT_ONCE_WITHIN, reporting_delay
from processes.roles import PROCEDURE_LABELS, ROLES

from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .i18n import ngettext
from .local_names import local_name, stage_text

STATUS_WORDS = {"open": _l("Under behandling"), "closed": _l("Avsluttet")}

# The plain words for who a task goes to.
ROLE_WORDS = {
    "ansatt": _l("en ansatt"),
    "avdelingsleder": _l("avdelingsleder"),
    "rektor": _l("rektor eller ass. rektor"),
    "skoleeier": _l("skoleeier (sentral skoleledelse i fylkeskommunen)"),
    "revisor": _l("revisor"),
}

# The role names of processes/roles.py, as the pages show them.
ROLE_NAMES = {
    "ansatt": _l("Ansatt"),
    "avdelingsleder": _l("Avdelingsleder"),
    "rektor": _l("Rektor / ass. rektor"),
    "skoleeier": _l("Skoleeier (sentral skoleledelse i fylket)"),
    "prosesseier": _l("Prosesseier"),
    "revisor": _l("Revisor / internkontroll"),
    "administrator": _l("Administrator"),
}

PROCEDURE_WORDS = {
    "A": _l("Prosedyre A – elev krenker elev (§ 12-4)"),
    "B": _l("Prosedyre B – ansatt krenker elev (§ 12-5)"),
    "C": _l("Prosedyre C – noen i skolens ledelse krenker elev (§ 12-5)"),
    "Å": _l("Årshjul – forebyggende arbeid (§ 12-3)"),
}

PROCEDURE_SHORT = {"A": _l("A – elev mot elev"), "B": _l("B – ansatt mot elev"), "C": _l("C – ledelse mot elev"),
                   "Å": _l("Årshjul (forebygging)")}

WEEKDAYS = (_l("mandag"), _l("tirsdag"), _l("onsdag"), _l("torsdag"), _l("fredag"), _l("lørdag"), _l("søndag"))

# Family may bring the case to Statsforvaltaren once it is taken up with rektor and a week has
# passed (opplæringslova § 12-6).


def at_time(day_text: str, time_text: str) -> str:
    return _("%(date)s kl. %(time)s", date=day_text, time=time_text)


def _date_text(d: date) -> str:
    """«27.11.2026»: as ``strftime("%d.%m.%Y")``, at a third of its cost (a list says it on every row)."""
    return f"{d.day:02}.{d.month:02}.{d.year:04}"


def _clock_text(dt: datetime) -> str:
    return f"{dt.hour:02}:{dt.minute:02}"


def when(dt: datetime | None) -> str:
    """«fredag 27.11.2026 kl. 16:00»; in English «Friday 27.11.2026 at 16:00»."""
    if not dt:
        return "–"
    local = dt.astimezone(OSLO)
    return f"{WEEKDAYS[local.weekday()]} " + at_time(_date_text(local), _clock_text(local))


def short(dt: datetime | None) -> str:
    if not dt:
        return "–"
    local = dt.astimezone(OSLO)
    return at_time(_date_text(local), _clock_text(local))


def day(value) -> str:
    if isinstance(value, datetime):
        return _date_text(value.astimezone(OSLO))
    if isinstance(value, date):
        return _date_text(value)
    if isinstance(value, str):
        try:
            text = _date_text(date.fromisoformat(value[:10]))
        except ValueError:
            return value
        return at_time(text, value[11:16]) if len(value) > 10 else text
    return str(value)


def humanize(seconds: float) -> str:
    """A short duration, «45 min», «2 t 15 min», «3 dager 4 t» (as processes.deadlines.humanize_delta),
    in the page's language. The sign is ignored."""
    total_minutes = int(abs(seconds)) // 60
    if total_minutes == 0:
        return _("under 1 min")
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        text = ngettext("%(num)d dag", "%(num)d dager", days)
        return _("%(days)s %(hours)d t", days=text, hours=hours) if hours else text
    if hours:
        return _("%(hours)d t %(minutes)d min", hours=hours, minutes=minutes) if minutes else _(
            "%(hours)d t", hours=hours)
    return _("%(minutes)d min", minutes=minutes)


def overdue_text(seconds: float) -> str:
    """How long past its deadline a step is, as people say it: «93 dager på overtid» (whole
    days once it is a day or more: the hours no longer matter), «2 t 15 min på overtid»."""
    days = int(seconds) // 86400
    if days:
        return ngettext("%(num)d dag på overtid", "%(num)d dager på overtid", days)
    return _("%(span)s på overtid", span=humanize(seconds))


class Deadline(NamedTuple):
    """A deadline badge. Attributes, not a dict's keys: a template's ``d.text`` on a dict first
    fails as an attribute (an exception, some 2.5 µs), and a list asks it on every row."""
    overdue: bool
    text: str


def deadline(due: datetime | None, now: datetime) -> Deadline | None:
    if due is None:
        return None
    seconds = (due - now).total_seconds()
    if seconds < 0:
        return Deadline(True, overdue_text(-seconds))
    return Deadline(False, _("Om %(span)s", span=humanize(seconds)))


def reporting(known: str | None, reported: datetime | None) -> dict | None:
    """How soon the report came after the reporter learned of it, for the case page:
    {"known", "days" (the county's working days), "late"}; None when the report says nothing."""
    days = reporting_delay(known, reported)
    if days is None:
        return None
    return {"known": known, "days": days, "late": days > REPORTED_AT_ONCE_WITHIN}


def deadline_outcome(row) -> str:
    """How a deadline went, in words: «Holdt (2 t før fristen)», «Oversittet med 1 dag» …"""
    span = humanize(row.seconds_late)
    if row.status == "met":
        return _("Holdt (%(span)s før fristen)", span=span) if row.seconds_late < -60 else _("Holdt")
    return {
        "missed": lambda: _("Oversittet med %(span)s", span=span),
        "open": lambda: _("Åpen – %(span)s igjen", span=span),
        "overdue": lambda: _("Oversittet – %(span)s over fristen", span=span),
        "cancelled": lambda: _("Bortfalt (saken endret retning)"),
    }[row.status]()


def role_name(code: str) -> str:
    return str(ROLE_NAMES.get(code, ROLES.get(code, code)))


def held_role(held: tuple[str, str | None]) -> str:
    """A role someone holds, (role, its school; None: a county role), as the people page lists it."""
    role, school = held
    return _("%(role)s ved %(school)s", role=role_name(role), school=school) if school else role_name(role)


# A role that is held by people with two titles: in a list each title is one more alternative,
# so «avdelingsleder, rektor eller ass. rektor», never «… eller rektor eller ass. rektor».
ROLE_ALTERNATIVES = {"rektor": (_l("rektor"), _l("ass. rektor"))}


def role_words(roles) -> str:
    """Who a task goes to, as one list with «eller» only before the last alternative."""
    words: list[str] = []
    for r in roles:
        if r in ROLE_ALTERNATIVES:
            words.extend(str(w) for w in ROLE_ALTERNATIVES[r])
        else:
            words.append(str(ROLE_WORDS.get(r, ROLE_NAMES.get(r, ROLES.get(r, r)))))
    if not words:
        return _("ingen ennå")
    if len(words) == 1:
        return words[0]
    return _("%(first)s eller %(last)s", first=", ".join(words[:-1]), last=words[-1])


def procedure_label(code: str) -> str:
    if code in PROCEDURE_WORDS:
        return str(PROCEDURE_WORDS[code])
    return PROCEDURE_LABELS.get(code) or _("Prosedyre %(code)s", code=code)


def procedure_short(code: str) -> str:
    return str(PROCEDURE_SHORT.get(code, code))


def event_text(ev) -> str:
    """One plain sentence for a history event."""
    d = ev.data or {}
    title = local_name(d.get("title") or d.get("timer") or "")
    kind = ev.kind
    if kind == REPORTED:
        return _("Meldte saken (%(school)s).", school=d.get("school", ""))
    if kind == TASK_OPENED:
        return _("Ny oppgave: «%(title)s» – går til %(who)s.", title=title, who=role_words(d.get("roles") or []))
    if kind == TASK_CLAIMED:
        return _("Tok oppgaven «%(title)s».", title=title)
    if kind == TASK_RELEASED:
        if d.get("released_from"):  # let go for someone who lost the role (engine/write/orphaned_tasks.py)
            return _("Oppgaven «%(title)s» gikk tilbake til rollen: %(name)s kan ikke lenger gjøre den "
                     "(endret i personkatalogen).", title=title, name=d["released_from"])
        return _("La tilbake oppgaven «%(title)s».", title=title)
    if kind == TASK_COMPLETED:
        late = d.get("late_by_seconds") or 0
        if late > 0:
            return _("Utførte «%(title)s» (%(span)s etter fristen).", title=title, span=humanize(late))
        return _("Utførte «%(title)s».", title=title)
    if kind == TASK_CANCELLED:
        return _("Oppgaven «%(title)s» ble avbrutt.", title=title)
    if kind == TIMER_FIRED:
        return _("Tidspunkt nådd: %(title)s.", title=title)
    if kind == DEADLINE_MISSED:
        return _("Fristen gikk ut uten at oppgaven var utført (%(title)s).", title=title)
    if kind == REMINDER:
        return _("Påminnelse sendt (%(title)s).", title=title)
    if kind == ESCALATED:
        return _("Saken ble meldt videre til %(who)s.",
                 who=role_words([d["recipient_role"]] if d.get("recipient_role") else []))
    if kind == RECLASSIFIED:
        return _("Saken ble klassifisert om fra prosedyre %(old)s til %(new)s. Begrunnelse: %(reason)s",
                 old=d.get("from_procedure"), new=d.get("to_procedure"), reason=d.get("reason", ""))
    if kind == CASE_ENDED:
        return _("Avsluttet saken av annen grunn: %(reason)s. Begrunnelse: %(text)s",
                 reason=ending_reason(d), text=(d.get("data") or {}).get("begrunnelse", ""))
    if kind == CASE_CLOSED:
        return _("Saken ble avsluttet.")
    if kind == CASE_READ:
        return _("Åpnet saken.")
    if kind == MIGRATED:
        return _("Saken ble flyttet fra versjon %(old)s til %(new)s av prosessen. Begrunnelse: %(reason)s",
                 old=d.get("from_version"), new=d.get("to_version"), reason=d.get("reason", ""))
    if kind == INCIDENT_RESOLVED:
        return _("Feilen ved tidsfristen «%(title)s» er rettet: %(note)s", title=title, note=d.get("note", ""))
    if kind == OWNER_NOTICE_ASKED:
        return _("Ba rektor varsle skoleeier: saken er alvorlig. Begrunnelse: %(reason)s", reason=d.get("reason", ""))
    if kind == CASE_NOTE:
        text = _("Notat: %(text)s", text=d.get("text", ""))
        if d.get("corrects") is not None:
            text = _("Rettelse til «%(title)s» fra %(when)s: %(text)s", title=local_name(d.get("corrects_title") or ""),
                     when=short(datetime.fromisoformat(d["corrects_at"])) if d.get("corrects_at") else "–",
                     text=d.get("text", ""))
        return _("Etter at saken ble avsluttet: %(note)s", note=text) if d.get("after_closing") else text
    if kind == REVIEWED:
        if d.get("comment"):
            return _("Saken ble gjennomgått i lederforum. %(comment)s", comment=d["comment"])
        return _("Saken ble gjennomgått i lederforum.")
    if kind == ACCESS_GRANTED:
        return _("Ga %(name)s tilgang til saken til og med %(until)s. Begrunnelse: %(reason)s",
                 name=d.get("name", ""), until=day(d.get("until", "")), reason=d.get("reason", ""))
    if kind == ACCESS_WITHDRAWN:
        if d.get("reason"):
            return _("Tilgangen for %(name)s ble trukket tilbake. %(reason)s", name=d.get("name", ""),
                     reason=d["reason"])
        return _("Tilgangen for %(name)s ble trukket tilbake.", name=d.get("name", ""))
    if kind == ACCUSED_IDENTIFIED and d.get("user_id") is None:  # named in words (engine/write/parties.py)
        return _("Registrerte %(name)s som anklaget i saken. Personen har ingen brukerkonto i kap12.",
                 name=parties.in_words(d))
    if kind == ACCUSED_IDENTIFIED:
        return _("Registrerte %(name)s som anklaget i saken.", name=d.get("name", ""))
    if kind == MEASURES_ASSIGNED:
        return _("%(name)s ble ansvarlig for %(num)s tiltak og fikk beskjed.", name=d.get("name", ""),
                 num=d.get("count", 1))
    if kind == MEASURE_RECORDED:
        note = f" {d['note']}" if d.get("note") else ""
        return _("Registrerte tiltak %(n)s («%(what)s»): %(status)s.%(note)s", n=(d.get("position") or 0) + 1,
                 what=d.get("what", ""), status=d.get("status_text", d.get("status", "")), note=note)
    if kind == EVALUATION_NOW:
        if d.get("planned_date"):
            return _("Evaluerte nå, før evalueringsdatoen %(date)s. Begrunnelse: %(reason)s",
                     date=day(d["planned_date"]), reason=d.get("reason", ""))
        return _("Evaluerte nå, før evalueringsdatoen. Begrunnelse: %(reason)s", reason=d.get("reason", ""))
    if kind == INCIDENT:
        return _("Teknisk feil ved tidsfristen «%(title)s»; driftsansvarlig må se på den.", title=title)
    return kind


def ending_reason(data: dict) -> str:
    """Why a case was ended otherwise, in the words of the ending form's choices."""
    form = forms.get_form("annen_avslutning")
    field = next((f for f in form.fields if f.name == "grunn"), None)
    return forms.value_text(field, (data.get("data") or {}).get("grunn"))


def _user_name(username: str) -> str:
    """A picked colleague by name, not by user name (each looked up once per request)."""
    known = g.setdefault("_user_names", {})
    if username not in known:
        known.update(queries.names_by_username(current_app.extensions["kap12"], [username]))
        known.setdefault(username, username)  # no such user (any more): the user name, as written
    return known[username]


def value_text(field, value) -> str:
    """A stored form value as text, using the declaration's labels (which stay in bokmål)."""
    if field is not None and field.type == "group":
        return str(value)  # groups are drawn row by row by the template
    if field is not None and field.type == "user" and value:
        return _user_name(str(value))
    return forms.value_text(field, value, yes=_("Ja"), no=_("Nei"), format_date=day)


def status_words(status: str) -> str:
    return str(STATUS_WORDS.get(status, status))


def embed_json(value) -> Markup:
    """``value`` as JSON to embed in a page (``<script type="application/json">``): <, >, & and '
    become \\u escapes, so no text a user typed (``<!--<script>``, ``</script>``) can end or
    bend the script element. Unlike Flask's ``tojson`` it keeps the keys in their order, which
    the replay page shows the data in."""
    return htmlsafe_json_dumps(value, ensure_ascii=False)


def actor_text(ev) -> str:
    """Who did what an event records; a timer's acts are always the system's."""
    return history.shown_actor(ev.kind, ev.actor)


def thousands(n: int) -> str:
    """A whole number as Norwegian writes it: 100 000 (a narrow no-break space between groups)."""
    return f"{n:,}".replace(",", "\u202f")


def _role_given(what: str | None) -> str:
    found = role_place(what or "")
    if found is None:  # words of another shape: as they stand
        return _("får %(what)s", what=what)
    role, at_a_school, place = found
    if at_a_school:
        return _("får rollen «%(role)s» ved %(place)s", role=role_name(role), place=place)
    return _("får rollen «%(role)s» i %(place)s", role=role_name(role), place=place)


def _role_taken(what: str | None) -> str:
    found = role_place(what or "")
    if found is None:
        return _("mister %(what)s", what=what)
    role, at_a_school, place = found
    if at_a_school:
        return _("mister rollen «%(role)s» ved %(place)s", role=role_name(role), place=place)
    return _("mister rollen «%(role)s» i %(place)s", role=role_name(role), place=place)


# A person's change in the staff directory (``PersonChange.parts``), in the reader's language.
_CHANGE_PARTS = {
    "created": lambda _x: _("ny"), "reactivated": lambda _x: _("aktiv igjen"),
    "updated": lambda what: _("nytt navn") if what == "navn" else _("ny e-postadresse"),
    "added": _role_given, "removed": _role_taken,
    "linked": lambda who: _("logger inn som «%(who)s»", who=who),
    "unlinked": lambda who: _("logger ikke lenger inn som «%(who)s»", who=who),
    "first_password": lambda _x: _("fikk et førstegangspassord"),
    "keys_revoked": lambda n: ngettext("%(num)d API-nøkkel trukket tilbake", "%(num)d API-nøkler trukket tilbake",
                                       int(n) if str(n).isdigit() else 0), "deactivated": lambda _x: _("deaktivert"),
}


def person_change(change) -> str:
    """«kari (Kari Lærer): ny, får rollen «Ansatt» ved Nordli skole» on the people page and
    Systemhistorikk; a part a later release adds is shown by its code, not dropped."""
    parts = [_CHANGE_PARTS[what](about) if what in _CHANGE_PARTS else what for what, about in change.parts()]
    return f"{change.username} ({change.name}): {', '.join(parts)}"


def register(app) -> None:
    app.jinja_env.filters.update(when=when, short=short, day=day, role_words=role_words, actor=actor_text,
                                 procedure_label=procedure_label, procedure_short=procedure_short,
                                 event_text=event_text, value_text=value_text, status_words=status_words,
                                 role_name=role_name, held_role=held_role, embed_json=embed_json,
                                 local_name=local_name, stage_text=stage_text, thousands=thousands,
                                 person_change=person_change)
    # A list's words, said once for the page and read on every row (``word.due``): attributes,
    # for the reason ``Deadline`` gives.
    app.jinja_env.globals.update(words=SimpleNamespace)
