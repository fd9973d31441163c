"""The errors the engine raises. Each carries a plain sentence meant for the user who caused it,
in bokmål; a ``processes.messages.Message`` where the pages show it in the reader's language."""

from processes.messages import Clause, Message, bokmal


class Kap12Error(Exception):
    """Base class: ``str(error)`` is a sentence a user can read (on a page, in their language)."""

    @property
    def bokmal(self) -> str:
        """The sentence in bokmål, for what is stored and logged."""
        return bokmal(self.args[0]) if self.args else ""


class NotFound(Kap12Error):
    """The thing does not exist, or the user may not know that it exists (the same to them)."""


class Denied(Kap12Error):
    """The user may see the case but may not do this to it."""


class Conflict(Kap12Error):
    """Someone else changed the case first; nothing was written."""


class InvalidInput(Kap12Error):
    """Submitted data failed validation; ``errors`` maps field names to messages."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.errors = errors or {}


class DeployRefused(Kap12Error):
    """A diagram could not be deployed; ``problems`` holds one plain sentence per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class DamagedHistory(Kap12Error):
    """Stored history that cannot be read (altered behind kap12's back): nothing is changed;
    ``kap12 verify`` names the case and the event."""


class DiagramFailed(Conflict):
    """The diagram's own code failed while the case ran — a process owner's mistake, not the
    user's: nothing was written. A ``Conflict`` wherever no page says more (the API's 409, the
    sweeper's incident), the message names the step and who can mend it."""

    def __init__(self, element: str, reason: str | None = None):
        why = Clause(reason or Message("et uttrykk i diagrammet kunne ikke regnes ut"))
        super().__init__(Message("Prosessen stoppet ved «%(element)s»: %(why)s. Ingenting ble lagret. Gi beskjed til "
                                 "prosesseier, som kan rette diagrammet.", element=element, why=why))
        self.element, self.reason = element, reason
