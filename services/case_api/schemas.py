"""case_api's own request and response models (wire models shared with other services are in shared/schemas)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from services.case_api.domain.case_list import TOTAL_CAP
from services.case_api.domain.ladder import DisciplinaryAction, RestorativeKind
from services.case_api.domain.paging import Listing
from services.case_api.domain.state_machine import Finding, State
from shared.schemas.base import InputModel, OutputModel
from shared.schemas.intake import MAX_DESCRIPTION, MAX_LINKS, ViolationCategory
from shared.schemas.page import Page
from shared.schemas.registry import Platform

Text = Field(min_length=1, max_length=MAX_DESCRIPTION)


class CaseCreate(InputModel):
    department: str | None = Field(default=None, max_length=120)
    account_id: str | None = Field(default=None, max_length=64)
    account_text: str | None = Field(default=None, max_length=300)
    platform: Platform | None = None
    categories: list[ViolationCategory] = Field(min_length=1, max_length=len(ViolationCategory))
    summary: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    links: list[str] = Field(default_factory=list, max_length=MAX_LINKS)
    seen_on: date | None = None


class TransitionIn(InputModel):
    to: Literal["triaged", "dismissed", "investigating", "actions", "closed"]
    reason: str | None = Field(default=None, max_length=2000)
    department: str | None = Field(default=None, max_length=120, description="Set or correct at triage.")
    outcome_summary: str | None = Field(default=None, max_length=2000,
                                        description="On closing: the public outcome the reporter sees.")


class ReopenIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000)


class AssignIn(InputModel):
    assignee: str | None = Field(default=None, max_length=100)


class EmployeeIn(InputModel):
    employee_id: str | None = Field(default=None, max_length=100)


class FindingIn(InputModel):
    finding: Finding
    severity: int | None = Field(default=None, ge=1, le=4, description="1 minor .. 4 severe (GET /v1/ladder)")
    summary: str | None = Field(default=None, max_length=2000,
                                description="Public outcome summary: what the reporter sees when the case closes.")


class DecisionIn(InputModel):
    action: DisciplinaryAction
    justification: str | None = Field(default=None, max_length=5000)
    amendment_reason: str | None = Field(default=None, max_length=5000, description=(
        "Required when a decision is already in force: the change is an amendment, in force once a second "
        "approver (not its author, not the earlier decider) approves it."))


class DecisionOut(OutputModel):
    id: str
    version: int
    amends: str | None
    action: DisciplinaryAction
    recommended: DisciplinaryAction
    differs: bool
    heavier: bool
    justification: str | None
    amendment_reason: str | None
    decided_by: str
    role: str
    decided_at: datetime
    approval_rule: str | None = Field(description="amendment | director_is_subject | null (none needed)")
    approved_by: str | None
    approved_at: datetime | None
    status: Literal["pending", "in_force", "superseded", "withdrawn"]


class ProposalIn(InputModel):
    action: DisciplinaryAction
    reason: str | None = Field(default=None, max_length=5000, description="Shown to the employee with the notice.")


class ProceedingOut(OutputModel):
    id: str
    step: Literal["noticed", "responded", "decided", "appealed", "upheld", "overturned"]
    proposed_action: DisciplinaryAction
    proposal_reason: str | None
    proposed_by: str
    noticed_at: datetime
    response_due_on: date
    response: str | None
    responded_at: datetime | None
    decision_id: str | None
    final_action: DisciplinaryAction | None
    decided_at: datetime | None
    appeal_due_on: date | None
    appeal_grounds: str | None
    appealed_at: datetime | None
    appeal_outcome_reason: str | None
    appeal_decided_by: str | None
    appeal_decided_at: datetime | None


class AppealOutcomeIn(InputModel):
    outcome: Literal["upheld", "overturned"]
    reason: str = Field(min_length=1, max_length=5000)


class NoticeOut(OutputModel):
    """What the employee is told about a proceeding against them (never the reporter, notes or evidence)."""

    id: str
    case_reference: str
    categories: list[str]
    severity: int | None
    step: str
    proposed_action: DisciplinaryAction
    proposal_reason: str | None
    noticed_at: datetime
    response_due_on: date
    response: str | None
    final_action: DisciplinaryAction | None
    appeal_due_on: date | None
    appeal_grounds: str | None


class NoticeResponseIn(InputModel):
    text: str = Field(min_length=1, max_length=10000)


class AppealIn(InputModel):
    grounds: str = Field(min_length=1, max_length=10000)


class ConflictIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000, description="Kept with the declaration, not shown to others.")


class ConflictOut(OutputModel):
    case_id: str
    declared_at: datetime
    recused: bool = True


class InvolvedIn(InputModel):
    person_id: str = Field(min_length=1, max_length=100, description="The employee id of a person the case involves.")
    reason: str | None = Field(default=None, max_length=2000)


class NoteIn(InputModel):
    body: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class MessageIn(InputModel):
    body: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    report_id: str | None = Field(default=None, max_length=64, description=(
        "The report whose reporter this is for; required when the case holds several reports (never a broadcast)."))


class RestorativeCreate(InputModel):
    kind: RestorativeKind
    owner: str = Field(min_length=1, max_length=100)
    due_on: date
    description: str | None = Field(default=None, max_length=2000)
    account_id: str | None = Field(default=None, max_length=64, description="For privilege_revocation; "
                                   "defaults to the case's account.")


class RestorativeUpdate(InputModel):
    status: Literal["in_progress", "completed", "cancelled"]
    evidence: str | None = Field(default=None, max_length=2000)


class CaseSummaryOut(OutputModel):
    id: str
    reference: str
    source: str
    state: State
    department: str | None
    platform: str | None
    categories: list[str]
    assignee: str | None
    finding: str | None
    severity: int | None
    due_at: datetime | None
    created_at: datetime
    closed_at: datetime | None


class CasePage(Page[CaseSummaryOut]):
    """A page of a list of cases. Its count stops at a cap (``case_list.TOTAL_CAP``)."""

    total_exact: bool = Field(description=f"False when more than {TOTAL_CAP:,} cases match: then `total` is a "
                                          "lower bound (narrow the list with a filter to count it exactly).")

    @classmethod
    def of(cls, listing: Listing[Any], *, limit: int, offset: int) -> CasePage:
        return cls(items=[CaseSummaryOut.model_validate(r, from_attributes=True) for r in listing.items],
                   total=listing.total, total_exact=listing.total_exact, limit=limit, offset=offset,
                   next_offset=listing.next_offset)


CASE_PAGE_NOTE = (f" `total` is exact up to {TOTAL_CAP:,} matching cases; past that `total_exact` is false. "
                  "`next_offset` is always exact.")


class ReportLinkOut(OutputModel):
    """One report on the case with its own testimony, oldest first (null on reports linked before
    testimony was kept per report)."""

    report_id: str
    reference: str
    received_on: date
    has_contact: bool
    description: str | None = None
    categories: list[str] | None = None
    links: list[str] | None = None
    seen_on: date | None = None
    evidence: list[dict[str, Any]] | None = None
    merged_from: str | None = Field(default=None, description="The case this report was on before a merge.")
    reconsideration_on: date | None = Field(default=None, description="The day the reporter asked for reconsideration.")
    reconsideration_reason: str | None = Field(default=None, description="The reporter's reason for asking.")


class CaseOut(CaseSummaryOut):
    account_id: str | None
    account_text: str | None
    summary: str
    links: list[str]
    evidence: list[dict[str, Any]]
    incident_key: str | None
    seen_on: date | None
    state_entered_at: datetime
    dismissal_reason: str | None
    reopen_reason: str | None
    finding_at: datetime | None
    recommendation: dict[str, Any] | None
    decision: dict[str, Any] | None
    outcome_summary: str | None
    updated_at: datetime
    employee_visible: bool = Field(default=False, description="Whether your role may see the employee concerned.")
    employee_id: str | None = Field(default=None, description="Confidential; every read is audited.")
    involved: list[str] = Field(default_factory=list, description="Others the case involves (confidential, "
                                "as the employee); they are recused from the case.")
    disciplinary_visible: bool = Field(default=True, description="Whether your role may see the disciplinary action "
                                       "(PIOs may not: decision and the recommended action are null).")
    allowed_transitions: list[str] = Field(default_factory=list)
    reports: list[ReportLinkOut] = Field(default_factory=list)


class NoteOut(OutputModel):
    id: str
    author: str
    body: str
    created_at: datetime


class MessageOut(OutputModel):
    id: str
    direction: str
    report_id: str | None
    author: str | None
    body: str
    created_at: datetime


class RestorativeOut(OutputModel):
    id: str
    case_id: str
    kind: str
    owner: str
    due_on: date
    status: str
    description: str | None
    account_id: str | None
    evidence: str | None
    completed_at: datetime | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class AuditEntryOut(OutputModel):
    seq: int
    at: datetime
    actor: str
    action: str
    case_id: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str
    redacted: bool = Field(default=False, description="Identities (auditors) or the disciplinary action were "
                           "replaced by [redacted]; the hash is of the full entry.")


class AuditVerifyOut(OutputModel):
    ok: bool
    entries_checked: int
    first_broken_seq: int | None
    problem: str | None
    head_seq: int | None
    head_hash: str | None
    rows_checked: int = Field(default=0, description="Case and restorative-action rows compared with their seals.")
    row_problems: list[dict[str, str]] = Field(default_factory=list,
                                               description="Rows edited, inserted or deleted outside the application.")


class MetricRow(OutputModel):
    dimension: str
    key: str
    count: int | None


class StaffMetrics(OutputModel):
    generated_at: datetime
    cases_total: int
    by_category: dict[str, int]
    by_department: dict[str, int]
    by_outcome: dict[str, int]
    by_state: dict[str, int]
    resolved: int
    median_days_to_resolution: float | None
    p90_days_to_resolution: float | None
    restorative_actions_due: int
    restorative_actions_on_time: int
    restorative_actions_on_time_share: float | None
    overdue_cases: int


class SyncOut(OutputModel):
    active: int
    added: list[str]
    deactivated: list[str]
    scheduled: int
    cancelled: int


class CadenceIn(InputModel):
    days: int | None = Field(default=None, ge=7, le=366, description="Null to use the department/default cadence.")


class ImportIn(InputModel):
    format: Literal["json", "csv", "archivesocial"]
    account_id: str | None = Field(default=None, max_length=64, description="Default account for rows without one.")
    posts: list[dict[str, Any]] = Field(default_factory=list, max_length=5000,
                                        description="format=json: objects with url, account_id, posted_at, text, "
                                                    "comments[]")
    csv: str | None = Field(default=None, max_length=900_000, description="format=csv|archivesocial: the file text")


class ImportOut(OutputModel):
    received: int
    imported: int
    duplicates: int
    refused: list[dict[str, Any]]


class ReviewOut(OutputModel):
    id: str
    account_id: str
    department: str
    period_start: date
    period_end: date
    due_on: date
    status: str
    reviewer: str | None
    checklist: list[dict[str, Any]]
    sample: list[str]
    completed_at: datetime | None


class StartReviewIn(InputModel):
    reviewer: str | None = Field(default=None, max_length=100)
    sample_size: int = Field(default=10, ge=1, le=50)


class ReviewFindingIn(InputModel):
    post_id: str = Field(max_length=36)
    item_key: str = Field(max_length=64)
    result: Literal["pass", "fail", "not_applicable"]
    note: str | None = Field(default=None, max_length=2000)


class ReviewFindingOut(OutputModel):
    id: str
    review_id: str
    post_id: str
    item_key: str
    element: str
    result: str
    note: str | None
    case_id: str | None
    created_at: datetime
