"""Sending the notices in the outbox by e-mail.

Settings (``engine.config.MailSettings``) come from the environment: KAP12_SMTP_HOST (and
_PORT, _USER, _PASSWORD, _STARTTLS=1, _FROM). With no host set, the embedded default writes each
mail as an .eml file under instance/mail/ and logs it, so nothing is lost and a developer can
read them."""
from __future__ import annotations

import logging
import smtplib
import time
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import TYPE_CHECKING

from engine.config import MailSettings
from engine.mail_address import envelope, one_line, sender_envelope
from engine.store.models import MAIL_ATTEMPTS, Notification
from engine.write.outputs import CLAIM, NotSent, mail_waiting

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

    Mail = Message[str, str | Header]  # a header is given as text, or as a Header to encode

log = logging.getLogger("kap12.mail")
MAX_ATTEMPTS = MAIL_ATTEMPTS


# The body in UTF-8, quoted-printable: plain text stays readable as it is sent (and in the .eml files).
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP


def compose(settings: MailSettings, notice: Notification, to: str, base_url: str) -> Mail:
    """The notice as a plain-text mail. Built with the email package's classic ``Message``, not
    ``EmailMessage``: that one parses every header it is given through its header registry, and
    a mail took 0.6 ms to compose and turn into bytes against 0.2 ms here — most of the CPU the
    sweepers spent under load. What is not ASCII in a header (the subject, the sender's name) is
    encoded here (RFC 2047), as ``Message`` leaves that to its caller."""
    msg: Mail = Message()
    msg["MIME-Version"] = "1.0"
    msg.set_payload(f"{notice.body}\n\nÅpne saken i kap12: {base_url.rstrip('/')}{notice.link}\n\n"
                    "Denne e-posten inneholder ingen personopplysninger om eleven. Logg inn for å se saken.\n",
                    UTF8_QP)
    subject = one_line(notice.subject)
    msg["From"], msg["To"] = _address("From", settings.sender), one_line(to)
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject")
    msg["Date"] = format_datetime(notice.created_at)
    msg["Message-ID"] = make_msgid(domain="kap12")
    return msg


def _address(header: str, value: str) -> str | Header:
    """An address with a name (``Nordli skole <kap12@nordli.no>``): a name that is not ASCII
    encoded, the address as SMTP carries it (``envelope``)."""
    name, address = parseaddr(value)
    address = envelope(address)
    if name.isascii():
        return formataddr((name, address))
    encoded = Header(name, "utf-8", header_name=header)
    encoded.append(f"<{address}>", "us-ascii")
    return encoded


SMTP_LINES = compat32.clone(linesep="\r\n")  # as SMTP wants its lines


def _send(settings: MailSettings, sender: str, mails: list[tuple[str, Mail]]) -> list[NotSent | None]:
    """Send each (address, mail), the address as ``envelope`` gives it; for each, None when sent,
    else why not (``NotSent``). The envelope's sender is ``sender``, the address of
    ``KAP12_SMTP_FROM`` (``envelope``), not read back from the header (where a name with a comma
    in it came out as the address). Raised, before any mail is sent: the server could not be
    reached or would not let kap12 in."""
    if settings.host is None:
        return _write_all(settings, mails)
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=30)
    try:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.ehlo_or_helo_if_needed()
        return _deliver(smtp, sender, mails, time.monotonic() + ROUND_SECONDS)
    finally:
        _close(smtp)


# A refusal of MAIL FROM that is about the mail, not its sender: too large (RFC 1870).
MAIL_TOO_LARGE = 552
# A round sends no new mail after this long: a slow server must not keep it past the claim on
# its notices (``CLAIM``), when another sender would take them and send them again.
ROUND_SECONDS = CLAIM.total_seconds() / 3


def _deliver(smtp: smtplib.SMTP, sender: str, mails: list[tuple[str, Mail]], until: float) -> list[NotSent | None]:
    """Each mail over the open connection, in SMTP's steps (MAIL, RCPT, DATA), so that a failure
    says how far the mail got. A mail that fails once the server took its MAIL FROM, whatever
    the error, fails alone and counts a try while the connection stands: the mails before it stay
    sent (a whole batch counted as failed was sent again, every notice in it using up a try), and
    those after it are still tried. One that fails before — the server hung up, or refuses kap12's
    sender, as it would for every mail — is not its fault: it and the mails after it wait for the
    next round, untried. A mail that makes the connection break in its DATA counts its try, so
    that one the server cannot take is given up in time instead of stopping every round. After
    ``until`` (``time.monotonic``) the mails not begun wait for the next round, untried."""
    outcomes: list[NotSent | None] = []
    for to, msg in mails:
        if time.monotonic() > until:
            log.warning("mail round stopped after %d of %d mails: the server is slow", len(outcomes), len(mails))
            return _rest_untried(outcomes, len(mails), "e-posttjeneren svarte for sakte.")
        taken = False  # whether the server took this mail's MAIL FROM
        try:
            data = msg.as_bytes(policy=SMTP_LINES)
            code, said = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, said, sender)
            taken = True
            code, said = smtp.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to: (code, said)})
            code, said = smtp.data(data)  # raises SMTPDataError itself if the DATA command is refused
            if code != 250:
                raise smtplib.SMTPDataError(code, said)
        except Exception as err:  # noqa: BLE001 - any error: marked with this mail, never raised past the ones sent
            reason = _words(err)
            log.warning("mail to %s not sent: %s", to, reason)
            refusal = _code(err)
            if refusal == 421:  # the server is closing the connection (smtplib closes it only at times)
                smtp.close()
            own = not isinstance(err, OSError | smtplib.SMTPException)  # the mail could not be made ready
            tried = taken or own or refusal == MAIL_TOO_LARGE
            outcomes.append(NotSent(reason, tried))
            if tried:
                _reset(smtp)
            if not tried or smtp.sock is None:
                return _rest_untried(outcomes, len(mails), reason)
        else:
            outcomes.append(None)
    return outcomes


