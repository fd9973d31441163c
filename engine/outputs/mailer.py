"""Sending the notices in the outbox by e-mail.

Settings (``engine.config.MailSettings``) come from the environment: KAP12_SMTP_HOST (and
_PORT, _USER, _PASSWORD, _STARTTLS=1, _FROM). With no host set, the embedded default writes each
mail as an .eml file under instance/mail/ and logs it, so nothing is lost and a developer can
read them."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select

from engine.config import MailSettings
from engine.store.models import MAIL_ATTEMPTS, Notification, User

log = logging.getLogger("kap12.mail")
MAX_ATTEMPTS = MAIL_ATTEMPTS


def compose(settings: MailSettings, notice: Notification, to: str, base_url: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.sender, to, notice.subject
    msg["Date"] = format_datetime(notice.created_at)
    msg["Message-ID"] = make_msgid(domain="kap12")
    msg.set_content(f"{notice.body}\n\nÅpne saken i kap12: {base_url.rstrip('/')}{notice.link}\n\n"
                    "Denne e-posten inneholder ingen personopplysninger om eleven. Logg inn for å se saken.\n")
    return msg


def _send(settings: MailSettings, messages: list[EmailMessage]) -> None:
    if settings.host is None:
        settings.folder.mkdir(parents=True, exist_ok=True)
        for msg in messages:
            name = msg["Message-ID"].strip("<>").replace("@", "_")
            (settings.folder / f"{name}.eml").write_bytes(bytes(msg))
            log.info("mail to %s written to %s: %s", msg["To"], settings.folder, msg["Subject"])
        return
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        for msg in messages:
            smtp.send_message(msg)


def deliver_pending(kap12, settings: MailSettings | None = None, batch: int = 100) -> int:
    """Mail what is waiting. Rows are claimed (SKIP LOCKED on PostgreSQL) and marked in the
    same transaction as the send, so two senders never mail the same notice; a crash after
    sending and before commit can repeat a mail, never lose one."""
    settings = settings or kap12.settings.mail_settings()
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        query = (select(Notification, User.email).join(User, User.id == Notification.user_id)
                 .where(Notification.waiting_for_mail()).order_by(Notification.id).limit(batch))
        if not kap12.db.is_sqlite:
            query = query.with_for_update(of=Notification, skip_locked=True)
        rows = session.execute(query).all()
        to_send = [(n, email) for n, email in rows if email]
        for notice, email in rows:
            if not email:
                notice.mailed_at, notice.mail_error = now, "ingen e-postadresse"
        try:
            _send(settings, [compose(settings, n, email, kap12.settings.base_url) for n, email in to_send])
        except (OSError, smtplib.SMTPException) as err:
            log.warning("mail delivery failed: %s", err)
            for notice, _ in to_send:
                notice.mail_attempts += 1
                notice.mail_error = str(err)[:1000]
            return 0
        for notice, _ in to_send:
            notice.mailed_at, notice.mail_error = now, None
    return len(to_send)
