"""feedback_api's own retention (issue 15 item 5): it keeps a report's content, evidence and contact
only as long as it needs them. case_api holds the case file under the City's schedule
(case_api ``domain/retention.py``, docs/records.md); here a violation report that case_api has
acknowledged (its forward delivered) and that is closed loses, once each period has passed since
it was closed (``updated_on``, day precision):

* ``retention_content_days``: its description and links, the messages with the reporter, and any
  delivered outbox message that carried them to case_api still in the table (the relay deletes
  them on delivery; their payloads hold the text);
* ``retention_contact_days``: the encrypted contact;
* ``retention_evidence_days``: the evidence files (case_api keeps id, type, size and SHA-256).

The reference, status, categories and day stay, so the receipt still answers "closed". A report
case_api never acknowledged is kept. On SQLite the purge then checkpoints and vacuums
(``shared.sqlite_compact``), so nothing deleted stays in the file or its ``-wal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from services.feedback_api.domain.models import Contact, Evidence, Message, OutboxMessage, Submission
from services.feedback_api.domain.topics import REPORT_FORWARD, REPORTER_MESSAGE
from shared import sqlite_compact
from shared.db import Database

BATCH = 500


@dataclass(frozen=True)
class Schedule:
    content_days: int
    contact_days: int
    evidence_days: int


@dataclass
class PurgeReport:
    contents: int = 0
    contacts: int = 0
    evidence_files: int = 0
    compacted: bool = False


def _acknowledged_closed(closed_before: date) -> Any:
    """Closed (only case_api closes a report, so it holds it) and no forward still undelivered or dead
    (the relay deletes delivered rows at once: a forward left in the outbox is one case_api has not
    acknowledged)."""
    unacknowledged = select(OutboxMessage.idempotency_key).where(OutboxMessage.topic == REPORT_FORWARD.name,
                                                                 col(OutboxMessage.delivered_at).is_(None))
    return (select(Submission).where(Submission.kind == "violation_report", Submission.status == "closed",
                                     col(Submission.updated_on) <= closed_before,
                                     col(Submission.id).not_in(unacknowledged))
            .order_by(col(Submission.updated_on), col(Submission.id)).limit(BATCH))


def purge(db: Database, *, schedule: Schedule, today: date, compact: bool = True) -> PurgeReport:
    report = PurgeReport()
    with db.write() as s:
        sqlite_compact.secure(s)
        for sub in s.exec(_acknowledged_closed(today - timedelta(days=schedule.content_days))):
            if sub.description is None and not sub.links:
                continue
            message_ids = list(s.exec(select(Message.id).where(Message.submission_id == sub.id)))
            s.execute(delete(Message).where(col(Message.submission_id) == sub.id))
            carriers = [sub.id, *message_ids]
            s.execute(delete(OutboxMessage).where(
                col(OutboxMessage.topic).in_([REPORT_FORWARD.name, REPORTER_MESSAGE.name]),
                col(OutboxMessage.idempotency_key).in_(carriers), col(OutboxMessage.delivered_at).is_not(None)))
            sub.description, sub.links = None, []
            s.add(sub)
            report.contents += 1
        for sub in s.exec(_acknowledged_closed(today - timedelta(days=schedule.contact_days))):
            contact = s.get(Contact, sub.id)
            if contact is not None:
                s.delete(contact)
                report.contacts += 1
        for sub in s.exec(_acknowledged_closed(today - timedelta(days=schedule.evidence_days))):
            files = list(s.exec(select(Evidence.id).where(Evidence.submission_id == sub.id)))
            if files:
                s.execute(delete(Evidence).where(col(Evidence.submission_id) == sub.id))
                report.evidence_files += len(files)
    if compact and (report.contents or report.contacts or report.evidence_files):
        report.compacted = sqlite_compact.compact(db)
    return report
