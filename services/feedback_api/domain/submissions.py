"""Intake: filing a violation report or a piece of policy feedback (R-24-89 §1.B).

The use-cases here serve every channel: ``POST /v1/reports`` and ``/v1/feedback``, the no-JS form
at ``/report`` and Open311 ``POST requests.json``. Each does its slow and outside work first, with
no transaction open: evidence cleaning (Pillow), the policy_api check of the ids given, the receipt
(pre-made by the pool, or hashed now). Then one ``db.write()`` stores the submission, its contact,
evidence and incident count, and its outbox message to case_api, together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from services.feedback_api.domain import reporter_updates
from services.feedback_api.domain.contact import ContactCipher, is_valid_email
from services.feedback_api.domain.directory import Check, PolicyDirectory
from services.feedback_api.domain.evidence import CleanFile
from services.feedback_api.domain.evidence_worker import EvidenceProcessor
from services.feedback_api.domain.models import Contact, Evidence, Incident, OutboxMessage, Submission
from services.feedback_api.domain.receipts import IssuedReceipt, ReceiptPool
from services.feedback_api.domain.topics import REPORT_FORWARD
from shared.db import Database
from shared.errors import TooManyRequests, ValidationFailed, field_error
from shared.ids import new_reference
from shared.outbox import enqueue
from shared.post_urls import InvalidPostUrl, incident_key, normalise_post_url
from shared.schemas.intake import EvidenceRef, ReportForward, ViolationCategory
from shared.schemas.registry import Platform

VIOLATION = "violation_report"
FEEDBACK = "policy_feedback"


@dataclass(frozen=True)
class IntakeContext:
    """What intake needs besides the database: receipts, the contact cipher, policy_api, bounds."""

    receipts: ReceiptPool
    cipher: ContactCipher
    directory: PolicyDirectory
    evidence: EvidenceProcessor
    max_links: int = 10
    max_description: int = 5000


@dataclass(frozen=True)
class ReportInput:
    platform: Platform
    categories: tuple[ViolationCategory, ...]
    description: str
    account_id: str | None = None
    account_text: str | None = None
    links: tuple[str, ...] = ()
    seen_on: date | None = None
    contact_email: str | None = None
    honeypot: str | None = None  # the hidden ``website`` field: people leave it empty
    notify_updates: bool = False  # "tell me when there is an update" (only with contact_email)


@dataclass(frozen=True)
class FeedbackInput:
    policy_id: str
    version_id: str
    text: str
    section_id: str | None = None
    rating: int | None = None
    contact_email: str | None = None
    honeypot: str | None = None


@dataclass(frozen=True)
class Created:
    submission_id: str
    reference: str
    receipt: str | None
    kind: str
    decoy: bool = False  # the honeypot's answer: nothing was stored


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


def _fake(ctx: IntakeContext, kind: str, *, decoy_allowed: bool) -> Created:
    """What the honeypot answers: indistinguishable from success (a receipt is issued the same
    way), stores nothing. A client that has used up its budget for rejected submissions gets a
    429 instead, so bots cannot drain the receipt pool or spend the server's hashing time."""
    if not decoy_allowed:
        raise TooManyRequests("Too many requests. Please wait 60 seconds and try again.",
                              headers={"Retry-After": "60"})
    issued = ctx.receipts.issue()
    return Created(submission_id="", reference=new_reference("R" if kind == VIOLATION else "F"),
                   receipt=issued.receipt, kind=kind, decoy=True)


def _add_contact(session: Session, ctx: IntakeContext, submission_id: str, email: str | None) -> None:
    if email:
        session.add(Contact(submission_id=submission_id,
                            ciphertext=ctx.cipher.encrypt(email, submission_id=submission_id)))


# --- violation reports ---------------------------------------------------------------------------


