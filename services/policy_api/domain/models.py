"""policy_api tables, on the service's own registry (its own database; no other service reads it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import JSON, Column, Field, SQLModel

from shared.idempotency import make_idempotency_model
from shared.ids import new_id


class Base(SQLModel, registry=registry()):
    """Every table of this service derives from this base."""


IdempotencyKey = make_idempotency_model(Base)


# --- the R-24-89 element catalogue (data, seeded with the resolution's eight) -----------


class Element(Base, table=True):
    __tablename__ = "elements"

    key: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    ordinal: int = 0
    required: bool = True


# --- the official accounts registry -----------------------------------------------------


class Account(Base, table=True):
    __tablename__ = "accounts"
    # One account, one entry: uniqueness is on the handle's normal form (domain/handles.py, issue 20).
    __table_args__ = (UniqueConstraint("platform", "handle_key", name="uq_accounts_platform_handle_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    platform: str = Field(max_length=32, index=True)
    handle: str = Field(max_length=200)
    handle_key: str = Field(max_length=200, description="handles.handle_key(handle): case, '@' and URL forms "
                                                          "folded.")
    profile_url: str = Field(max_length=500)
    department: str = Field(max_length=120, index=True)
    purpose: str = Field(default="", max_length=1000)
    status: str = Field(default="active", max_length=16, index=True)
    pio_name: str | None = Field(default=None, max_length=200)
    pio_title: str | None = Field(default=None, max_length=200)
    created_at: datetime
    updated_at: datetime


class PostingPrivilege(Base, table=True):
    """Current state of one employee's posting privilege on one account."""

    __tablename__ = "posting_privileges"

    account_id: str = Field(primary_key=True, foreign_key="accounts.id", max_length=64)
    employee_id: str = Field(primary_key=True, max_length=100, index=True)
    active: bool = True
    updated_at: datetime


class PrivilegeEvent(Base, table=True):
    """Append-only history of grants and revocations."""

    __tablename__ = "privilege_events"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    account_id: str = Field(foreign_key="accounts.id", max_length=64, index=True)
    employee_id: str = Field(max_length=100, index=True)
    action: str = Field(max_length=16)  # granted | revoked
    reason: str = Field(max_length=2000)
    case_reference: str | None = Field(default=None, max_length=64)
    actor: str = Field(max_length=200)
    at: datetime


# --- policies -------------------------------------------------------------------------------


class Policy(Base, table=True):
    __tablename__ = "policies"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    kind: str = Field(max_length=40, index=True)
    identifier: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=300)
    department: str = Field(max_length=120)
    review_interval_months: int = 12
    citywide: bool = Field(
        default=True, sa_column_kwargs={"server_default": text("true")},
        description="In force for every department; false: only for employees of the policy's own department.")
    binds_account_holders: bool = Field(
        default=False, description="Holders of posting privileges on active accounts are bound by this policy."
    )
    created_by: str = Field(max_length=200)
    created_at: datetime
    updated_at: datetime


class PolicyVersion(Base, table=True):
    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_id", "number", name="uq_policy_versions_number"),
        # The database itself guarantees one published and one open version per policy.
        Index("uq_policy_versions_one_published", "policy_id", unique=True,
              sqlite_where=text("state = 'published'"), postgresql_where=text("state = 'published'")),
        Index("uq_policy_versions_one_open", "policy_id", unique=True,
              sqlite_where=text("state IN ('draft', 'in_review', 'approved')"),
              postgresql_where=text("state IN ('draft', 'in_review', 'approved')")),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    policy_id: str = Field(foreign_key="policies.id", max_length=64, index=True)
    number: int
    label: str = Field(max_length=40)
    state: str = Field(default="draft", max_length=16, index=True)
    effective_date: date | None = None
    ended_on: date | None = None
    change_summary: str = Field(default="", max_length=4000)
    author_id: str = Field(max_length=200)
    contributors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submitted_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = None
    attested_elements: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"),
        description="The R-24-89 elements the approver attested, one by one, when approving.")
    published_by: str | None = Field(default=None, max_length=200)
    published_at: datetime | None = None
    published_on: date | None = Field(
        default=None,
        description="The day the version was really published: the day of publishing, or for an imported "
                    "(legacy) version the date it was first published. The review clock runs from it.")
    superseded_at: datetime | None = None
    retired_at: datetime | None = None
    retired_by: str | None = Field(default=None, max_length=200)
    # Retiring needs two people (issue 20): one requests, a different approver confirms.
    retirement_requested_by: str | None = Field(default=None, max_length=200)
    retirement_requested_at: datetime | None = None
    retirement_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime
    updated_at: datetime


