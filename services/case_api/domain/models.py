"""case_api tables, on the service's own registry (its own database; no other service reads it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import JSON, Column, Field, SQLModel

from shared.idempotency import make_idempotency_model
from shared.ids import new_id
from shared.outbox import OutboxColumns


class Base(SQLModel, registry=registry()):
    """Every table of this service derives from this base."""


class OutboxMessage(Base, OutboxColumns, table=True):
    """Messages to feedback_api and policy_api, committed with the change they announce."""

    __tablename__ = "outbox"


IdempotencyKey = make_idempotency_model(Base)


class Case(Base, table=True):
    __tablename__ = "cases"
    # The staff case list pages newest first, for everyone or for one department: without these
    # indexes every page sorts the whole (filtered) table.
    __table_args__ = (
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_department_created_at_id", "department", "created_at", "id"),
        # filtered by state, newest first; and the due-soon / overdue lists, by deadline
        Index("ix_cases_state_created_at_id", "state", "created_at", "id"),
        Index("ix_cases_due_at_id", "due_at", "id"),
        # the metrics' GROUP BY and the time-to-resolution percentiles read only the index
        Index("ix_cases_metrics", "state", "department", "finding", "due_at", "closed_at", "created_at"),
        # the lists' bounded count reads recusal (employee_id) and the case id from the index alone,
        # for everyone or for one department (migration 0017: 1.8 -> 0.9 ms over 10,000 cases)
        Index("ix_cases_employee_id_id", "employee_id", "id"),
        Index("ix_cases_department_employee_id_id", "department", "employee_id", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    reference: str = Field(max_length=32, unique=True)
    source: str = Field(max_length=20, description="report | staff | monitoring")
    state: str = Field(max_length=20, index=True)
    state_entered_at: datetime
    due_at: datetime | None = None
    department: str | None = Field(default=None, max_length=120)
    account_id: str | None = Field(default=None, max_length=64)
    account_text: str | None = Field(default=None, max_length=300)
    platform: str | None = Field(default=None, max_length=20)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: str = Field(max_length=5000)
    links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    incident_key: str | None = Field(default=None, max_length=128, index=True)
    seen_on: date | None = None
    # Confidential: the employee who posted. Visible only to the roles in domain.access.
    employee_id: str | None = Field(default=None, max_length=100)
    assignee: str | None = Field(default=None, max_length=100, index=True)
    dismissal_reason: str | None = Field(default=None, max_length=2000)
    reopen_reason: str | None = Field(default=None, max_length=2000)
    finding: str | None = Field(default=None, max_length=20, index=True)
    finding_at: datetime | None = Field(default=None, index=True)
    severity: int | None = None
    recommendation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    decision: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    outcome_summary: str | None = Field(default=None, max_length=2000)
    created_at: datetime
    closed_at: datetime | None = None
    updated_at: datetime


class CaseReport(Base, table=True):
    """A forwarded public report attached to a case (several reports about one post, one case)."""

    __tablename__ = "case_reports"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    report_id: str = Field(max_length=64, unique=True)
    reference: str = Field(max_length=32)
    received_on: date
    has_contact: bool = False
    created_at: datetime
    # The report's own testimony (issue 15 item 1): kept per report, never merged away. Null on
    # reports linked before migration 0014 (only the first report's text was kept then, as the
    # case's summary).
    description: str | None = Field(default=None, max_length=5000)
    categories: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    links: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    seen_on: date | None = None
    evidence: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    merged_from: str | None = Field(default=None, max_length=36,
                                    description="the case this report was on before a merge (domain/linking.py)")
    # issue 14 item 5: a closed report may ask once for reconsideration (domain/reporter_safety.py)
    reconsideration_on: date | None = None
    reconsideration_reason: str | None = Field(default=None, max_length=2000)


class CaseLink(Base, table=True):
    """Two cases about the same incident: ``related`` (both stay open, each names the other) or
    ``merged`` (``other_case_id``'s reports, testimony and evidence moved to ``case_id``; the other
    case closed as merged). Never updated or deleted (domain/linking.py)."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "other_case_id", name="uq_case_links_pair"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    other_case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    kind: str = Field(max_length=20, description="related | merged")
    reason: str = Field(max_length=2000)
    linked_by: str = Field(max_length=100)
    created_at: datetime


