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


def database_trouble(err: BaseException) -> str | None:
    """A plain sentence for a database that kap12 cannot use — not made yet, not answering, a URL
    it cannot read — or None for any other failure. For the command line and the sweeper's log,
    where the driver's own words came as a page of SQL and a traceback (reviewed)."""
    cause = getattr(err, "orig", None) or err  # SQLAlchemy's error wraps the driver's
    text = str(cause).strip()
    if getattr(cause, "sqlstate", None) == "42P01" or text.startswith("no such table"):
        return "Databasen har ikke tabellene til kap12 ennå: kjør «kap12 init» først."
    if "Can't load plugin: sqlalchemy.dialects:postgres" in str(err):
        return "KAP12_DATABASE_URL må begynne med «postgresql+psycopg://», ikke «postgres://»."
    if type(err).__name__ == "OperationalError":
        return f"Får ikke brukt databasen: {text.splitlines()[0] if text else type(cause).__name__}"
    return None
