"""The write side of what leaves kap12: storing a made document, stamping documents taken into
the archive, and marking the outbox's mail as sent. The outputs room makes the PDFs, the
extract and the mails; the rows they leave behind are written here."""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.store.models import CaseDocument, Notification, User

if TYPE_CHECKING:  # the facade wires this module; named here for the types only
    from engine.service import Kap12

log = logging.getLogger("kap12.documents")
PDF = "application/pdf"


@dataclass(frozen=True)
class NewDocument:
    """A document made from the step recorded at ``source_seq``, not yet stored."""

    kind: str
    title: str
    version: int
    source_seq: int
    pdf: bytes


def store_documents(kap12: Kap12, case_id: int, made: Sequence[NewDocument]) -> None:
    """Store the case's new documents, once each: a document another request stored meanwhile
    stands, and this one is dropped."""
    now = kap12.clock.now()
    try:
        with kap12.db.writing() as session:
            done = set(session.execute(select(CaseDocument.source_seq, CaseDocument.kind)
                                       .where(CaseDocument.case_id == case_id)).all())
            for doc in made:
                if (doc.source_seq, doc.kind) in done:
                    continue  # another request made it meanwhile; that one stands
                session.add(CaseDocument(case_id=case_id, kind=doc.kind, version=doc.version,
                                         source_seq=doc.source_seq, title=doc.title, media_type=PDF,
                                         content=doc.pdf, sha256=hashlib.sha256(doc.pdf).hexdigest(),
                                         created_at=now, system_id=str(uuid.uuid4()), exported_at=None))
    except IntegrityError:
        # Two requests raced to make the same document: the first one's row is the document.
        log.info("case %s: documents made concurrently; keeping the first", case_id)


def mark_exported(kap12: Kap12, document_ids: Sequence[int]) -> None:
    """Stamp the documents taken into an archive extract (the first export's time stays)."""
    if not document_ids:
        return
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        for doc in session.scalars(select(CaseDocument).where(CaseDocument.id.in_(document_ids),
                                                              CaseDocument.exported_at.is_(None))):
            doc.exported_at = now


@dataclass(frozen=True)
class NotSent:
    """Why a mail was not sent, in words. ``tried``: the server had the mail and refused it, or
    the mail could not be sent at all (an address kap12 cannot send to): a try is counted, and the
    next waits (``RETRY_AFTER``). Not tried: it never got that far — the server could not be
    reached, would not let kap12 in, or hung up before it — and it goes again at the next round,
    its tries untouched: a mail server that is down delays mail, and loses none."""

    reason: str
    tried: bool = True


# Sends the (notice, address) pairs; returns, for each in order, None when sent, else NotSent.
Send = Callable[[list[tuple[Notification, str]]], "list[NotSent | None]"]

# How long a refused mail waits before its next try, after its first, second, third and fourth:
# a server that says "try later" (a relay's rate limit, greylisting) is tried later, not five
# times in a minute and then given up; the fifth try comes some 80 minutes after the first.
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


# How long the notices a sender has claimed are its own while it talks to the mail server
# (``mail_waiting``): longer than a round may send (the mailer stops a round after a third of
# it). A sender that dies meanwhile leaves them to be sent again when the claim runs out.
CLAIM = timedelta(minutes=15)


def mail_waiting(kap12: Kap12, send: Send, batch: int = 100) -> int:
    """Mail up to ``batch`` notices due for mail, in three parts:

    1. a transaction claims them (SKIP LOCKED on PostgreSQL; ``mail_retry_at`` set ``CLAIM``
       ahead, so no other sender takes them) and commits;
    2. ``send`` talks to the mail server, with no transaction open: on SQLite the whole
       database's write lock was held while the server answered (up to 30 s a command), and
       every report and completion waited; on PostgreSQL a transaction stood open as long;
    3. a transaction marks each notice by its own outcome (``NotSent``): a refused mail does not
       make the others of its batch count as failed and go again. A notice taken back meanwhile
       (``parties.take_back_notices``) is gone and stays gone.

    A sender that dies after sending and before marking leaves its mails to be sent again when
    the claim runs out: a mail can be repeated, never lost. Returns how many were sent."""
    to_send = _claim(kap12, batch)
    if not to_send:
        return 0  # no call to the mail server for nothing
    outcomes = send(to_send)
    _mark(kap12, to_send, outcomes)
    return outcomes.count(None)


# SQLite's dialect writes no FOR UPDATE: its writing transaction holds the whole database.
def _claim(kap12: Kap12, batch: int) -> list[tuple[Notification, str]]:
    """Up to ``batch`` notices due for mail, with their addresses, claimed for ``CLAIM``; those
    whose person has no address are marked done here."""
    now = kap12.clock.now()
    with kap12.db.writing() as session:
        rows = session.execute(select(Notification, User.email).join(User, User.id == Notification.user_id)
                               .where(Notification.due_for_mail(now)).order_by(Notification.id).limit(batch)
                               .with_for_update(of=Notification, skip_locked=True)).all()
        for notice, email in rows:
            if email:
                notice.mail_retry_at = now + CLAIM
            else:
                notice.mailed_at, notice.mail_error = now, "ingen e-postadresse"
    return [(notice, email) for notice, email in rows if email]


def _mark(kap12: Kap12, sent: list[tuple[Notification, str]], outcomes: list[NotSent | None]) -> None:
    """Each claimed notice marked by its outcome; the next try counts from now, the round's end.
    The notices are locked: one taken back (deleted) between this read and the marks' UPDATE
    would make the UPDATE match no row, and the ORM undo every mark (StaleDataError), so the
    mails would go again. Locked, the taking back waits for the marks, or comes first and the
    notice is not found here: taken back while it was being sent, it stays gone."""
    done = kap12.clock.now()
    with kap12.db.writing() as session:
        still = {n.id: n for n in session.scalars(
            select(Notification).where(Notification.id.in_([n.id for n, _ in sent]))
            .order_by(Notification.id).with_for_update(of=Notification))}
        for (claimed, _), outcome in zip(sent, outcomes, strict=True):
            notice = still.get(claimed.id)
            if notice is None:
                continue
            if outcome is None:
                notice.mailed_at, notice.mail_error, notice.mail_retry_at = done, None, None
                continue
            notice.mail_error, notice.mail_retry_at = outcome.reason[:1000], None  # untried: the next round
            if outcome.tried:
                notice.mail_attempts += 1
                notice.mail_retry_at = done + RETRY_AFTER[min(notice.mail_attempts, len(RETRY_AFTER)) - 1]