def file_report(
    db: Database, ctx: IntakeContext, *, report: ReportInput, files: Sequence[bytes] = (), channel: str = "web",
    with_receipt: bool = True, decoy_allowed: bool = True, claim: Callable[[], None] = lambda: None,
    now: datetime,
) -> Created:
    """File a violation report. Raises ``ValidationFailed`` (422), ``UnsupportedMediaType`` (415)
    or ``PayloadTooLarge`` (413) before anything is stored. The cheap checks come first, so an
    invalid report never pays for evidence decoding."""
    if report.honeypot:
        return _fake(ctx, VIOLATION, decoy_allowed=decoy_allowed)
    today = now.date()
    normalised, key = _validate_report(ctx, report, today)
    clean = ctx.evidence.clean(files)  # a child process with a time and memory cap
    check, department = Check.unverified, None
    if report.account_id:
        account = ctx.directory.check_account(report.account_id)  # policy_api, before the transaction
        if account.result is Check.unknown:
            raise ValidationFailed("There is no official account with this id.",
                                   errors=[field_error(["body", "account_id"], "unknown account")])
        check, department = account.result, account.department
    claim()  # the client's budget, counted atomically now that the report is valid (429 past it)
    issued: IssuedReceipt | None = ctx.receipts.issue() if with_receipt else None
    categories = [str(c) for c in dict.fromkeys(report.categories)]
    with db.write() as s:
        sub = Submission(
            reference=_unique_reference(s, "R"), kind=VIOLATION, channel=channel,
            receipt_hash=issued.receipt_hash if issued else None, received_on=today, updated_on=today,
            reference_check="free_text" if not report.account_id else str(check),
            account_id=report.account_id, account_text=report.account_text, department=department,
            platform=str(report.platform), links=list(report.links), seen_on=report.seen_on,
            categories=categories, description=report.description, incident_key=key,
        )
        s.add(sub)
        s.flush()
        _add_contact(s, ctx, sub.id, report.contact_email)
        reporter_updates.opt_in(s, submission_id=sub.id, email=report.contact_email, wanted=report.notify_updates,
                                today=today)
        refs = _add_evidence(s, sub.id, clean)
        if key is not None and normalised is not None:
            _count_incident(s, key, normalised[:2048], today)
        forward = ReportForward(
            report_id=sub.id, reference=sub.reference, received_on=today, account_id=report.account_id,
            account_text=report.account_text, department=department, platform=report.platform,
            links=list(report.links), seen_on=report.seen_on, categories=[ViolationCategory(c) for c in categories],
            description=report.description, evidence=refs, incident_key=key,
            has_contact=bool(report.contact_email),
        )
        enqueue(s, OutboxMessage, REPORT_FORWARD, forward, idempotency_key=sub.id, now=now)
        s.flush()
        return Created(submission_id=sub.id, reference=sub.reference,
                       receipt=issued.receipt if issued else None, kind=VIOLATION)


def _validate_report(ctx: IntakeContext, report: ReportInput, today: date) -> tuple[str | None, str | None]:
    """The checks a schema cannot make. Returns the first link normalised, and its incident key."""
    errors: list[dict[str, Any]] = []
    if not report.account_id and not report.account_text:
        errors.append(field_error(["body", "account_id"], "give account_id (from the list) or account_text"))
    if len(report.links) > ctx.max_links:
        errors.append(field_error(["body", "links"], f"at most {ctx.max_links} links"))
    if len(report.description) > ctx.max_description:
        errors.append(field_error(["body", "description"], f"at most {ctx.max_description} characters"))
    if report.seen_on is not None and report.seen_on > today:
        errors.append(field_error(["body", "seen_on"], "cannot be in the future"))
    normalised: str | None = None
    key: str | None = None
    if report.links:
        try:
            normalised = normalise_post_url(report.links[0])
            key = incident_key(report.links[0])
        except InvalidPostUrl as exc:
            errors.append(field_error(["body", "links", 0], str(exc)))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) failed validation.", errors=errors)
    _check_email(report.contact_email)
    return normalised, key


def _add_evidence(session: Session, submission_id: str, files: list[CleanFile]) -> list[EvidenceRef]:
    rows = [Evidence(submission_id=submission_id, media_type=f.media_type, size_bytes=f.size_bytes,
                     sha256=f.sha256, content=f.content) for f in files]
    session.add_all(rows)
    session.flush()
    return [EvidenceRef(id=e.id, media_type=e.media_type, size_bytes=e.size_bytes, sha256=e.sha256) for e in rows]


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


# --- policy feedback -----------------------------------------------------------------------------


def file_feedback(db: Database, ctx: IntakeContext, *, feedback: FeedbackInput, decoy_allowed: bool = True,
                  claim: Callable[[], None] = lambda: None, now: datetime) -> Created:
    if feedback.honeypot:
        return _fake(ctx, FEEDBACK, decoy_allowed=decoy_allowed)
    if len(feedback.text) > ctx.max_description:
        raise ValidationFailed("The text is too long.",
                               errors=[field_error(["body", "text"], f"at most {ctx.max_description} characters")])
    _check_email(feedback.contact_email)
    check = ctx.directory.check_policy_version(feedback.policy_id, feedback.version_id, feedback.section_id)
    if check is Check.unknown:
        raise ValidationFailed(
            "There is no published policy version (or section) with these ids.",
            errors=[field_error(["body", "version_id"], "unknown policy, version or section")],
        )
    today = now.date()
    claim()
    issued = ctx.receipts.issue()
    with db.write() as s:
        sub = Submission(
            reference=_unique_reference(s, "F"), kind=FEEDBACK, receipt_hash=issued.receipt_hash,
            received_on=today, updated_on=today, reference_check=str(check), policy_id=feedback.policy_id,
            version_id=feedback.version_id, section_id=feedback.section_id, text=feedback.text,
            rating=feedback.rating, triage_state="received",
        )
        s.add(sub)
        s.flush()
        _add_contact(s, ctx, sub.id, feedback.contact_email)
        s.flush()
        return Created(submission_id=sub.id, reference=sub.reference, receipt=issued.receipt, kind=FEEDBACK)
