"""What the law needs the bundled forms to keep, whatever a process owner publishes.

A process owner may reword a form, add fields, or make more of them required. What the
procedures must document stays: the five points of an action plan and the pupil's voice (§ 12-4)
— at every ending too, or why the pupil could not be heard —
when the reporter learned of it (reporting at once), when the school owner was told (§ 12-5),
and the answers the diagrams route by, with the refusals that bind the outcome to what the pupil
says. A version that drops one of them is refused when it is published, with the reason in the
law's words. Versions already stored are read as they are: this is a rule for publishing.
"""
from __future__ import annotations

from dataclasses import dataclass

from processes.forms import Field, Form
from processes.messages import Message


@dataclass(frozen=True)
class Kept:
    """A field a form must keep, required, with why (the law, in a few words)."""

    name: str
    why: Message
    # Answers the field must still offer (the diagrams route by them).
    choices: tuple[str, ...] = ()
    # A group: fields each row keeps, required, and fields each row keeps, perhaps optional.
    row_required: tuple[str, ...] = ()
    row_present: tuple[str, ...] = ()
    # Refusals the field must keep: (choice, other field, value), e.g. «safe» beside the pupil's «no».
    refused: tuple[tuple[str, str, str], ...] = ()
    # Required at least when another field has one of these answers: (other field, value), e.g.
    # the pupil's voice when «was the pupil heard?» is «yes». Empty: required always.
    when: tuple[tuple[str, str], ...] = ()


PUPIL_VOICE = Message("opplæringslova § 12-4: elevens syn skal høres og skrives ned")
PUPIL_SAYS = Message("opplæringslova § 12-2: elevens egen opplevelse avgjør")
DOCUMENTED = Message("opplæringslova § 12-4: skolen dokumenterer hva den har gjort")
PUPIL_WORD_BINDS = Message("opplæringslova § 12-4: sier eleven at det ikke er trygt og godt, setter skolen inn tiltak")

MINIMUM: dict[str, tuple[Kept, ...]] = {
    "meldingsskjema": (
        Kept("berorte_elever", Message("hvilke elever saken gjelder")),
        Kept("hva_skjedde", Message("hva som er meldt")),
        Kept("kjent_dato", Message("når melderen fikk vite om det: det skal meldes straks")),
        Kept("krenker_type", Message("hvem som krenker, avgjør prosedyre A, B eller C (opplæringslova §§ 12-4 og 12-5)"),
             choices=("elev", "ansatt", "ledelse")),
    ),
    "undersokelse": (
        Kept("elevens_stemme", PUPIL_VOICE),
        Kept("eleven_sier", PUPIL_SAYS, choices=("ja", "nei")),
        Kept("samtale_elev_dato", PUPIL_VOICE, when=(("eleven_sier", "ja"), ("eleven_sier", "nei"))),
        Kept("samtaler_andre", Message("opplæringslova § 12-4: skolen undersøker saken, også med andre enn eleven")),
        Kept("trygt_skolemiljo", PUPIL_WORD_BINDS, choices=("ja", "nei"), refused=(("ja", "eleven_sier", "nei"),)),
    ),
    "tiltaksplan": (
        Kept("problem", Message("opplæringslova § 12-4: planen sier hvilket problem tiltakene skal løse")),
        Kept("tiltak", Message("opplæringslova § 12-4: planen sier hvilke tiltak, når de gjennomføres og hvem som "
                               "har ansvaret"),
             row_required=("hva", "nar"), row_present=("ansvarlig_bruker", "ansvarlig")),
        Kept("evalueringsdato", Message("opplæringslova § 12-4: planen sier når tiltakene skal evalueres")),
        Kept("elevens_stemme", PUPIL_VOICE),
        Kept("elevens_beste", Message("Grunnloven § 104: barnets beste er et grunnleggende hensyn")),
    ),
    "evaluering": (
        Kept("elevens_stemme", PUPIL_VOICE),
        Kept("eleven_sier", PUPIL_SAYS, choices=("ja", "nei")),
        Kept("evaluering_resultat", PUPIL_WORD_BINDS, choices=("trygt", "fortsette", "revidere"),
             refused=(("trygt", "eleven_sier", "nei"),)),
    ),
    "avslutning": (
        Kept("oppsummering", DOCUMENTED),
        Kept("elevens_stemme", PUPIL_VOICE),
    ),
    "annen_avslutning": (
        Kept("grunn", Message("hvorfor saken avsluttes, skal stå i saken; kap12 avgjør etter svaret hvem som kan "
                              "avslutte, og når"), choices=("sluttet", "sammenslatt", "utenfor_kap12")),
        Kept("begrunnelse", DOCUMENTED),
        Kept("sammenslatt_med", Message("hvilken sak den følges opp i"), when=(("grunn", "sammenslatt"),)),
        Kept("eleven_hort", PUPIL_VOICE, choices=("ja", "nei")),
        Kept("elevens_stemme", PUPIL_VOICE, when=(("eleven_hort", "ja"),)),
        Kept("hvorfor_ikke_hort", PUPIL_VOICE, when=(("eleven_hort", "nei"),)),
    ),
    "varsle_skoleeier": (
        Kept("varslet_tidspunkt", Message("opplæringslova § 12-5: rektor varsler skoleeier straks")),
    ),
    "kontradiksjon": (
        Kept("informert_dato", Message("den anklagede skal få vite hva som er sagt, og svare")),
        Kept("tilsvar", Message("den anklagede skal få vite hva som er sagt, og svare")),
    ),
}


