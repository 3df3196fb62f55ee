"""Request and response models of the audit trail: verification, checkpoints and re-sealing."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.schemas.base import InputModel, OutputModel


class RowProblemOut(OutputModel):
    table: str
    id: str
    case_id: str | None = None
    problem: str
    differs: list[str] = Field(default_factory=list, description="The columns whose sealed hash differs.")


class DestroyedOut(OutputModel):
    table: str
    id: str
    case_id: str | None = None
    schedule: str | None
    on: str | None
    status: str


class CheckpointCheckOut(OutputModel):
    """The database compared with the latest checkpoint published to the witness (policy_api)."""

    ok: bool
    source: str = Field(description="witness | local | none")
    seq: int | None = None
    head_hash: str | None = None
    at: datetime | None = None
    signature_valid: bool | None = None
    missing_from_seq: int | None = Field(default=None, description="First published seq no longer in the database.")
    missing_count: int = 0
    problem: str | None = None


class AuditVerifyOut(OutputModel):
    ok: bool
    entries_checked: int
    first_broken_seq: int | None
    problem: str | None
    head_seq: int | None
    head_hash: str | None
    rows_checked: int = Field(default=0, description="Rows of every sealed table of the case file compared with "
                                                     "their seals.")
    row_problems: list[RowProblemOut] = Field(default_factory=list, description=(
        "Rows edited, inserted or deleted outside the application (the first 50)."))
    row_problems_total: int = 0
    destroyed: list[DestroyedOut] = Field(default_factory=list, description=(
        "Rows whose content was destroyed under a retention schedule (not a problem)."))
    checkpoint: CheckpointCheckOut | None = None


class ResealProposalIn(InputModel):
    reason: str = Field(min_length=20, max_length=5000, description="Why the differences are being re-sealed.")


class ResealConfirmIn(InputModel):
    reason: str = Field(min_length=20, max_length=5000, description="The confirmer's own written reason.")


class CaseIntegrityOut(OutputModel):
    case_id: str
    ok: bool
    rows_checked: int
    row_problems: list[RowProblemOut]
    destroyed: list[DestroyedOut] = Field(default_factory=list)


class ResealProposalOut(OutputModel):
    id: str
    case_id: str
    proposed_by: str
    proposer_role: str
    reason: str
    problems: list[RowProblemOut]
    status: str
    confirmed_by: str | None = None
    confirm_reason: str | None = None
    created_at: datetime
    confirmed_at: datetime | None = None
