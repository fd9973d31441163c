"""The whole case as one document, for Statsforvalteren (opplæringslova § 12-6) or for an access
request (innsyn): the procedure, each sub-duty of § 12-4 with when it was done and by whom, every
deadline met or missed and by how much, the action plans and evaluations, the pupil's own voice
at each step, the timeline, who read the case, and the result of verifying it (hash chain and
re-execution) with the final hash, so a reader can later check that nothing changed.

Everything comes from the case's history (DESIGN.md rule 5); nothing here writes, except that the
export is itself recorded as a read of the case."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from engine import access
from engine.audit.replay import verify_case
from engine.errors import Denied
from engine.read import queries
from engine.store import history
from engine.store.directory import no_such_user
from engine.store.events import (
    CASE_ENDED,
    CASE_READ,
    DEADLINE_MISSED,
    RECLASSIFIED,
    REPORTED,
    TASK_COMPLETED,
    TASK_OPENED,
)
from engine.store.models import User
from processes.deadlines import deadline_met, seconds_late, statsforvalter_from
from processes.messages import Message
from processes.roles import OFFENDER_PROCEDURE, PROCEDURE_LABELS

FORMAT = "kap12-saksutskrift/1"
VOICE_FIELDS = ("elevens_stemme", "elevens_beskrivelse")

# The sub-duties of § 12-4 (and the sharpened duty of § 12-5), by the form a step is done with.
DUTIES = {
    "meldingsskjema": "2. Melde fra",
    "motta_melding": "3. Mottak av melding",
    "forsinket_mottak": "3. Mottak av melding (forsinket – fulgt opp)",
    "varsle_skoleeier": "§ 12-5 / alvorlig sak: varsle skoleeier",
    "bekreft_varsel": "§ 12-5: skoleeier bekrefter varselet",
    "forsinket_varsel": "§ 12-5: manglende varsel fulgt opp",
    "kontradiksjon": "§ 12-5: den anklagede informert og hørt (kontradiksjon)",
    "undersokelse": "4. Undersøke saken og dokumentere",
    "tiltaksplan": "5. Utarbeide (eller revidere) tiltaksplan",
    "gjennomforing": "5. Gjennomføre tiltak",
    "evaluering": "5. Evaluere tiltak",
    "avslutning": "6. Dokumentere og avslutte",
    "annen_avslutning": "6. Dokumentere og avslutte (avsluttet av annen grunn)",
}

# Fields whose whole value names (or is) someone other than the pupil: masked as a whole.
NAME_FIELDS = ("krenker_navn", "anklaget_bruker", "andre_som_vet")
SYSTEM_ACTORS = ("kap12 (tidsur)", "kap12", "system")
MASK_NOTE = (
    "Navn på andre er skjermet der kap12 kan finne dem: ansattes navn i tidslinjen og i lesingsloggen, "
    "hele innholdet i felt som bare inneholder navn på andre (krenker, anklaget, andre som vet), og "
    "ansattes fulle navn og navnene fra disse feltene der de står i fritekst. Navn som er skrevet fritt på "
    "andre måter (elever, foresatte, fornavn alene, kallenavn, bøyde eller feilstavede navn) kan ikke "
    "finnes sikkert maskinelt. Et menneske må lese kopien før den gis ut.")


def _hours(seconds: int | None) -> str:
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = ([f"{days} d"] if days else []) + ([f"{hours} t"] if hours else []) + [f"{minutes} min"]
    return sign + " ".join(parts)


@dataclass
class _Masker:
    """Replaces other people's names with stable stand-ins ("[navn 1]", "[navn 2]", …).

    Limits (also stated in the export itself): only names kap12 knows are found — the display
    names of staff, and what was entered in the fields that hold names of others. Pupils' and
    parents' names written in free text, first names alone, nicknames and inflected or misspelt
    names are not recognised; the copy must be read by a person before it is handed out.

    Each text is searched only for the names that begin with one of its own three-letter runs
    (``by_start``), longest first, as before: every name of the directory searched in every text
    took 10 s for a case's 300 texts with a school's 1,000 staff, and 215 s with a county's
    20,000 (over the web server's time limit), as no cache kept that many patterns."""

    keep: set[str]
    known: list[str]
    aliases: dict[str, str]
    by_start: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (name, lowercased)
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, names: list[str], keep: set[str]) -> "_Masker":
        known = sorted({n.strip() for n in names if n and len(n.strip()) >= 3 and n.strip() not in keep},
                       key=lambda n: (-len(n), n))
        by_start: dict[str, list[tuple[str, str]]] = {}
        for name in known:
            by_start.setdefault(name[:3].lower(), []).append((name, name.lower()))
        return cls(keep, known, {}, by_start)

    def alias(self, name: str) -> str:
        if not name or name in self.keep or name in SYSTEM_ACTORS:
            return name
        if name not in self.aliases:
            self.aliases[name] = f"[navn {len(self.aliases) + 1}]"
        return self.aliases[name]

    def _candidates(self, value: str) -> list[str]:
        """The names in ``value``: those that begin with one of its three-letter runs (many people
        share a first name) and are in it, longest first."""
        low = value.lower()
        runs = {low[i:i + 3] for i in range(len(low) - 2)}
        found = {name for run in runs for name, name_low in self.by_start.get(run, ()) if name_low in low}
        return sorted(found, key=lambda n: (-len(n), n))

    def text(self, value):
        if isinstance(value, str):
            for name in self._candidates(value):
                pattern = self.patterns.get(name)
                if pattern is None:
                    pattern = self.patterns[name] = re.compile(re.escape(name), re.IGNORECASE)
                value = pattern.sub(lambda m, n=name: self.alias(n), value)
            return value
        if isinstance(value, list):
            return [self.text(v) for v in value]
        if isinstance(value, dict):
            return self.data(value)
        return value

    def data(self, data: dict) -> dict:
        out = {}
        for key, value in (data or {}).items():
            if key in NAME_FIELDS and value:
                out[key] = "[skjermet]"
            else:
                out[key] = self.text(value)
        return out


