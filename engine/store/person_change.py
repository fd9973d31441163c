"""What a staff-list import or a deactivation changes for one person: kept as data in the
system chain's event (``as_data``) and described in the words an operator, an administrator and
an auditor read (``describe``), the same on the command line and the pages."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PersonChange:
    """What changes for one person, in words an operator and an auditor read."""

    username: str
    name: str
    created: bool = False
    updated: list[str] = field(default_factory=list)  # «navn», «epost»
    reactivated: bool = False
    deactivated: bool = False
    added: list[str] = field(default_factory=list)  # «rektor ved Nordli skole»
    removed: list[str] = field(default_factory=list)
    linked: str | None = None
    unlinked: list[str] = field(default_factory=list)  # the identifiers it replaces at the same service
    first_password: bool = False  # given a first password (never the password itself)
    keys_revoked: int = 0  # the person's API keys revoked with it

    def as_data(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if value}

    @classmethod
    def from_data(cls, data: dict) -> "PersonChange":
        """A change as the system chain keeps it (``as_data``), to describe again; what a later
        release adds to it is left out, not an error."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**{"username": "?", "name": "?", **known})

    def parts(self) -> list[tuple[str, str | None]]:
        """What changed, in order, as (what, about): the pages put each in the reader's language
        (``webui/present.py``), the command line and the history's own words in bokmål."""
        found: list[tuple[str, str | None]] = []
        found += [("created", None)] if self.created else []
        found += [("reactivated", None)] if self.reactivated else []
        found += [("updated", what) for what in self.updated] + [("added", what) for what in self.added]
        found += [("removed", what) for what in self.removed] + ([("linked", self.linked)] if self.linked else [])
        found += [("unlinked", old) for old in self.unlinked]
        found += [("first_password", None)] if self.first_password else []
        found += [("keys_revoked", str(self.keys_revoked))] if self.keys_revoked else []
        found += [("deactivated", None)] if self.deactivated else []
        return found

    def describe(self) -> str:
        return f"{self.username} ({self.name}): {', '.join(BOKMAL[what](about) for what, about in self.parts())}"


# A role given or taken, as ``added`` and ``removed`` keep it: the role's code (as the staff list
# writes it) and where it holds, «rektor ved Nordli skole» or «skoleeier i Vestland». The pages
# read it back (``role_place``) to say it in the reader's language.
_AT_SCHOOL, _IN_COUNTY = " ved ", " i "


def at_school(role: str, school: str) -> str:
    return f"{role}{_AT_SCHOOL}{school}"


def in_county(role: str, county: str) -> str:
    return f"{role}{_IN_COUNTY}{county}"


def role_place(words: object) -> tuple[str, bool, str] | None:
    """(role, at a school, the school's or county's name) of ``at_school`` or ``in_county``'s
    words; None for words of another shape (an earlier release's, or damaged, even no text)."""
    if not isinstance(words, str):
        return None
    role, _, rest = words.partition(" ")
    for joint, at_a_school in ((_AT_SCHOOL.lstrip(), True), (_IN_COUNTY.lstrip(), False)):
        if rest.startswith(joint) and len(rest) > len(joint):
            return role, at_a_school, rest[len(joint):]
    return None


# The words of each part, in bokmål (``updated`` names a field: «navn», «epost»).
FIELDS = {"navn": "nytt navn", "epost": "ny e-postadresse"}
BOKMAL = {"created": lambda _: "ny", "reactivated": lambda _: "aktiv igjen",
          "updated": lambda what: FIELDS.get(what or "", f"ny {what}"),
          "added": lambda what: f"får {what}", "removed": lambda what: f"mister {what}",
          "linked": lambda who: f"logger inn som «{who}»", "unlinked": lambda who: f"logger ikke lenger inn som «{who}»",
          "first_password": lambda _: "fikk et førstegangspassord",
          "keys_revoked": lambda n: f"{n} API-nøkkel trukket tilbake" if n == "1" else f"{n} API-nøkler trukket tilbake",
          "deactivated": lambda _: "deaktivert"}
