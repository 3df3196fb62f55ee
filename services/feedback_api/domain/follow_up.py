"""Follow-up with the secret receipt alone: the status view, a message to the handlers, erasing
the contact email.

The receipt is hashed (argon2id, ~50 ms) before any transaction opens, whatever was typed: a
malformed receipt costs the same time as a well-formed wrong one, and nobody holds the write
connection while a hash runs. A wrong receipt is ``WrongReceipt`` (one 404, whatever exists).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlmodel import Session, col

from services.feedback_api.domain import reporter_updates
from services.feedback_api.domain.models import Contact, Message, OutboxMessage, Submission
from services.feedback_api.domain.receipts import ReceiptHasher, normalise_receipt
from services.feedback_api.domain.submissions import VIOLATION
from services.feedback_api.domain.topics import REPORTER_MESSAGE
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.outbox import enqueue
from shared.schemas.intake import PublicStatus, ReporterMessage
from shared.schemas.messages import ReporterMessageMessage

WRONG_RECEIPT = "No submission matches this receipt. Check the 16 digits and try again."
_DUMMY_RECEIPT = "0" * 16


class WrongReceipt(NotFound):
    def __init__(self) -> None:
        super().__init__(WRONG_RECEIPT)


@dataclass(frozen=True)
class ReceiptView:
    """What the reporter sees: the submission, its messages in order, whether a contact is kept."""

    submission: Submission
    messages: list[Message]
    has_contact: bool


def _digest(hasher: ReceiptHasher, receipt: str) -> str:
    normalised = normalise_receipt(receipt)
    digest = hasher.hash(normalised or _DUMMY_RECEIPT)
    if normalised is None:
        raise WrongReceipt()
    return digest


def _by_digest(session: Session, digest: str) -> Submission:
    sub: Submission | None = session.execute(
        select(Submission).where(col(Submission.receipt_hash) == digest)
    ).scalar_one_or_none()
    if sub is None or sub.receipt_hash is None or not hmac.compare_digest(sub.receipt_hash, digest):
        raise WrongReceipt()
    return sub


def receipt_status(db: Database, hasher: ReceiptHasher, *, receipt: str) -> ReceiptView:
    """A lookup by secret: a read, three statements whatever the number of messages."""
    digest = _digest(hasher, receipt)
    with db.read() as s:
        sub = _by_digest(s, digest)
        messages = list(s.execute(
            select(Message).where(col(Message.submission_id) == sub.id).order_by(col(Message.seq))
        ).scalars())
        has_contact = bool(s.execute(select(exists().where(col(Contact.submission_id) == sub.id))).scalar())
        return ReceiptView(submission=sub, messages=messages, has_contact=has_contact)


def next_seq(session: Session, submission_id: str) -> int:
    current = session.execute(
        select(func.max(col(Message.seq))).where(col(Message.submission_id) == submission_id)
    ).scalar_one()
    return int(current or 0) + 1


def send_message(db: Database, hasher: ReceiptHasher, *, receipt: str, body: str, now: datetime) -> Message:
    """The reporter writes to the people handling their report; case_api gets it through the outbox."""
    digest = _digest(hasher, receipt)
    with db.write() as s:
        sub = _by_digest(s, digest)
        if sub.kind != VIOLATION:
            raise Conflict("Messages are available for violation reports only.")
        if sub.status == PublicStatus.closed:
            raise Conflict("This report is closed; messages can no longer be sent.")
        msg = Message(submission_id=sub.id, seq=next_seq(s, sub.id), sender="reporter", body=body,
                      sent_on=now.date())
        s.add(msg)
        s.flush()
        message = ReporterMessageMessage(report_id=sub.id, message=ReporterMessage(message_id=msg.id, body=body))
        enqueue(s, OutboxMessage, REPORTER_MESSAGE, message, idempotency_key=msg.id, now=now)
        return msg


def delete_contact(db: Database, hasher: ReceiptHasher, *, receipt: str) -> None:
    """Erase the reporter's email (the City can then no longer write to them)."""
    digest = _digest(hasher, receipt)
    with db.write() as s:
        sub = _by_digest(s, digest)
        s.execute(delete(Contact).where(col(Contact.submission_id) == sub.id))
        reporter_updates.erase(s, submission_id=sub.id)  # consent to updates goes with the address
