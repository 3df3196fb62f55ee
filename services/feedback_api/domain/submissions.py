"""Intake of violation reports and policy feedback, follow-up by receipt, and the events case_api
sends back. Repositories flush; the request's unit of work commits (report + outbox together)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from services.feedback_api.domain.contact import ContactCipher, is_valid_email
from services.feedback_api.domain.directory import Check, PolicyDirectory
from services.feedback_api.domain.evidence import CleanFile
from services.feedback_api.domain.models import Contact, Evidence, Incident, Message, OutboxMessage, Submission
from services.feedback_api.domain.receipts import ReceiptHasher, new_receipt, normalise_receipt
from services.feedback_api.domain.text import is_id, text_problem
from shared.errors import Conflict, NotFound, ValidationFailed, field_error
from shared.ids import new_reference
from shared.outbox import enqueue
from shared.post_urls import InvalidPostUrl, incident_key, normalise_post_url
from shared.schemas.intake import EvidenceRef, PublicStatus, ReporterMessage, ReportEvent, ReportForward
from shared.timeutil import Clock

TOPIC_REPORT = "report.forward"
TOPIC_MESSAGE = "report.message"
VIOLATION = "violation_report"
FEEDBACK = "policy_feedback"
_DUMMY_RECEIPT = "0" * 16


@dataclass
class IntakeContext:
    hasher: ReceiptHasher
    cipher: ContactCipher
    directory: PolicyDirectory
    clock: Clock
    max_links: int = 10
    max_description: int = 5000


@dataclass
class ReportInput:
    platform: str
    categories: list[str]
    description: str
    account_id: str | None = None
    account_text: str | None = None
    links: list[str] = field(default_factory=list)
    seen_on: date | None = None
    contact_email: str | None = None


@dataclass
class FeedbackInput:
    policy_id: str
    version_id: str
    text: str
    section_id: str | None = None
    rating: int | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class Created:
    submission_id: str
    reference: str
    receipt: str | None
    kind: str


def _unique_reference(session: Session, prefix: str) -> str:
    for _ in range(10):
        ref = new_reference(prefix)
        if session.execute(select(col(Submission.id)).where(col(Submission.reference) == ref)).first() is None:
            return ref
    raise RuntimeError("could not allocate a unique reference")  # pragma: no cover - 2^40 space


def _check_email(email: str | None) -> None:
    if email is not None and not is_valid_email(email):
        raise ValidationFailed("The contact email is not a valid address.",
                               errors=[field_error(["body", "contact_email"], "not a valid email address")])


def _issue_receipt(ctx: IntakeContext, with_receipt: bool) -> tuple[str | None, str | None]:
    if not with_receipt:
        return None, None
    receipt = new_receipt()
    return receipt, ctx.hasher.hash(receipt)


def fake_created(ctx: IntakeContext, kind: str) -> Created:
    """What the honeypot answers: indistinguishable from success (same work, same shape), stores nothing."""
    receipt = new_receipt()
    ctx.hasher.hash(receipt)
    return Created(submission_id="", reference=new_reference("R" if kind == VIOLATION else "F"),
                   receipt=receipt, kind=kind)


# --- violation reports ---------------------------------------------------------------------------


def create_report(
    session: Session, ctx: IntakeContext, data: ReportInput, *, files: list[CleanFile] | None = None,
    channel: str = "web", with_receipt: bool = True,
) -> Created:
    files = files or []
    errors: list[dict[str, Any]] = []
    today = ctx.clock.now().date()
    if not data.account_id and not data.account_text:
        errors.append(field_error(["body", "account_id"], "give account_id (from the list) or account_text"))
    if len(data.links) > ctx.max_links:
        errors.append(field_error(["body", "links"], f"at most {ctx.max_links} links"))
    if len(data.description) > ctx.max_description:
        errors.append(field_error(["body", "description"], f"at most {ctx.max_description} characters"))
    if data.seen_on is not None and data.seen_on > today:
        errors.append(field_error(["body", "seen_on"], "cannot be in the future"))
    normalised: str | None = None
    key: str | None = None
    if data.links:
        try:
            normalised = normalise_post_url(data.links[0])
            key = incident_key(data.links[0])
        except InvalidPostUrl as exc:
            errors.append(field_error(["body", "links", 0], str(exc)))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) failed validation.", errors=errors)
    _check_email(data.contact_email)

    check = Check.unverified
    department: str | None = None
    if data.account_id:
        account = ctx.directory.check_account(data.account_id)
        if account.result is Check.unknown:
            raise ValidationFailed("There is no official account with this id.",
                                   errors=[field_error(["body", "account_id"], "unknown account")])
        check, department = account.result, account.department
    reference_check = "free_text" if not data.account_id else str(check)

    receipt, receipt_hash = _issue_receipt(ctx, with_receipt)
    sub = Submission(
        reference=_unique_reference(session, "R"), kind=VIOLATION, channel=channel, receipt_hash=receipt_hash,
        received_on=today, updated_on=today, reference_check=reference_check,
        account_id=data.account_id, account_text=data.account_text, department=department,
        platform=data.platform, links=list(data.links), seen_on=data.seen_on,
        categories=list(dict.fromkeys(data.categories)), description=data.description, incident_key=key,
    )
    session.add(sub)
    session.flush()
    if data.contact_email:
        session.add(Contact(submission_id=sub.id, ciphertext=ctx.cipher.encrypt(data.contact_email,
                                                                               submission_id=sub.id)))
    refs: list[EvidenceRef] = []
    for f in files:
        ev = Evidence(submission_id=sub.id, media_type=f.media_type, size_bytes=f.size_bytes, sha256=f.sha256,
                      content=f.content)
        session.add(ev)
        session.flush()
        refs.append(EvidenceRef(id=ev.id, media_type=f.media_type, size_bytes=f.size_bytes, sha256=f.sha256))
    if key is not None and normalised is not None:
        _count_incident(session, key, normalised[:2048], today)
    forward = ReportForward(
        report_id=sub.id, reference=sub.reference, received_on=today, account_id=data.account_id,
        account_text=data.account_text, department=department, platform=data.platform,
        links=list(data.links), seen_on=data.seen_on, categories=sub.categories,
        description=data.description, evidence=refs, incident_key=key, has_contact=bool(data.contact_email),
    )
    enqueue(session, OutboxMessage, topic=TOPIC_REPORT, payload=forward.model_dump(mode="json"),
            idempotency_key=sub.id, now=ctx.clock.now())
    session.flush()
    return Created(submission_id=sub.id, reference=sub.reference, receipt=receipt, kind=VIOLATION)


def _count_incident(session: Session, key: str, normalised: str, today: date) -> None:
    bumped = session.execute(
        update(Incident).where(col(Incident.incident_key) == key)
        .values(report_count=col(Incident.report_count) + 1, last_reported_on=today)
    )
    if getattr(bumped, "rowcount", 0):
        return
    try:
        with session.begin_nested():
            session.add(Incident(incident_key=key, normalised_url=normalised, report_count=1,
                                 first_reported_on=today, last_reported_on=today))
            session.flush()
    except IntegrityError:  # a concurrent first report of the same post won the insert
        session.execute(
            update(Incident).where(col(Incident.incident_key) == key)
            .values(report_count=col(Incident.report_count) + 1, last_reported_on=today)
        )


def incident_count(session: Session, key: str) -> int:
    row = session.get(Incident, key)
    return row.report_count if row else 0


# --- policy feedback -----------------------------------------------------------------------------


def create_feedback(session: Session, ctx: IntakeContext, data: FeedbackInput) -> Created:
    if len(data.text) > ctx.max_description:
        raise ValidationFailed("The text is too long.",
                               errors=[field_error(["body", "text"], f"at most {ctx.max_description} characters")])
    _check_email(data.contact_email)
    check = ctx.directory.check_policy_version(data.policy_id, data.version_id, data.section_id)
    if check is Check.unknown:
        raise ValidationFailed(
            "There is no published policy version (or section) with these ids.",
            errors=[field_error(["body", "version_id"], "unknown policy, version or section")],
        )
    today = ctx.clock.now().date()
    receipt, receipt_hash = _issue_receipt(ctx, True)
    sub = Submission(
        reference=_unique_reference(session, "F"), kind=FEEDBACK, receipt_hash=receipt_hash,
        received_on=today, updated_on=today, reference_check=str(check), policy_id=data.policy_id,
        version_id=data.version_id, section_id=data.section_id, text=data.text, rating=data.rating,
    )
    session.add(sub)
    session.flush()
    if data.contact_email:
        session.add(Contact(submission_id=sub.id, ciphertext=ctx.cipher.encrypt(data.contact_email,
                                                                               submission_id=sub.id)))
        session.flush()
    return Created(submission_id=sub.id, reference=sub.reference, receipt=receipt, kind=FEEDBACK)


def list_feedback(
    session: Session, *, policy_id: str | None, limit: int, offset: int
) -> tuple[list[Submission], int]:
    q = select(Submission).where(col(Submission.kind) == FEEDBACK)
    count = select(func.count()).select_from(Submission).where(col(Submission.kind) == FEEDBACK)
    if policy_id:
        q = q.where(col(Submission.policy_id) == policy_id)
        count = count.where(col(Submission.policy_id) == policy_id)
    q = q.order_by(col(Submission.received_on).desc(), col(Submission.reference)).limit(limit).offset(offset)
    return list(session.execute(q).scalars()), int(session.execute(count).scalar_one())


# --- follow-up by receipt ------------------------------------------------------------------------


def find_by_receipt(session: Session, ctx: IntakeContext, receipt: str) -> Submission | None:
    """The submission this receipt belongs to, or ``None``. The hash is computed whatever the input,
    so a malformed receipt costs the same time as a well-formed wrong one."""
    normalised = normalise_receipt(receipt)
    digest = ctx.hasher.hash(normalised or _DUMMY_RECEIPT)
    if normalised is None:
        return None
    sub: Submission | None = session.execute(
        select(Submission).where(col(Submission.receipt_hash) == digest)
    ).scalar_one_or_none()
    if sub is None or sub.receipt_hash is None or not hmac.compare_digest(sub.receipt_hash, digest):
        return None
    return sub


def messages_of(session: Session, submission_id: str) -> list[Message]:
    q = select(Message).where(col(Message.submission_id) == submission_id).order_by(col(Message.seq))
    return list(session.execute(q).scalars())


def has_contact(session: Session, submission_id: str) -> bool:
    return session.get(Contact, submission_id) is not None


def _next_seq(session: Session, submission_id: str) -> int:
    current = session.execute(
        select(func.max(col(Message.seq))).where(col(Message.submission_id) == submission_id)
    ).scalar_one()
    return int(current or 0) + 1


def add_reporter_message(session: Session, ctx: IntakeContext, sub: Submission, body: str) -> Message:
    if sub.kind != VIOLATION:
        raise Conflict("Messages are available for violation reports only.")
    if sub.status == PublicStatus.closed:
        raise Conflict("This report is closed; messages can no longer be sent.")
    msg = Message(submission_id=sub.id, seq=_next_seq(session, sub.id), sender="reporter", body=body,
                  sent_on=ctx.clock.now().date())
    session.add(msg)
    session.flush()
    enqueue(session, OutboxMessage, topic=TOPIC_MESSAGE,
            payload={"report_id": sub.id, "message": ReporterMessage(message_id=msg.id, body=body).model_dump()},
            idempotency_key=msg.id, now=ctx.clock.now())
    return msg


def delete_contact(session: Session, sub: Submission) -> None:
    session.execute(delete(Contact).where(col(Contact.submission_id) == sub.id))
    session.flush()


# --- from case_api -----------------------------------------------------------------------------------


def get_report(session: Session, report_id: str) -> Submission:
    sub = session.get(Submission, report_id) if is_id(report_id) else None
    if sub is None or sub.kind != VIOLATION:
        raise NotFound("No report with this id.")
    return sub


def apply_event(session: Session, sub: Submission, event: ReportEvent) -> None:
    on = event.at.date()
    for name in ("message", "outcome_summary"):
        value = getattr(event, name)
        if value and text_problem(value):
            raise ValidationFailed("The event holds characters that cannot be stored.",
                                   errors=[field_error(["body", name], "control characters or lone surrogates")])
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
        session.add(Message(submission_id=sub.id, seq=_next_seq(session, sub.id), sender="city",
                            body=event.message, sent_on=on, event_id=event.event_id))
    sub.updated_on = max(sub.updated_on, on)
    session.add(sub)
    session.flush()


def read_contact(session: Session, ctx: IntakeContext, report_id: str) -> str:
    sub = get_report(session, report_id)
    row = session.get(Contact, sub.id)
    if row is None:
        raise NotFound("This reporter gave no contact, or has deleted it.")
    return ctx.cipher.decrypt(row.ciphertext, submission_id=sub.id)


def get_evidence(session: Session, evidence_id: str) -> Evidence:
    ev = session.get(Evidence, evidence_id) if is_id(evidence_id) else None
    if ev is None:
        raise NotFound("No evidence with this id.")
    return ev
