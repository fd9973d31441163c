"""What the law needs the case process to do, whatever a process owner deploys.

``form_minimum`` keeps the fields the procedures must document; this keeps the steps. A process
owner may rename, add and move steps, but a case reported under procedure A, B or C must still
meet the duties of chapter 12 in the order the law gives them. Each walk below is a case the
check runs through the new diagrams at deploy (and when the modeler checks a diagram), with
example answers and the engine's clock moved to each deadline, and each requirement is a run of
forms that must come in that order, not necessarily next to each other. The steps are named by
their forms, as the forms are what the law's minimum is kept in. A diagram that lets such a case
skip one is refused, with the reason in the law's words.
"""
from __future__ import annotations

from dataclasses import dataclass

from processes.messages import Message


@dataclass(frozen=True)
class Requirement:
    forms: tuple[str, ...]  # forms that must come in this order
    why: Message


@dataclass(frozen=True)
class Walk:
    """A case the check follows from its report to its end."""

    offender: str  # the report's «krenker_type»: elev (A), ansatt (B), ledelse (C)
    when: Message  # the case in words, for the refusal
    # The answers given each time a form comes (its first, second … time; the last repeats).
    answers: dict[str, tuple[dict, ...]]
    requirements: tuple[Requirement, ...]


INVESTIGATED = Requirement(("undersokelse", "avslutning"), Message(
    "opplæringslova § 12-4: skolen undersøker saken før den avsluttes"))
PLANNED = Requirement(("undersokelse", "tiltaksplan", "evaluering", "avslutning"), Message(
    "opplæringslova § 12-4: sier eleven at det ikke er trygt og godt, lager skolen en skriftlig plan, "
    "og tiltakene evalueres før saken avsluttes"))
REVISED = Requirement(("undersokelse", "tiltaksplan", "evaluering", "tiltaksplan", "evaluering", "avslutning"), Message(
    "opplæringslova § 12-4: virker ikke tiltakene, revideres planen og evalueres igjen"))
OWNER_TOLD = Requirement(("varsle_skoleeier", "avslutning"), Message(
    "opplæringslova § 12-5: rektor varsler skoleeier straks når en ansatt krenker en elev"))
ACCUSED_HEARD = Requirement(("kontradiksjon", "avslutning"), Message("den anklagede skal få vite hva som er sagt, og svare"))

UNSAFE = {"trygt_skolemiljo": "nei", "eleven_sier": "nei"}
SAFE_AT_LAST = ({"evaluering_resultat": "trygt", "eleven_sier": "ja"},)

WALKS: tuple[Walk, ...] = (
    Walk("elev", Message("en elev krenker, og eleven sier at det ikke er trygt og godt"),
         {"undersokelse": (UNSAFE,), "evaluering": ({"evaluering_resultat": "revidere", "eleven_sier": "nei"},
                                                   *SAFE_AT_LAST)},
         (INVESTIGATED, PLANNED, REVISED)),
    Walk("elev", Message("en elev krenker, eleven sier at det er trygt, men skolen setter inn tiltak likevel"),
         {"undersokelse": ({"trygt_skolemiljo": "ja_tiltak", "eleven_sier": "ja"},), "evaluering": SAFE_AT_LAST},
         (INVESTIGATED, PLANNED)),
    Walk("elev", Message("en elev krenker, og undersøkelsen finner at eleven har det trygt og godt"),
         {"undersokelse": ({"trygt_skolemiljo": "ja", "eleven_sier": "ja"},)},
         (INVESTIGATED,)),
    Walk("ansatt", Message("en ansatt krenker, og eleven sier at det ikke er trygt og godt"),
         {"undersokelse": (UNSAFE,), "evaluering": SAFE_AT_LAST},
         (OWNER_TOLD, ACCUSED_HEARD, INVESTIGATED, PLANNED)),
    Walk("ledelse", Message("en i skolens ledelse krenker, og eleven sier at det ikke er trygt og godt"),
         {"undersokelse": (UNSAFE,), "evaluering": SAFE_AT_LAST},
         (ACCUSED_HEARD, INVESTIGATED, PLANNED)),
)
