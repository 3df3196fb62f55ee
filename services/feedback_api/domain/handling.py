"""What case_api (the people handling a report) sends back and reads: status and message events
for the receipt view (idempotent per ``Idempotency-Key``), the reporter's contact, evidence files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from services.feedback_api.domain import reporter_updates
from services.feedback_api.domain.contact import ContactCipher
from services.feedback_api.domain.follow_up import next_seq
from services.feedback_api.domain.models import Contact, Evidence, IdempotencyKey, Message, Submission
from services.feedback_api.domain.submissions import VIOLATION
from services.feedback_api.domain.text import is_id, text_problem
from shared import idempotency
from shared.db import Database
from shared.errors import NotFound, ValidationFailed, field_error
from shared.schemas.intake import PublicStatus, ReportEvent


@dataclass(frozen=True)
class EventResult:
    """The answer to an event: ``body`` is the ``EventAccepted`` JSON; ``replayed`` when this
    key was already applied (``body`` is then the stored first answer)."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


def _report(session: Session, report_id: str) -> Submission:
    sub = session.get(Submission, report_id) if is_id(report_id) else None
    if sub is None or sub.kind != VIOLATION:
        raise NotFound("No report with this id.")
    return sub


def record_event(
    db: Database, *, report_id: str, event: ReportEvent, scope: str, idempotency_key: str | None
) -> EventResult:
    for name in ("message", "outcome_summary"):
        value = getattr(event, name)
        if value and text_problem(value):
            raise ValidationFailed("The event holds characters that cannot be stored.",
                                   errors=[field_error(["body", name], "control characters or lone surrogates")])
    with db.write() as s:
        sub = _report(s, report_id)
        claim = idempotency.begin(s, IdempotencyKey, scope=scope, key=idempotency_key,
                                  body={"report_id": report_id, **event.model_dump(mode="json")})
        if claim.replay is not None:
            return EventResult(status_code=claim.replay.status_code, body=dict(claim.replay.body or {}),
                               replayed=True)
        _apply(s, sub, event)
        reporter_updates.announce(s, submission_id=sub.id, event_id=event.event_id, today=event.at.date())
        body = {"report_id": sub.id, "status": str(PublicStatus(sub.status)), "applied": True}
        claim.finish(status=200, body=body)
        return EventResult(status_code=200, body=body, replayed=False)


def _apply(session: Session, sub: Submission, event: ReportEvent) -> None:
    on = event.at.date()
    if event.kind == "status":
        if event.status is None:
            raise ValidationFailed("A status event needs a status.",
                                   errors=[field_error(["body", "status"], "required for kind=status")])
        sub.status = str(event.status)
        if event.outcome_summary is not None:
            sub.outcome_summary = event.outcome_summary
    else:
        if not event.message:
            raise ValidationFailed("A message event needs a message.",
                                   errors=[field_error(["body", "message"], "required for kind=message")])
        session.add(Message(submission_id=sub.id, seq=next_seq(session, sub.id), sender="city",
                            body=event.message, sent_on=on, event_id=event.event_id))
    sub.updated_on = max(sub.updated_on, on)
    session.add(sub)
    session.flush()


def reporter_contact(db: Database, cipher: ContactCipher, *, report_id: str) -> str:
    """The reporter's email, decrypted (case_api audits the read on its side)."""
    with db.read() as s:
        sub = _report(s, report_id)
        row = s.get(Contact, sub.id)
        if row is None:
            raise NotFound("This reporter gave no contact, or has deleted it.")
        ciphertext = row.ciphertext
    return cipher.decrypt(ciphertext, submission_id=report_id)


def evidence_file(db: Database, *, evidence_id: str) -> Evidence:
    with db.read() as s:
        ev = s.get(Evidence, evidence_id) if is_id(evidence_id) else None
        if ev is None:
            raise NotFound("No evidence with this id.")
        return ev
