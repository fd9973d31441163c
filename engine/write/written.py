"""What a person writes with an act (a reason, a note, a remark on a measure): kept as written,
trimmed, with one kind of line break, so the history, the documents and the page show the same
text whichever browser or client sent it."""
from __future__ import annotations

from engine.errors import InvalidInput
from processes.messages import Message

REASON_MAX = 2000


def as_written(text: str | None) -> str:
    return (text or "").strip().replace("\r\n", "\n")


def within(text: str, field: str, limit: int, too_long: Message) -> str:
    """``text``, or InvalidInput on ``field`` when it is longer than ``limit``."""
    if len(text) > limit:
        raise InvalidInput(too_long, {field: [Message("Skriv høyst %(max)s tegn.", max=limit)]})
    return text


def given_reason(reason: str | None, missing: Message) -> str:
    """The reason an act must give («begrunnelse»), as written, or InvalidInput: ``missing``
    says what to write when there is none."""
    reason = as_written(reason)
    if not reason:
        raise InvalidInput(Message("Begrunnelse mangler."), {"begrunnelse": [missing]})
    return within(reason, "begrunnelse", REASON_MAX, Message("Begrunnelsen er for lang."))
