"""The errors the engine raises. Each carries a plain sentence meant for the user who caused it,
in bokmål; a ``processes.messages.Message`` where the pages show it in the reader's language."""

from collections.abc import Sequence

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


class Refused(Kap12Error):
    """Input refused for several reasons at once; ``problems`` holds one plain sentence per
    problem, each shown on its own line."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class DeployRefused(Refused):
    """A diagram could not be deployed."""


class DamagedHistory(Kap12Error):
    """Stored history that cannot be read (altered behind kap12's back): nothing is changed;
    ``kap12 verify`` names the case and the event."""


class OutcomeUnknown(Kap12Error):
    """The connection to the database went while it was committing: what was sent may or may not
    be kept, and only a look at the case tells. Never "nothing was saved", never "try again",
    which could make the same report twice."""


class DiagramFailed(Conflict):
    """The diagram's own code failed while the case ran — a process owner's mistake, not the
    user's: nothing was written. A ``Conflict`` wherever no page says more (the API's 409, the
    sweeper's incident), the message names the step and who can mend it."""

    def __init__(self, element: str, reason: str | None = None):
        why = Clause(reason or Message("et uttrykk i diagrammet kunne ikke regnes ut"))
        super().__init__(Message("Prosessen stoppet ved «%(element)s»: %(why)s. Ingenting ble lagret. Gi beskjed til "
                                 "prosesseier, som kan rette diagrammet.", element=element, why=why))
        self.element, self.reason = element, reason


# What says "the database is away or busy now, try again" rather than "kap12 asked it wrongly":
# PostgreSQL's connection errors (08), shutdowns (57P01-57P03), want of resources (53), and a
# lock or a time it gave up on; SQLite's locked or unopenable file. A syntax error or an unknown
# column is an OperationalError too in SQLite's driver: a bug, and a 500 with its traceback.
_AWAY_STATES = ("08", "57P0", "53")
_GAVE_UP_STATES = {"40P01", "55P03", "57014", "40001"}
_SQLITE_AWAY = ("database is locked", "unable to open database file", "disk I/O error", "database or disk is full")


def _driver_error(err: BaseException) -> BaseException | None:
    """The driver's OperationalError behind ``err`` (SQLAlchemy's wraps it), or None."""
    cause = getattr(err, "orig", None) or err
    # By name, not class: engine.errors imports no driver. psycopg raises subclasses
    # (QueryCanceled, DeadlockDetected, AdminShutdown …).
    return cause if any(kind.__name__ == "OperationalError" for kind in type(cause).__mro__) else None


def connection_lost(err: BaseException) -> bool:
    """PostgreSQL's connection went (or never came): no server said what became of the statement."""
    if getattr(err, "connection_invalidated", False):  # SQLAlchemy saw the connection go
        return True
    cause = _driver_error(err)
    if cause is None or not type(cause).__module__.startswith("psycopg"):
        return False
    state = getattr(cause, "sqlstate", None)
    return state is None or state.startswith(("08", "57P0"))  # no answer; connection errors, shutdowns


def database_away(err: BaseException) -> bool:
    """The database did not answer, or gave up on a lock or a time: nothing was done, and the
    same request may well succeed in a moment."""
    if connection_lost(err):
        return True
    cause = _driver_error(err)
    if cause is None:
        return False
    if type(cause).__module__.startswith("sqlite3"):
        return str(cause).startswith(_SQLITE_AWAY)
    state = getattr(cause, "sqlstate", None) or ""
    return state.startswith(_AWAY_STATES) or state in _GAVE_UP_STATES


def database_trouble(err: BaseException) -> str | None:
    """A plain sentence for a database that kap12 cannot use — not made yet, away, a URL it cannot
    read — or None for any other failure. For the command line and the sweeper's log, where the
    driver's own words came as a page of SQL and a traceback (reviewed)."""
    cause = getattr(err, "orig", None) or err
    text = str(cause).strip()
    if getattr(cause, "sqlstate", None) == "42P01" or text.startswith("no such table"):
        return "Databasen har ikke tabellene til kap12 ennå: kjør «kap12 init» først."
    if "Can't load plugin: sqlalchemy.dialects:postgres" in str(err):
        return "KAP12_DATABASE_URL må begynne med «postgresql+psycopg://», ikke «postgres://»."
    if database_away(err):
        return f"Får ikke brukt databasen: {text.splitlines()[0] if text else type(cause).__name__}"
    return None