class Section(Base, table=True):
    __tablename__ = "policy_sections"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    version_id: str = Field(foreign_key="policy_versions.id", max_length=64, index=True)
    key: str = Field(max_length=80, description="Stable across versions: diffs pair sections by key.")
    ordinal: int = 0
    heading: str = Field(max_length=300)
    body_markdown: str = Field(default="")
    body_html: str = Field(default="")
    elements: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PolicyReview(Base, table=True):
    __tablename__ = "policy_reviews"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    policy_id: str = Field(foreign_key="policies.id", max_length=64, index=True)
    version_id: str | None = Field(default=None, max_length=64)
    reviewed_on: date
    outcome: str = Field(max_length=32)  # reaffirmed | revision_started
    notes: str = Field(default="", max_length=4000)
    reviewer: str = Field(max_length=200)
    recorded_at: datetime
    # Residents' feedback on the policy received by the time of the review, by triage state, as feedback_api
    # counted it when the review was recorded (issue 20 item 5); None: feedback_api did not answer.
    feedback_at_review: dict[str, int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class PolicyFeedbackLink(Base, table=True):
    """A resident's policy feedback (feedback_api, by its public reference) linked by policy staff to the
    version or the review it informed, with what changed because of it (issue 20 item 5)."""

    __tablename__ = "policy_feedback_links"
    __table_args__ = (UniqueConstraint("feedback_reference", "target_type", "target_id",
                                       name="uq_policy_feedback_links_target"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    policy_id: str = Field(foreign_key="policies.id", max_length=64, index=True)
    feedback_reference: str = Field(max_length=32, index=True)
    target_type: str = Field(max_length=10)  # version | review
    target_id: str = Field(max_length=64, index=True)
    what_changed: str = Field(default="", max_length=2000)
    feedback_received_on: date
    linked_by: str = Field(max_length=200)
    linked_at: datetime


class Acknowledgement(Base, table=True):
    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("version_id", "employee_id", name="uq_ack_version_employee"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    policy_id: str = Field(foreign_key="policies.id", max_length=64, index=True)
    version_id: str = Field(foreign_key="policy_versions.id", max_length=64, index=True)
    employee_id: str = Field(max_length=100, index=True)
    acknowledged_at: datetime
    recorded_by: str = Field(max_length=200)


class PolicyBinding(Base, table=True):
    """Staff explicitly bound by a policy (besides posting-privilege holders, see docs)."""

    __tablename__ = "policy_bindings"

    policy_id: str = Field(primary_key=True, foreign_key="policies.id", max_length=64)
    employee_id: str = Field(primary_key=True, max_length=100)
    added_by: str = Field(max_length=200)
    added_at: datetime


class ChangeLogEntry(Base, table=True):
    """Append-only: who changed what, when, with the state before and after."""

    __tablename__ = "change_log"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=80)
    entity_type: str = Field(max_length=40, index=True)
    entity_id: str = Field(max_length=64, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    request_id: str | None = Field(default=None, max_length=64)


class CouncilReport(Base, table=True):
    """An Executive Communication to Council (R-24-89 §2) as generated: its HTML is kept as it was."""

    __tablename__ = "council_reports"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    generated_at: datetime = Field(index=True)
    generated_by: str = Field(max_length=200)
    policy_id: str | None = Field(default=None, max_length=64)
    version_id: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = None
    html: str
    html_sha256: str = Field(max_length=64)
    sent_at: datetime | None = None
    sent_by: str | None = Field(default=None, max_length=200)
    sent_note: str | None = Field(default=None, max_length=2000)
