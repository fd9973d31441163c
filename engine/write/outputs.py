"""The write side of what leaves kap12: storing a made document, stamping documents taken into
the archive, and marking the outbox's mail as sent. The outputs room makes the PDFs, the
extract and the mails; the rows they leave behind are written here."""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


# Sends the (notice, address) pairs; returns, for each in order, None when sent, else why not,
# in words.
Send = Callable[[list[tuple[Notification, str]]], "list[str | None]"]


def mail_waiting(kap12: Kap12, send: Send, batch: int = 100) -> int:
    """Claim up to ``batch`` notices waiting for mail (SKIP LOCKED on PostgreSQL) and mark them
    in the same transaction as ``send``, so two senders never mail the same notice; a crash
    after sending and before commit can repeat a mail, never lose one. Each notice is marked by
    its own outcome: a mail that failed is tried again (up to MAIL_ATTEMPTS times), the others of
    its batch are not. Returns how many were sent."""
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
        outcomes = send(to_send) if to_send else []  # no call to the mail server for nothing
        for (notice, _), error in zip(to_send, outcomes, strict=True):
            if error is None:
                notice.mailed_at, notice.mail_error = now, None
            else:
                notice.mail_attempts += 1
                notice.mail_error = error[:1000]
    return outcomes.count(None)