def _rest_untried(outcomes: list[NotSent | None], total: int, reason: str) -> list[NotSent | None]:
    """``outcomes`` so far, and the mails after them left for the next round, untried."""
    return outcomes + [NotSent(f"Ikke forsøkt denne runden: {reason}", tried=False)] * (total - len(outcomes))


def _code(err: BaseException) -> int | None:
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return next(iter(err.recipients.values()))[0] if err.recipients else None
    return err.smtp_code if isinstance(err, smtplib.SMTPResponseException) else None


def _words(err: BaseException) -> str:
    """What went wrong, as the server said it: ``550 5.1.1 …``, not smtplib's tuples."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {_text(said)}" for code, said in err.recipients.values()) or str(err)
    if isinstance(err, smtplib.SMTPResponseException):
        return f"{err.smtp_code} {_text(err.smtp_error)}"
    return str(err) or type(err).__name__


def _text(said: bytes | str) -> str:
    return said.decode("utf-8", "replace") if isinstance(said, bytes) else said


def _reset(smtp: smtplib.SMTP) -> None:
    """The server ready for the next mail after a failed one (RSET); closed if it is not."""
    if smtp.sock is None:
        return
    try:
        code, _said = smtp.rset()
    except (OSError, smtplib.SMTPException):
        code = 421
    if code != 250:
        smtp.close()


def _write_all(settings: MailSettings, mails: list[tuple[str, Mail]]) -> list[NotSent | None]:
    """The embedded default: each mail as an .eml file, for a developer to read; one that cannot
    be written fails alone."""
    settings.folder.mkdir(parents=True, exist_ok=True)
    outcomes: list[NotSent | None] = []
    for _to, msg in mails:
        try:
            (settings.folder / f"{msg['Message-ID'].strip('<>').replace('@', '_')}.eml").write_bytes(bytes(msg))
        except Exception as err:  # noqa: BLE001 - any error: marked with this mail
            outcomes.append(NotSent(_words(err)))
        else:
            outcomes.append(None)
            log.info("mail to %s written to %s: %s", msg["To"], settings.folder, msg["Subject"])
    return outcomes


def _close(smtp: smtplib.SMTP) -> None:
    """Say goodbye if the server still listens. The mails are sent by now: a failed goodbye must
    not count them as failed."""
    if smtp.sock is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def deliver_pending(kap12: Kap12, settings: MailSettings | None = None, batch: int = 100) -> int:
    """Mail what is waiting: claimed, sent with no transaction open, then marked
    (``engine.write.outputs.mail_waiting``). Returns how many were mailed."""
    settings = settings or kap12.settings.mail_settings()
    base_url = kap12.settings.base_url

    def send(to_send: list[tuple[Notification, str]]) -> list[NotSent | None]:
        try:
            sender = sender_envelope(settings.sender)
        except ValueError as err:  # settings made by hand; from the environment they refuse it at start
            log.warning("mail not sent: KAP12_SMTP_FROM: %s", err)
            return [NotSent(f"KAP12_SMTP_FROM: {err}", tried=False)] * len(to_send)
        outcomes: list[NotSent | None] = [None] * len(to_send)
        mails: list[tuple[int, str, Mail]] = []
        for i, (notice, email) in enumerate(to_send):
            try:
                to = envelope(email)
                mails.append((i, to, compose(settings, notice, to, base_url)))
            except Exception as err:  # noqa: BLE001 - this notice's mail cannot be made (its address): it alone fails
                outcomes[i] = NotSent(_words(err))
        if not mails:
            return outcomes
        try:
            sent = _send(settings, sender, [(to, mail) for _i, to, mail in mails])
        except (OSError, smtplib.SMTPException, ValueError) as err:  # before any mail was sent
            log.warning("mail delivery failed: %s", _words(err))
            sent = [NotSent(_words(err), tried=False)] * len(mails)
        for (i, _to, _mail), outcome in zip(mails, sent, strict=True):
            outcomes[i] = outcome
        return outcomes

    return mail_waiting(kap12, send, batch)