def problems(form: Form) -> list[str]:
    """Why ``form`` may not be published in place of a bundled form the law relies on: one
    sentence per field it drops or weakens; none for a form the law names nothing in."""
    fields = {f.name: f for f in form.fields}
    found: list[str] = []
    for kept in MINIMUM.get(form.key, ()):
        field = fields.get(kept.name)
        if field is None:
            found.append(Message("Skjemaet «%(form)s» må ha feltet %(name)s (%(why)s).",
                                 form=form.title, name=kept.name, why=kept.why))
            continue
        found.extend(_weakened(form, field, kept))
    return found


def _weakened(form: Form, field: Field, kept: Kept) -> list[str]:
    found: list[str] = []
    if not field.required:
        given = {(other, value) for other, values in field.required_when for value in values}
        if not kept.when:
            found.append(Message("Feltet «%(label)s» i «%(form)s» må fylles ut (%(why)s).",
                                 label=field.label, form=form.title, why=kept.why))
        for other, value in kept.when:
            if (other, value) not in given:
                found.append(Message("Feltet «%(label)s» i «%(form)s» må fylles ut når %(other)s er «%(value)s» "
                                     "(%(why)s).", label=field.label, form=form.title, other=other, value=value,
                                     why=kept.why))
    offered = {c.value for c in field.choices}
    for value in kept.choices:
        if value not in offered:
            found.append(Message("Feltet «%(label)s» i «%(form)s» må ha svaret «%(value)s» (%(why)s).",
                                 label=field.label, form=form.title, value=value, why=kept.why))
    rows = {f.name: f for f in field.fields}
    for name in kept.row_required + kept.row_present:
        if name not in rows or (name in kept.row_required and not rows[name].required):
            found.append(Message("Hver rad i «%(label)s» i «%(form)s» må ha feltet %(name)s%(filled)s (%(why)s).",
                                 label=field.label, form=form.title, name=name, why=kept.why,
                                 filled=Message(", fylt ut") if name in kept.row_required else ""))
    refusals = {(choice, other, value) for choice, rules in field.refused_when for other, values in rules
                for value in values}
    for choice, other, value in kept.refused:
        if (choice, other, value) not in refusals:
            found.append(Message("Feltet «%(label)s» i «%(form)s» må avvise «%(choice)s» når %(other)s er «%(value)s» "
                                 "(%(why)s).", label=field.label, form=form.title, choice=choice, other=other,
                                 value=value, why=kept.why))
    return found
