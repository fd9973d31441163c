"""Norwegian words and display formats for what the engine returns: dates in Oslo time, roles,
statuses, history events and stored form values."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from processes.deadlines import OSLO, format_local, humanize_delta
from processes.roles import PROCEDURE_LABELS, ROLES

STATUS_WORDS = {"open": "Under behandling", "closed": "Avsluttet"}

# The plain Norwegian words for who a task goes to.
ROLE_WORDS = {
    "ansatt": "en ansatt",
    "avdelingsleder": "avdelingsleder",
    "rektor": "rektor eller ass. rektor",
    "skoleeier": "skoleeier (sentral skoleledelse i fylkeskommunen)",
    "revisor": "revisor",
}

# Family may bring the case to Statsforvaltaren once it is taken up with rektor and a week has
# passed (opplæringslova § 12-6).
STATSFORVALTER_WAIT = timedelta(days=7)


def when(dt: datetime | None) -> str:
    return format_local(dt) if dt else "–"


def short(dt: datetime | None) -> str:
    return dt.astimezone(OSLO).strftime("%d.%m.%Y kl. %H:%M") if dt else "–"


def day(value) -> str:
    if isinstance(value, datetime):
        return value.astimezone(OSLO).strftime("%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).strftime("%d.%m.%Y") + (
                f" kl. {value[11:16]}" if len(value) > 10 else "")
        except ValueError:
            return value
    return str(value)


def deadline(due: datetime | None, now: datetime) -> dict | None:
    """{"text", "overdue"} for a deadline badge."""
    if due is None:
        return None
    seconds = (due - now).total_seconds()
    if seconds < 0:
        return {"overdue": True, "text": f"Forfalt for {humanize_delta(seconds)} siden"}
    return {"overdue": False, "text": f"Om {humanize_delta(seconds)}"}


def deadline_outcome(row) -> str:
    """How a deadline went, in words: «Holdt (2 t før fristen)», «Oversittet med 1 dag» …"""
    span = humanize_delta(row.seconds_late)
    return {
        "met": f"Holdt ({span} før fristen)" if row.seconds_late < -60 else "Holdt",
        "missed": f"Oversittet med {span}",
        "open": f"Åpen – {span} igjen",
        "overdue": f"Oversittet – {span} over fristen",
        "cancelled": "Bortfalt (saken endret retning)",
    }[row.status]


def role_words(roles) -> str:
    words = [ROLE_WORDS.get(r, ROLES.get(r, r)) for r in roles]
    if not words:
        return "ingen ennå"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " eller " + words[-1]


def procedure_label(code: str) -> str:
    return PROCEDURE_LABELS.get(code, f"Prosedyre {code}")


def procedure_short(code: str) -> str:
    return {"A": "A – elev mot elev", "B": "B – ansatt mot elev", "C": "C – ledelse mot elev"}.get(code, code)


def event_text(ev) -> str:
    """One plain sentence for a history event."""
    d = ev.data or {}
    title = d.get("title") or d.get("timer") or ""
    kind = ev.kind
    if kind == "reported":
        return f"Meldte saken ({d.get('school', '')})."
    if kind == "task_opened":
        return f"Ny oppgave: «{title}» – går til {role_words(d.get('roles') or [])}."
    if kind == "task_claimed":
        return f"Tok oppgaven «{title}»."
    if kind == "task_released":
        return f"La tilbake oppgaven «{title}»."
    if kind == "task_completed":
        late = d.get("late_by_seconds") or 0
        tail = f" ({humanize_delta(late)} etter fristen)" if late > 0 else ""
        return f"Utførte «{title}»{tail}."
    if kind == "task_cancelled":
        return f"Oppgaven «{title}» ble avbrutt."
    if kind == "timer_fired":
        return f"Tidspunkt nådd: {title}."
    if kind == "deadline_missed":
        return f"Fristen gikk ut uten at oppgaven var utført ({title})."
    if kind == "reminder":
        return f"Påminnelse sendt ({title})."
    if kind == "escalated":
        return f"Saken ble meldt videre til {role_words([d['recipient_role']] if d.get('recipient_role') else [])}."
    if kind == "reclassified":
        return (f"Saken ble klassifisert om fra prosedyre {d.get('from_procedure')} til "
                f"{d.get('to_procedure')}. Begrunnelse: {d.get('reason', '')}")
    if kind == "case_closed":
        return "Saken ble avsluttet."
    if kind == "case_read":
        return "Åpnet saken."
    if kind == "migrated":
        return (f"Saken ble flyttet fra versjon {d.get('from_version')} til {d.get('to_version')} av prosessen. "
                f"Begrunnelse: {d.get('reason', '')}")
    if kind == "incident_resolved":
        return f"Feilen ved tidsfristen «{title}» er rettet: {d.get('note', '')}"
    if kind == "reviewed":
        return "Saken ble gjennomgått i lederforum." + (f" {d['comment']}" if d.get("comment") else "")
    if kind == "incident":
        return f"Teknisk feil ved tidsfristen «{title}»; driftsansvarlig må se på den."
    return kind


def value_text(field, value) -> str:
    """A stored form value as text, using the declaration's labels."""
    if value is None or value == "" or value == []:
        return "–"
    if field is None:
        return str(value)
    if field.type == "boolean":
        return "Ja" if value else "Nei"
    if field.type == "choice":
        return next((c.label for c in field.choices if c.value == value), str(value))
    if field.type == "multichoice":
        labels = {c.value: c.label for c in field.choices}
        return ", ".join(labels.get(v, v) for v in value)
    if field.type in ("date", "datetime"):
        return day(value)
    return str(value)


def register(app) -> None:
    app.jinja_env.filters.update(when=when, short=short, day=day, role_words=role_words,
                                 procedure_label=procedure_label, procedure_short=procedure_short,
                                 event_text=event_text, value_text=value_text,
                                 status_words=lambda s: STATUS_WORDS.get(s, s))
