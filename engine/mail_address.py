"""E-mail addresses as SMTP carries them: shared by the settings, which refuse a sender kap12
cannot send from when they are read, and by the mailer, which sends to the directory's addresses.
Plain text work only, so that ``engine.config`` can use it without importing the mailer."""
from __future__ import annotations

from email.utils import parseaddr


def one_line(text: str) -> str:
    """Header text on one line. A line break in it (a task's name written on two lines in the
    modeler goes into the subject) would end the header there, or with an empty line end the
    headers and begin the body; ``email.message.Message`` does not refuse it as
    ``EmailMessage`` did."""
    return " ".join(text.split())


def envelope(address: str) -> str:
    """The address as SMTP carries it, in ASCII: a domain in other letters in its IDNA form
    (``tromsø.kommune.no`` → ``xn--troms-zua.kommune.no``). A name part in other letters needs
    the server's SMTPUTF8, which kap12 does not ask for: ValueError, in words, as for an address
    that is none. (Given to smtplib as it was, such an address raised in the middle of a batch,
    and the mails sent before it were sent again at every round.)"""
    address = one_line(address)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"«{address}» er ikke en e-postadresse.")
    if not local.isascii():
        raise ValueError(f"E-postadressen «{address}» har bokstaver utenfor ASCII før @; kap12 kan ikke sende til den.")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        raise ValueError(f"Domenet i e-postadressen «{address}» er ugyldig.") from None


def sender_envelope(sender: str) -> str:
    """The envelope's address of ``KAP12_SMTP_FROM``, which may carry a name
    (``Nordli skole <kap12@nordli.no>``); ValueError, in words, when it is no address kap12 can
    send from."""
    return envelope(parseaddr(sender)[1])
