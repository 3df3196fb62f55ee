"""Reporter updates, opt-in (issue 17, item 3).

A resident who gives an email *and* ticks "tell me when there is an update" gets one email per
update case_api sends them (a status change, a message from the City). The email says only that
there is an update and that they can read it with their receipt: no reference, no content, not
even in the subject (``EventType.reporter_update``). Nothing is sent without both the email and
the tick.

- Consent is a row of ``update_opt_ins`` written with the contact, in the same transaction;
- withdrawing it is the existing contact erasure (``follow_up.delete_contact``), which deletes
  the contact and this row; a message already queued then finds no address and sends nothing;
- the outbox row carries only the submission id: the address stays encrypted at rest and is
  decrypted only by the handler, at send time. Delivered rows are purged (``FeedbackRelay``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import httpx
from sqlmodel import Field, Session

from services.feedback_api.domain.contact import ContactCipher
from services.feedback_api.domain.models import Base, Contact, OutboxMessage
from shared.db import Database
from shared.notify import EventType, Notification
from shared.notify_outbox import NotifyConfig, NotifyStats, deliver_email
from shared.outbox import Delivery, Handler, Topic, enqueue
from shared.schemas.notifications import ReporterUpdateMessage

REPORTER_UPDATE = Topic("reporter_update", "smtp", ReporterUpdateMessage)


class UpdateOptIn(Base, table=True):
    """The reporter asked to be told of updates. Deleted with their contact."""

    __tablename__ = "update_opt_ins"

    submission_id: str = Field(primary_key=True, foreign_key="submissions.id", max_length=36)
    given_on: date


def opt_in(session: Session, *, submission_id: str, email: str | None, wanted: bool, today: date) -> None:
    """At intake, in its transaction: consent counts only with an email."""
    if wanted and email:
        session.add(UpdateOptIn(submission_id=submission_id, given_on=today))


def announce(session: Session, *, submission_id: str, event_id: str, today: date) -> bool:
    """In the transaction that records case_api's event: queue the email if the reporter opted in
    and still has a contact. Idempotent by event."""
    if session.get(UpdateOptIn, submission_id) is None or session.get(Contact, submission_id) is None:
        return False
    enqueue(session, OutboxMessage, REPORTER_UPDATE, ReporterUpdateMessage(submission_id=submission_id),
            idempotency_key=f"update:{event_id}"[:128],
            now=datetime.combine(today, time(0), tzinfo=UTC))  # the day only: no finer time is kept
    return True


def erase(session: Session, *, submission_id: str) -> None:
    row = session.get(UpdateOptIn, submission_id)
    if row is not None:
        session.delete(row)


def handlers(db: Database, cipher: ContactCipher, config: NotifyConfig, stats: NotifyStats, *,
             receipt_url: str) -> dict[Topic[ReporterUpdateMessage], Handler]:
    email = config.smtp_channel()

    def send(delivery: Delivery[ReporterUpdateMessage]) -> httpx.Response:
        sub_id = delivery.message.submission_id
        with db.read() as s:
            contact = s.get(Contact, sub_id)
            consent = s.get(UpdateOptIn, sub_id)
            ciphertext = contact.ciphertext if contact else None
        if ciphertext is None or consent is None:
            return httpx.Response(200)  # withdrawn meanwhile: nothing to send, nothing kept
        address = cipher.decrypt(ciphertext, submission_id=sub_id)
        return deliver_email(email, address, Notification(EventType.reporter_update, None, receipt_url),
                             message_id=delivery.id, stats=stats)

    return {REPORTER_UPDATE: send}
