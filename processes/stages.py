"""Where a case stands, in the words the weekly leadership forum (lederforum) uses.

The diagrams name their elements; this vocabulary sorts the open tasks and the waiting timers of
a case into a few stage categories. A process owner who adds a user task adds its element id
here; an element not listed falls back on words in its title, and then on "other".
"""
from __future__ import annotations

from collections.abc import Iterable

from processes.messages import Message

# (code, label, help) in the order a case moves through them; label and help are shown in the
# reader's language (processes/messages.py).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("meldt", Message("Meldt – ikke mottatt"), Message("Meldingen er sendt, men ikke registrert som mottatt av ledelsen.")),
    ("mottatt", Message("Mottatt"), Message("Meldingen er mottatt; skoleeier varsles eller bekrefter varselet.")),
    ("undersokes", Message("Undersøkes"), Message("Saken undersøkes: eleven høres, og den anklagede får uttale seg.")),
    ("tiltak", Message("Tiltaksplan løper"), Message("Tiltaksplanen lages, gjennomføres eller revideres, og venter på evalueringsdatoen.")),
    ("evaluering", Message("Evaluering nå"), Message("Evalueringsdatoen er nådd: tiltakene skal evalueres.")),
    ("avslutning", Message("Klar til å avslutte"), Message("Eleven har det trygt og godt: saken skal oppsummeres og avsluttes.")),
    ("annet", Message("Annet"), Message("Saken venter på noe som ikke er en av stegene over.")),
)
STAGE_LABELS: dict[str, str] = {code: label for code, label, _ in STAGES}
STAGE_HELP: dict[str, str] = {code: text for code, _, text in STAGES}
_ORDER = {code: i for i, (code, _, _) in enumerate(STAGES)}

# Element ids of user tasks and timer events in bpmn/*.bpmn.
ELEMENT_STAGE: dict[str, str] = {
    "Task_motta_melding": "meldt",
    "Task_identifisere_anklaget": "meldt",
    "Task_forsinket_mottak": "meldt",
    "Task_varsle_skoleeier": "mottatt",
    "Task_forsinket_varsel": "mottatt",
    "Task_bekreft_varsel": "mottatt",
    "Task_kontradiksjon": "undersokes",
    "Task_undersokelse": "undersokes",
    "Task_tiltaksplan": "tiltak",
    "Task_gjennomforing": "tiltak",
    "Task_revidere": "tiltak",
    "Timer_evalueringsdato": "tiltak",
    "Task_evaluering": "evaluering",
    "Task_avslutning": "avslutning",
}

# Fallback: words in a task's title (lower case), checked in this order.
TITLE_WORDS: tuple[tuple[str, str], ...] = (
    ("avslutt", "avslutning"),
    ("evaluer", "evaluering"),
    ("tiltak", "tiltak"),
    ("undersøk", "undersokes"),
    ("kontradiksjon", "undersokes"),
    ("varsel", "mottatt"),
    ("motta", "meldt"),
)

# While one of these is open the report is not yet received, whatever runs beside it (in B the
# notice to the school owner opens with the report, «straks»): the case is «meldt».
NOT_YET_RECEIVED = frozenset({"Task_motta_melding", "Task_identifisere_anklaget"})

# Reminder and deadline timers on a task say nothing about the stage by themselves.
_BOUNDARY_PREFIXES = ("Timer_paminnelse", "Timer_frist")


def stage_of_element(element_id: str, title: str = "") -> str | None:
    if element_id in ELEMENT_STAGE:
        return ELEMENT_STAGE[element_id]
    if element_id.startswith(_BOUNDARY_PREFIXES):
        return None
    low = (title or "").lower()
    return next((stage for word, stage in TITLE_WORDS if word in low), None)


def stage_of(tasks: Iterable[tuple[str, str]], timers: Iterable[tuple[str, str]] = ()) -> str:
    """The stage of an open case from its open tasks and waiting timers, each as
    (element id, title or name). With several, the one furthest along is the work front: a
    skoleeier's confirmation left open must not hide that the plan is running. But a report not
    yet received is «meldt», whatever is open beside it (``NOT_YET_RECEIVED``)."""
    tasks = list(tasks)
    if any(element in NOT_YET_RECEIVED for element, _ in tasks):
        return "meldt"
    found = [s for s in (stage_of_element(e, t) for e, t in tasks) if s]
    if not found:
        found = [s for s in (stage_of_element(e, t) for e, t in timers) if s]
    if not found:
        return "annet"
    return max(found, key=lambda s: _ORDER[s] if s != "annet" else -1)


def stage_order(code: str) -> int:
    return _ORDER.get(code, len(_ORDER))


# Where a case stands, as its row keeps it (``Case.stage``, 300 characters) for its page and the
# lists, in the diagrams' own words; the web layer shows it in the reader's language
# (webui/local_names.stage_text): the open tasks' titles, «Venter: » and a timer's name, or
# «Avsluttet».
CLOSED_STAGE = "Avsluttet"
WAITING_PREFIX = "Venter: "
STAGE_SEPARATOR = "; "
MORE_PREFIX = "+"  # the last part, when the titles did not all fit: how many more («+3»)
STAGE_ROOM = 300


def open_tasks_stage(titles: Iterable[str], room: int = STAGE_ROOM) -> str:
    """The open tasks' titles, sorted, as many whole ones as ``room`` holds and then how many
    more. (Cut at a length, a yearly cycle's many open tasks ended «… temadag om mobbing o».)"""
    ordered = sorted(set(titles))
    whole = STAGE_SEPARATOR.join(ordered)
    if len(whole) <= room:
        return whole
    for shown in range(len(ordered) - 1, 0, -1):
        text = STAGE_SEPARATOR.join([*ordered[:shown], f"{MORE_PREFIX}{len(ordered) - shown}"])
        if len(text) <= room:
            return text
    # Not even the first title fits beside the count: the start of it, cut between words.
    more = f"{STAGE_SEPARATOR}{MORE_PREFIX}{len(ordered) - 1}"
    start = ordered[0][:room - len(more) - 1].rsplit(" ", 1)[0]
    return f"{start}…{more}"


def waiting_stage(timer_name: str, room: int = STAGE_ROOM) -> str:
    return f"{WAITING_PREFIX}{timer_name}"[:room]
