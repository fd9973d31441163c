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

    def as_data(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if value}

    @classmethod
    def from_data(cls, data: dict) -> "PersonChange":
        """A change as the system chain keeps it (``as_data``), to describe again; what a later
        release adds to it is left out, not an error."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**{"username": "?", "name": "?", **known})

    def describe(self) -> str:
        parts = (["ny"] if self.created else []) + (["aktiv igjen"] if self.reactivated else []) + \
                [f"ny {what}" for what in self.updated] + [f"får {what}" for what in self.added] + \
                [f"mister {what}" for what in self.removed] + \
                ([f"logger inn som «{self.linked}»"] if self.linked else []) + \
                [f"logger ikke lenger inn som «{old}»" for old in self.unlinked] + \
                (["fikk et førstegangspassord"] if self.first_password else []) + \
                (["deaktivert"] if self.deactivated else [])
        return f"{self.username} ({self.name}): {', '.join(parts)}"
