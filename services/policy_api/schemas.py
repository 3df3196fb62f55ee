"""policy_api's own request and response models (wire models shared with other services are in
``shared/schemas/registry.py``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, HttpUrl

from shared.schemas.base import InputModel, OutputModel
from shared.schemas.page import Page
from shared.schemas.registry import AccountStatus, Platform, PrivilegeChange

ElementKey = str


class PolicyKind(StrEnum):
    social_media_policy = "social_media_policy"
    administrative_instruction = "administrative_instruction"
    department_guideline = "department_guideline"
    other = "other"


class ReviewOutcome(StrEnum):
    reaffirmed = "reaffirmed"
    revision_started = "revision_started"


# --- elements ------------------------------------------------------------------------------


class ElementOut(OutputModel):
    key: str
    title: str
    description: str
    ordinal: int
    required: bool = True


class ElementUpsert(InputModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    ordinal: int = Field(default=0, ge=0, le=1000)
    required: bool = True


# --- accounts ------------------------------------------------------------------------------


class AccountCreate(InputModel):
    platform: Platform
    handle: str = Field(min_length=1, max_length=200)
    profile_url: HttpUrl
    department: str = Field(min_length=1, max_length=120)
    purpose: str = Field(default="", max_length=1000)
    status: AccountStatus = AccountStatus.active
    pio_name: str | None = Field(default=None, max_length=200)
    pio_title: str | None = Field(default=None, max_length=200)


class AccountUpdate(InputModel):
    platform: Platform | None = None
    handle: str | None = Field(default=None, min_length=1, max_length=200)
    profile_url: HttpUrl | None = None
    department: str | None = Field(default=None, min_length=1, max_length=120)
    purpose: str | None = Field(default=None, max_length=1000)
    status: AccountStatus | None = None
    pio_name: str | None = Field(default=None, max_length=200)
    pio_title: str | None = Field(default=None, max_length=200)


class PrivilegeGrant(PrivilegeChange):
    """A records manager or admin grants posting privileges. Only on an active account (409
    `account-not-active`). If a case revoked this privilege, granting it again needs that case's
    `case_reference` and a `reason` (422 `case_reference_required` / `reason_required`); both are kept
    in the privilege history."""


class PrivilegeOut(OutputModel):
    account_id: str
    employee_id: str
    active: bool
    updated_at: datetime


class PrivilegeEventOut(OutputModel):
    id: str
    account_id: str
    employee_id: str
    action: Literal["granted", "revoked"]
    reason: str
    case_reference: str | None = Field(description="revoked: the case that revoked it; granted: the case whose "
                                                    "revocation this grant lifts, with the reason why.")
    actor: str
    at: datetime


# --- policies ------------------------------------------------------------------------------


class PolicyCreate(InputModel):
    kind: PolicyKind
    identifier: str = Field(min_length=1, max_length=64, examples=["AI 1-19"])
    title: str = Field(min_length=1, max_length=300)
    department: str = Field(min_length=1, max_length=120)
    review_interval_months: int | None = Field(default=None, ge=1, le=60)
    binds_account_holders: bool | None = Field(
        default=None, description="Default: true for social_media_policy, false otherwise."
    )
    citywide: bool = Field(default=True, description="false: in force only for employees of `department`.")


class PolicyUpdate(InputModel):
    kind: PolicyKind | None = None
    identifier: str | None = Field(default=None, min_length=1, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=300)
    department: str | None = Field(default=None, min_length=1, max_length=120)
    review_interval_months: int | None = Field(default=None, ge=1, le=60)
    binds_account_holders: bool | None = None
    citywide: bool | None = None


class SectionIn(InputModel):
    key: str | None = Field(default=None, max_length=80, description="Stable key; default: from the heading.")
    heading: str = Field(min_length=1, max_length=300)
    body_markdown: str = Field(default="", max_length=100_000)
    elements: list[ElementKey] = Field(default_factory=list, max_length=20)


class SectionAdd(SectionIn):
    position: int | None = Field(default=None, ge=0, le=1000, description="Insert at this index; default: last.")


class SectionUpdate(InputModel):
    heading: str | None = Field(default=None, min_length=1, max_length=300)
    body_markdown: str | None = Field(default=None, max_length=100_000)
    elements: list[ElementKey] | None = Field(default=None, max_length=20)


class VersionCreate(InputModel):
    label: str | None = Field(default=None, max_length=40)
    effective_date: date | None = None
    change_summary: str = Field(default="", max_length=4000)
    sections: list[SectionIn] | None = Field(
        default=None, max_length=200, description="Omit to start from the latest version's sections."
    )


class VersionUpdate(InputModel):
    label: str | None = Field(default=None, min_length=1, max_length=40)
    effective_date: date | None = None
    change_summary: str | None = Field(default=None, max_length=4000)


class TransitionIn(InputModel):
    note: str | None = Field(default=None, max_length=2000)


class ApproveIn(TransitionIn):
    attested_elements: list[ElementKey] = Field(
        default_factory=list, max_length=50,
        description="The R-24-89 element keys the approver attests are met by this version, one by one. For a "
                    "social media policy every required element must be listed (422 `not_attested` otherwise).")


class RetireIn(InputModel):
    reason: str = Field(min_length=3, max_length=2000, description="Why the policy is withdrawn without a successor.")


class PublishIn(InputModel):
    effective_date: date | None = Field(default=None, description="Default: the version's, else today.")
    published_on: date | None = Field(
        default=None,
        description="Imported (legacy) versions only: the date the version was really first published, not in "
                    "the future. The review clock runs from it. Default: today.")
    note: str | None = Field(default=None, max_length=2000)


class SectionOut(OutputModel):
    id: str
    key: str
    ordinal: int
    heading: str
    body_markdown: str
    body_html: str
    elements: list[str]


class ReviewStatusOut(OutputModel):
    interval_months: int
    basis: Literal["review", "publication"] | None
    basis_date: date | None
    last_reviewed_on: date | None = None
    next_review_due: date | None
    overdue: bool
    days_until_due: int | None


class VersionSummary(OutputModel):
    id: str
    policy_id: str
    number: int
    label: str
    state: str
    effective_date: date | None
    ended_on: date | None
    change_summary: str
    published_at: datetime | None
    published_on: date | None = Field(default=None, description="The day it was really published (imported "
                                      "versions: their original date); the review clock runs from it.")
    backdated: bool = Field(default=False, description="Effective before the day it was published.")
    approved_at: datetime | None = None


class VersionStaffFields(OutputModel):
    author_id: str
    contributors: list[str]
    approved_by: str | None
    attested_elements: list[str] = Field(default_factory=list, description="What the approver attested.")
    published_by: str | None
    submitted_at: datetime | None
    allowed_actions: list[str]
    retirement_requested_by: str | None = None
    retirement_requested_at: datetime | None = None
    retirement_reason: str | None = None
    retired_by: str | None = None


class VersionOut(VersionSummary):
    sections: list[SectionOut]
    staff: VersionStaffFields | None = Field(default=None, description="Only for staff callers.")


class PolicySummary(OutputModel):
    id: str
    kind: PolicyKind
    identifier: str
    title: str
    department: str
    current_version: VersionSummary | None
    review_status: ReviewStatusOut
    status: Literal["draft", "in_force", "retired"] = Field(
        default="in_force", description="retired: withdrawn without a successor; still listed, with its history.")
    retired_on: date | None = None


class PolicyOut(PolicySummary):
    binds_account_holders: bool
    citywide: bool = Field(default=True, description="false: in force only for employees of its department.")
    versions: list[VersionSummary] = Field(description="Newest first (public: published versions only).")
    open_version: VersionSummary | None = Field(default=None, description="Only for staff callers.")


class ChecklistSection(OutputModel):
    id: str
    heading: str


class ChecklistItemOut(OutputModel):
    key: str
    title: str
    covered: bool
    sections: list[ChecklistSection]


class CompletenessOut(OutputModel):
    policy_id: str
    version_id: str
    applies: bool = Field(description="Only social_media_policy versions are checked against the catalogue.")
    complete: bool
    missing: list[str]
    items: list[ChecklistItemOut]


class WordChunkOut(OutputModel):
    op: Literal["same", "ins", "del"]
    text: str


class SectionDiffOut(OutputModel):
    key: str
    status: Literal["added", "removed", "changed", "unchanged"]
    heading_before: str | None
    heading_after: str | None
    elements_added: list[str]
    elements_removed: list[str]
    moved: bool
    unified_diff: str
    words: list[WordChunkOut] = Field(default_factory=list, description="Word-level comparison of the heading and "
                                      "text as readers see it (no Markdown markup): same, del and ins runs in order.")


class DiffOut(OutputModel):
    policy_id: str
    from_version: VersionSummary
    to_version: VersionSummary
    counts: dict[str, int]
    sections: list[SectionDiffOut]


class HistoryEvent(OutputModel):
    at: datetime
    event: Literal["published", "superseded", "retired", "reviewed"]
    version_id: str | None
    version_label: str | None
    detail: str | None = None


class ReviewIn(InputModel):
    outcome: ReviewOutcome
    notes: str = Field(default="", max_length=4000)
    reviewed_on: date | None = Field(default=None, description="Default: today.")


class ReviewOut(OutputModel):
    id: str
    policy_id: str
    version_id: str | None
    reviewed_on: date
    outcome: ReviewOutcome
    notes: str
    reviewer: str | None = Field(default=None, description="Only for staff callers.")
    recorded_at: datetime
    feedback_at_review: dict[str, int] | None = Field(
        default=None, description="Residents' feedback on the policy received by the time of the review, by triage "
                                  "state (received, considered, answered, closed); null when it could not be counted.")


class DueReview(OutputModel):
    policy_id: str
    identifier: str
    title: str
    current_version_id: str
    review_status: ReviewStatusOut


# --- acknowledgements ---------------------------------------------------------------------


class AcknowledgementIn(InputModel):
    employee_id: str | None = Field(
        default=None, min_length=1, max_length=100,
        description="Records staff may record for someone else; default: the caller.",
    )


class AcknowledgementOut(OutputModel):
    id: str
    policy_id: str
    version_id: str
    employee_id: str
    acknowledged_at: datetime
    recorded_by: str


class BoundEmployeeOut(OutputModel):
    employee_id: str
    via_binding: bool
    via_privilege: bool


class MissingAcknowledgements(OutputModel):
    policy_id: str
    version_id: str
    version_label: str
    bound: int = Field(description="How many staff the policy binds.")
    missing: Page[BoundEmployeeOut] = Field(description="Bound staff without an acknowledgement, by employee id.")


class BindingIn(InputModel):
    employee_id: str = Field(min_length=1, max_length=100)


class BindingOut(OutputModel):
    policy_id: str
    employee_id: str
    added_by: str
    added_at: datetime


# --- change log ------------------------------------------------------------------------------


class ChangeOut(OutputModel):
    id: str
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None



class CouncilReportOut(OutputModel):
    id: str
    generated_at: datetime
    generated_by: str
    policy_id: str | None
    version_id: str | None
    approved_at: datetime | None = Field(description="When the version in force was approved: the 30-day clock starts.")
    due_by: date | None = Field(description="30 days after that approval.")
    html_sha256: str = Field(description="SHA-256 of the report's HTML as generated and stored.")
    sent_at: datetime | None
    sent_by: str | None
    sent_note: str | None
    html_url: str
    pdf_url: str


class CouncilReportSentIn(InputModel):
    sent_at: datetime | None = Field(default=None, description="Default: now. Not in the future.")
    note: str | None = Field(default=None, max_length=2000, description="e.g. the EC number or who received it.")
