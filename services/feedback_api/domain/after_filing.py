"""After filing, with the receipt alone (issue 14 item 5): the reporter adds evidence to an open
report, and asks once, with a reason, for a closed report to be reconsidered. Both reach case_api
through the outbox, in batches like the report itself (``batching``).

Slow work happens before the write unit opens: the receipt's argon2id hash and the evidence
checks (the same real-parser cleaning as at filing: header pixel budgets, then Pillow re-encoding
or a pikepdf rewrite in a capped child process; ``EvidenceProcessor.clean``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from services.feedback_api.domain.evidence_worker import EvidenceProcessor
from services.feedback_api.domain.follow_up import _by_digest, _digest
from services.feedback_api.domain.models import Evidence, OutboxMessage, Submission
from services.feedback_api.domain.receipts import ReceiptHasher
from services.feedback_api.domain.submissions import VIOLATION, _add_evidence
from services.feedback_api.domain.topics import RECONSIDERATION, REPORTER_EVIDENCE
from shared.db import Database
from shared.errors import Conflict, ValidationFailed, field_error
from shared.outbox import enqueue
from shared.schemas.intake import PublicStatus
from shared.schemas.reporter import (
    ReconsiderationMessage,
    ReconsiderationRequest,
    ReporterEvidence,
    ReporterEvidenceMessage,
)

MAX_EVIDENCE_PER_REPORT = 10  # all files of a report, at filing and after (the wire model's bound)


def _report(sub: Submission) -> Submission:
    if sub.kind != VIOLATION:
        raise Conflict("This is available for violation reports only.")
    return sub


def add_evidence(db: Database, hasher: ReceiptHasher, evidence: EvidenceProcessor, *, receipt: str,
                 files: Sequence[bytes], now: datetime) -> int:
    """Add cleaned files to an open report; returns how many. 409 once the report is closed, 422
    past ``MAX_EVIDENCE_PER_REPORT`` files in all, 413/415/422 from the evidence checks."""
    if not files:
        raise ValidationFailed("Send at least one evidence file.",
                               errors=[field_error(["body", "evidence"], "at least one file")])
    digest = _digest(hasher, receipt)  # ~50 ms, no transaction open
    with db.read() as s:
        sub = _report(_by_digest(s, digest))
        held = int(s.execute(select(func.count()).where(col(Evidence.submission_id) == sub.id)).scalar_one())
    if sub.status == PublicStatus.closed:
        raise Conflict("This report is closed; evidence can no longer be added. You may ask for reconsideration.")
    if held + len(files) > MAX_EVIDENCE_PER_REPORT:
        raise ValidationFailed(f"A report holds at most {MAX_EVIDENCE_PER_REPORT} evidence files ({held} already).",
                               errors=[field_error(["body", "evidence"], "too many files for this report")])
    clean = evidence.clean(files)  # the filing's own checks, in a capped child process
    with db.write() as s:
        sub = _report(_by_digest(s, digest))
        if sub.status == PublicStatus.closed:
            raise Conflict("This report is closed; evidence can no longer be added.")
        refs = _add_evidence(s, sub.id, clean)
        sub.updated_on = now.date()
        s.add(sub)
        batch = ReporterEvidence(batch_id=str(uuid.uuid4()), evidence=refs)
        enqueue(s, OutboxMessage, REPORTER_EVIDENCE, ReporterEvidenceMessage(report_id=sub.id, evidence=batch),
                idempotency_key=batch.batch_id, now=now)
        return len(refs)


def request_reconsideration(db: Database, hasher: ReceiptHasher, *, receipt: str, reason: str,
                            now: datetime) -> Submission:
    """A closed report asks once for reconsideration, with a reason (409 if not closed, or asked)."""
    digest = _digest(hasher, receipt)
    with db.write() as s:
        sub = _report(_by_digest(s, digest))
        if sub.status != PublicStatus.closed:
            raise Conflict("Only a closed report can ask for reconsideration.")
        if sub.reconsideration_requested_on is not None:
            raise Conflict("This report has already asked for reconsideration (once per report).")
        sub.reconsideration_requested_on = now.date()
        sub.updated_on = now.date()
        s.add(sub)
        request = ReconsiderationRequest(request_id=str(uuid.uuid4()), reason=reason)
        enqueue(s, OutboxMessage, RECONSIDERATION, ReconsiderationMessage(report_id=sub.id, request=request),
                idempotency_key=request.request_id, now=now)
        s.flush()
        return sub