def _split_names(value) -> list[str]:
    if not isinstance(value, str):
        return []
    return [p.strip() for p in re.split(r",|;|\bog\b|\n", value) if len(p.strip()) >= 3]


def build_export(kap12, viewer: access.Viewer, case_id: int, *, mask: bool = False, requester: str | None = None,
                 describe: Callable | None = None) -> dict:
    """The case for Statsforvalteren, or (``mask``) a copy for an access request by ``requester``
    (a username; their own name stays). Asks the access policy; the export is recorded as a read."""
    def refuse(case, level: str) -> None:
        if level != access.FULL or not access.may_export(viewer, case):
            raise Denied(Message("Bare skoleledelsen, skoleeier og revisorer kan ta ut hele saken."))

    case, _level = kap12.case(viewer, case_id, view="eksport (skjermet)" if mask else "eksport", refuse=refuse)
    events = kap12.case_history(case_id)
    replay = verify_case(kap12, case_id)
    with kap12.db.reading() as session:
        # Every name in the directory is masked, and only for a masked copy read.
        staff_names = list(session.scalars(select(User.display_name))) if mask else []
        req = session.scalars(select(User).where(User.username == requester)).first() if requester else None
    if requester and req is None:
        raise no_such_user(requester)
    describe = describe or (lambda ev: ev.kind)

    masker = None
    if mask:
        names = staff_names + [ev.actor for ev in events]
        for ev in events:
            found = ev.data.get("report") or ev.data.get("data") or {}
            for key in NAME_FIELDS:
                names += _split_names(found.get(key))
        keep = {req.display_name} if req else set()
        masker = _Masker.build(names, keep)

    def who(name: str) -> str:
        return masker.alias(name) if masker else name

    def clean(data: dict) -> dict:
        return masker.data(data) if masker else data

    reported = next((ev for ev in events if ev.kind == REPORTED), None)
    taken_up = queries.taken_up_on(events)
    opened = {ev.data.get("task_id"): ev for ev in events if ev.kind == TASK_OPENED}
    duties, deadlines, plans, evaluations, voice, procedures = [], [], [], [], [], []
    ending: dict | None = None
    if reported is not None:
        report = reported.data.get("report", {})
        duties.append({"delplikt": DUTIES["meldingsskjema"], "steg": "Melding registrert", "utfort": reported.at.isoformat(),
                       "av": who(reported.actor)})
        procedures.append({"tidspunkt": reported.at.isoformat(),
                           "prosedyre": OFFENDER_PROCEDURE.get(report.get("krenker_type"), "A"),
                           "grunn": "Meldingen"})
        for key in VOICE_FIELDS:
            if report.get(key):
                voice.append({"tidspunkt": reported.at.isoformat(), "steg": "Melding", "felt": key,
                              "tekst": masker.text(report[key]) if masker else report[key]})
    for ev in events:
        d = ev.data or {}
        if ev.kind in (TASK_COMPLETED, CASE_ENDED):  # an ending otherwise carries its form data too
            form = d.get("form", "")
            due = d.get("due_at")
            late = seconds_late(datetime.fromisoformat(due), ev.at) if due else None
            margin = -late if late is not None else None
            duties.append({"delplikt": DUTIES.get(form, form), "steg": d.get("title", ""), "utfort": ev.at.isoformat(),
                           "av": who(ev.actor), "frist": due,
                           "frist_holdt": None if late is None else deadline_met(late)})
            if due:
                deadlines.append({"steg": d.get("title", ""), "frist": due, "utfort": ev.at.isoformat(),
                                  "holdt": deadline_met(late), "sekunder_for_frist": max(margin, 0),
                                  "sekunder_for_sent": max(-margin, 0),
                                  "margin": _hours(margin) if margin >= 0 else "",
                                  "forsinkelse": _hours(-margin) if margin < 0 else ""})
            data = clean(d.get("data") or {})
            entry = {"tidspunkt": ev.at.isoformat(), "av": who(ev.actor), "steg": d.get("title", ""), "data": data}
            if form == "tiltaksplan":
                plans.append(entry)
            elif form == "evaluering":
                evaluations.append(entry)
            elif ev.kind == CASE_ENDED:
                ending = entry
            for key in VOICE_FIELDS:
                if data.get(key):
                    voice.append({"tidspunkt": ev.at.isoformat(), "steg": d.get("title", ""), "felt": key,
                                  "tekst": data[key]})
        elif ev.kind == DEADLINE_MISSED:
            task = opened.get(d.get("task_id"))
            due = d.get("due_at")
            deadlines.append({"steg": task.data.get("title") if task else d.get("timer", ""), "frist": due,
                              "utfort": None, "holdt": False, "fristen_gikk_ut": ev.at.isoformat(),
                              "sekunder_for_sent": seconds_late(datetime.fromisoformat(due), ev.at) if due else None,
                              "merknad": "Fristen gikk ut uten at steget var utført; saken ble fulgt opp."})
        elif ev.kind == RECLASSIFIED:
            procedures.append({"tidspunkt": ev.at.isoformat(), "prosedyre": d.get("to_procedure"),
                               "fra": d.get("from_procedure"), "grunn": masker.text(d.get("reason")) if masker else d.get("reason"),
                               "av": who(ev.actor)})
    open_now = kap12.case_tasks(case_id)
    for task in open_now:
        if task.due_at:
            late = seconds_late(task.due_at, kap12.clock.now())
            deadlines.append({"steg": task.title, "frist": task.due_at.isoformat(), "utfort": None,
                              "holdt": None if deadline_met(late) else False, "apen": True,
                              "sekunder_for_sent": max(late, 0)})

    timeline = [{"nr": ev.seq, "tidspunkt": ev.at.isoformat(), "hendelse": ev.kind, "hvem": who(history.shown_actor(ev.kind, ev.actor)),
                 "tekst": masker.text(describe(ev)) if masker else describe(ev)}
                for ev in events if ev.kind != CASE_READ]
    reads = [{"tidspunkt": ev.at.isoformat(), "hvem": who(ev.actor), "side": ev.data.get("view", "")}
             for ev in events if ev.kind == CASE_READ]
    verification = replay.as_dict()
    return {
        "format": FORMAT,
        "laget": kap12.clock.now().isoformat(),
        "laget_av": who(viewer.name),
        "skjermet": bool(mask),
        "skjerming": MASK_NOTE if mask else None,
        "innsyn_for": req.display_name if (mask and req) else None,
        "sak": {
            "saksnummer": case.number, "skole": case.school.name, "status": case.status,
            "prosedyre": case.procedure, "prosedyre_tekst": PROCEDURE_LABELS.get(case.procedure, case.procedure),
            "meldt": reported.at.isoformat() if reported else None,
            "tatt_opp_med_skolen": taken_up,
            "kan_bringes_inn_for_statsforvalteren_fra": (statsforvalter_from(taken_up).isoformat()
                                                          if taken_up else None),
            "avsluttet": case.closed_at.isoformat() if case.closed_at else None,
            "eskalert": case.escalated, "prosessversjon": replay.definition,
            "melding": clean(reported.data.get("report", {})) if reported else {},
        },
        "prosedyrer": procedures,
        "delplikter": duties,
        "frister": deadlines,
        "tiltaksplaner": plans,
        "evalueringer": evaluations,
        "avsluttet_av_annen_grunn": ending,
        "elevens_stemme": voice,
        "tidslinje": timeline,
        "lesinger": reads,
        "verifisering": {
            "hashkjede_ok": replay.chain.ok, "antall_hendelser": replay.chain.events,
            "siste_hash": replay.chain.last_hash, "brudd_ved_hendelse": replay.chain.broken_at,
            "brudd": replay.chain.reason, "gjenkjort_ok": replay.verified, "resultat": replay.summary(),
            "avvik": verification["divergences"],
        },
    }


def access_report(kap12, viewer: access.Viewer, case_id: int) -> list[dict]:
    """Who read the case, when, and from which page (the case_read events), oldest first."""
    case, level = kap12.case(viewer, case_id, view="lesingslogg")
    if level != access.FULL or not access.may_export(viewer, case):
        raise Denied(Message("Bare skoleledelsen, skoleeier og revisorer ser hvem som har lest saken."))
    return [{"at": ev.at, "actor": ev.actor, "actor_id": ev.actor_id, "view": ev.data.get("view", "")}
            for ev in kap12.case_history(case_id) if ev.kind == CASE_READ]