class CaseNote(Base, table=True):
    __tablename__ = "case_notes"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    author: str = Field(max_length=100)
    body: str = Field(max_length=5000)
    created_at: datetime


class CaseMessage(Base, table=True):
    """Messages with the anonymous reporter: ``from_reporter`` (via feedback_api) or ``to_reporter``."""

    __tablename__ = "case_messages"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    report_id: str | None = Field(default=None, max_length=64, index=True)
    direction: str = Field(max_length=20)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    author: str | None = Field(default=None, max_length=100)
    body: str = Field(max_length=5000)
    created_at: datetime


class RestorativeAction(Base, table=True):
    __tablename__ = "restorative_actions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    kind: str = Field(max_length=40)
    owner: str = Field(max_length=100)
    due_on: date
    status: str = Field(max_length=20, index=True)
    description: str | None = Field(default=None, max_length=2000)
    account_id: str | None = Field(default=None, max_length=64)
    evidence: str | None = Field(default=None, max_length=2000)
    completed_at: datetime | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime
    updated_at: datetime


class AuditEntry(Base, table=True):
    """Append-only, hash-chained (see domain/audit_chain.py). Never updated, never deleted."""

    __tablename__ = "audit_entries"
    # a case's entries in order (the audit list, and the seal check of every change)
    __table_args__ = (Index("ix_audit_entries_case_id_seq", "case_id", "seq"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    case_id: str | None = Field(default=None, max_length=36)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(Base, table=True):
    """The latest entry's seq and hash: deleting the newest entries is detected too."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: str = Field(max_length=64)


# --- monitoring and review (R-24-89 §1.A.5) ----------------------------------------------


class MonitoredAccount(Base, table=True):
    """An official account as last read from policy_api's registry."""

    __tablename__ = "monitored_accounts"

    account_id: str = Field(primary_key=True, max_length=64)
    department: str = Field(max_length=120, index=True)
    platform: str = Field(max_length=20)
    handle: str = Field(max_length=200)
    status: str = Field(max_length=20, index=True)
    cadence_days: int | None = Field(default=None, description="Per-account override of the review cadence.")
    first_seen_at: datetime
    updated_at: datetime


class Review(Base, table=True):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("account_id", "period_start", name="uq_reviews_account_period"),
                      # the review lists page by due date
                      Index("ix_reviews_due_on_id", "due_on", "id"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    account_id: str = Field(foreign_key="monitored_accounts.account_id", index=True, max_length=64)
    department: str = Field(max_length=120, index=True)
    period_start: date
    period_end: date
    due_on: date
    status: str = Field(max_length=20, index=True)
    reviewer: str | None = Field(default=None, max_length=100)
    checklist: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sample: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sample_top: int = Field(default=0, description="The first n ids of the sample were drawn by risk score "
                                                   "(migration 0012); the rest at random.")
    completed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class MonitoredPost(Base, table=True):
    __tablename__ = "monitored_posts"
    # a review samples its account's posts of its period, top-scored first (migration 0012)
    __table_args__ = (Index("ix_monitored_posts_account_posted", "account_id", "posted_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    url: str = Field(max_length=2000)
    url_key: str = Field(max_length=64, unique=True, description="incident_key of the normalised URL")
    account_id: str = Field(foreign_key="monitored_accounts.account_id", index=True, max_length=64)
    posted_at: datetime = Field(index=True)
    text: str = Field(max_length=10000)
    thread: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(max_length=20)
    imported_at: datetime
    # issue 18 (migration 0012): the URL as imported, a screenshot link if the export had one, and
    # the risk score of domain/risk.py with the rules it matched (risk-ranked sampling)
    original_url: str | None = Field(default=None, max_length=2000)
    screenshot_url: str | None = Field(default=None, max_length=2000)
    risk_score: float = Field(default=0.0)
    risk_rules: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


class ReviewFinding(Base, table=True):
    __tablename__ = "review_findings"
    __table_args__ = (UniqueConstraint("review_id", "post_id", "item_key", name="uq_review_findings_item"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    review_id: str = Field(foreign_key="reviews.id", index=True, max_length=36)
    post_id: str = Field(foreign_key="monitored_posts.id", max_length=36)
    item_key: str = Field(max_length=64)
    element: str = Field(max_length=64, index=True)
    result: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    case_id: str | None = Field(default=None, max_length=36)
    created_at: datetime


# --- recusal and decisions (issue 14) ------------------------------------------------------


class CaseParty(Base, table=True):
    """A person the case names besides its subject employee (``involved``), or a staff member who
    declared a conflict of interest (``conflict``). Both are recused from the case, like the
    subject: every read and write of the case by them is 404 and audited."""

    __tablename__ = "case_parties"
    __table_args__ = (UniqueConstraint("case_id", "person_key", "kind", name="uq_case_parties_person"),
                      Index("ix_case_parties_person_key_case_id", "person_key", "case_id"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    person_key: str = Field(max_length=100, description="identity.person_key of the person")
    kind: str = Field(max_length=20, description="involved | conflict")
    reason: str | None = Field(default=None, max_length=2000)
    declared_by: str = Field(max_length=100)
    created_at: datetime


class CaseDecision(Base, table=True):
    """Every disciplinary decision and amendment of a case, never updated except for its status
    (pending -> in_force -> superseded) and approval. ``cases.decision`` mirrors the one in force."""

    __tablename__ = "case_decisions"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_case_decisions_version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    version: int
    amends: str | None = Field(default=None, max_length=36, description="the decision this one changes")
    action: str = Field(max_length=40)
    recommended: str = Field(max_length=40)
    differs: bool
    heavier: bool
    justification: str | None = Field(default=None, max_length=5000)
    amendment_reason: str | None = Field(default=None, max_length=5000)
    decided_by: str = Field(max_length=100)
    role: str = Field(max_length=40)
    decided_at: datetime
    approval_rule: str | None = Field(default=None, max_length=40,
                                      description="amendment | director_is_subject (None: no approval needed)")
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = None
    status: str = Field(max_length=20, description="pending | in_force | superseded | withdrawn")


class DueProcess(Base, table=True):
    """One proceeding: the proposed action and its notice, the employee's response, the final
    decision, an appeal and its outcome (``domain/due_process.py``)."""

    __tablename__ = "due_process"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=36)
    step: str = Field(max_length=20, index=True)
    proposed_action: str = Field(max_length=40)
    proposal_reason: str | None = Field(default=None, max_length=5000)
    proposed_by: str = Field(max_length=100)
    noticed_at: datetime
    response_due_on: date
    response: str | None = Field(default=None, max_length=10000)
    responded_at: datetime | None = None
    decision_id: str | None = Field(default=None, max_length=36)
    final_action: str | None = Field(default=None, max_length=40)
    decided_at: datetime | None = None
    appeal_due_on: date | None = None
    appeal_grounds: str | None = Field(default=None, max_length=10000)
    appealed_at: datetime | None = None
    appeal_outcome_reason: str | None = Field(default=None, max_length=5000)
    appeal_decided_by: str | None = Field(default=None, max_length=100)
    appeal_decided_at: datetime | None = None


class Employee(Base, table=True):
    """The directory of employees, synced from the City's identity system over SCIM 2.0
    (``/scim/v2/Users``) or imported. ``user_name_key`` is ``identity.person_key(user_name)``:
    what cases, assignees and parties store. Deactivated (``active=false``), never deleted."""

    __tablename__ = "employees"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_name: str = Field(max_length=100)
    user_name_key: str = Field(max_length=100, unique=True)
    external_id: str | None = Field(default=None, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=120)
    active: bool = True
    version: int = 1
    created_at: datetime
    updated_at: datetime
