"""feedback_api tables, on the service's own registry (its own database; no other service reads it).

Privacy by construction: no column holds a client address, user agent, referer or a time of day
for anything a reporter did. Reporter-facing dates are ``date`` (day precision). Row ids of
submissions, messages and evidence are random UUIDv4 (a UUIDv7 would carry the millisecond of
submission). The optional email lives in its own table, encrypted.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, LargeBinary
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.idempotency import make_idempotency_model
from shared.outbox import OutboxColumns


class Base(SQLModel, registry=registry()):
    """Every table of this service derives from this base."""


class OutboxMessage(Base, OutboxColumns, table=True):
    """A message to case_api, committed with the change it announces (``shared.outbox``)."""

    __tablename__ = "outbox"


IdempotencyKey = make_idempotency_model(Base)


def random_id() -> str:
    """A random UUIDv4: unlike UUIDv7 it carries no creation time."""
    return str(uuid.uuid4())


class Submission(Base, table=True):
    """A violation report or a piece of policy feedback, as the reporter filed it."""

    __tablename__ = "submissions"
    # Open311's request list and the staff feedback list: one kind, by day, newest first.
    __table_args__ = (Index("ix_submissions_kind_received_on", "kind", "received_on"),
                      Index("ix_submissions_kind_triage_state", "kind", "triage_state"),
                      # the retention purge: closed reports by the day they closed (domain/retention.py)
                      Index("ix_submissions_retention", "kind", "status", "updated_on"))

    id: str = Field(default_factory=random_id, primary_key=True, max_length=36)
    reference: str = Field(max_length=32, unique=True)
    kind: str = Field(max_length=20, index=True)  # violation_report | policy_feedback
    channel: str = Field(default="web", max_length=20)  # web | open311
    receipt_hash: str | None = Field(default=None, max_length=128, unique=True)
    status: str = Field(default="received", max_length=20)
    outcome_summary: str | None = Field(default=None, max_length=5000)
    received_on: date
    updated_on: date
    # where the references to policy_api stand: verified | unverified (policy_api was down) | free_text
    reference_check: str = Field(default="verified", max_length=20)
    # violation report
    account_id: str | None = Field(default=None, max_length=64, index=True)
    account_text: str | None = Field(default=None, max_length=300)
    department: str | None = Field(default=None, max_length=120)
    platform: str | None = Field(default=None, max_length=20)
    links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seen_on: date | None = None
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str | None = Field(default=None, max_length=5000)
    incident_key: str | None = Field(default=None, max_length=128, index=True)
    reconsideration_requested_on: date | None = Field(
        default=None, description="The day a closed report asked for reconsideration (once; issue 14 item 5).")
    # policy feedback
    policy_id: str | None = Field(default=None, max_length=64, index=True)
    version_id: str | None = Field(default=None, max_length=64)
    section_id: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=5000)
    rating: int | None = None
    # policy feedback triage by policy staff (domain/feedback_triage.py); None for violation reports
    triage_state: str | None = Field(default=None, max_length=20)


class Incident(Base, table=True):
    """Many reports of the same post: one incident with a count (case_api does the same by ``incident_key``)."""

    __tablename__ = "incidents"

    incident_key: str = Field(primary_key=True, max_length=128)
    normalised_url: str = Field(max_length=2048)
    report_count: int = 0
    first_reported_on: date
    last_reported_on: date


class Contact(Base, table=True):
    """The optional reporter email, encrypted (Fernet). Deleted on the reporter's request."""

    __tablename__ = "contacts"

    submission_id: str = Field(primary_key=True, foreign_key="submissions.id", max_length=36)
    ciphertext: str = Field(max_length=2000)


class Message(Base, table=True):
    __tablename__ = "messages"

    id: str = Field(default_factory=random_id, primary_key=True, max_length=36)
    submission_id: str = Field(foreign_key="submissions.id", index=True, max_length=36)
    seq: int = Field(description="Order within the submission (there are no times to sort by).")
    sender: str = Field(max_length=10)  # reporter | city
    body: str = Field(max_length=5000)
    sent_on: date
    event_id: str | None = Field(default=None, max_length=64)


class Evidence(Base, table=True):
    """An uploaded file after sanitising (images re-encoded without metadata)."""

    __tablename__ = "evidence"

    id: str = Field(default_factory=random_id, primary_key=True, max_length=36)
    submission_id: str = Field(foreign_key="submissions.id", index=True, max_length=36)
    media_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class FeedbackTriageEvent(Base, table=True):
    """One step of a piece of policy feedback's triage by policy staff (append-only): who, when, what.
    Staff times are kept to the second; nothing here says anything about the resident."""

    __tablename__ = "feedback_triage_events"

    id: str = Field(default_factory=random_id, primary_key=True, max_length=36)
    submission_id: str = Field(foreign_key="submissions.id", index=True, max_length=36)
    seq: int
    action: str = Field(max_length=20)  # consider | answer | close | reopen
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    at: datetime
    note: str | None = Field(default=None, max_length=2000)
