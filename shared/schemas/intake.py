"""feedback_api <-> case_api contracts.

feedback_api forwards each violation report to case_api through its outbox
(``POST /v1/intake/reports`` with ``Idempotency-Key: <report_id>``). case_api sends
status changes and handler messages back the same way
(``POST /v1/internal/reports/{report_id}/events``). Reporter identity never crosses:
no IP, no user agent, no email (only whether one was given).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.schemas.base import InputModel, OutputModel
from shared.schemas.registry import Platform

MAX_LINKS = 10
MAX_DESCRIPTION = 5000


class ViolationCategory(StrEnum):
    personal_attack = "personal_attack"
    arguing_with_public = "arguing_with_public"
    personal_opinion = "personal_opinion"
    misleading_information = "misleading_information"
    disrespectful_response = "disrespectful_response"
    other = "other"


class EvidenceRef(InputModel):
    id: str = Field(max_length=64)
    media_type: str = Field(max_length=100)
    size_bytes: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)


class ReportForward(InputModel):
    report_id: str = Field(max_length=64, description="feedback_api's id; also the idempotency key.")
    reference: str = Field(max_length=32, description="The public reference the reporter holds.")
    received_on: date = Field(description="Day precision only, by design.")
    account_id: str | None = Field(default=None, max_length=64)
    account_text: str | None = Field(default=None, max_length=300)
    department: str | None = Field(default=None, max_length=120)
    platform: Platform
    links: list[str] = Field(default_factory=list, max_length=MAX_LINKS)
    seen_on: date | None = None
    categories: list[ViolationCategory] = Field(min_length=1, max_length=len(ViolationCategory))
    description: str = Field(max_length=MAX_DESCRIPTION)
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=10)
    incident_key: str | None = Field(
        default=None, max_length=128, description="Hash of the normalised post URL: same post, same case."
    )
    has_contact: bool = False


class CaseIntakeReceipt(OutputModel):
    case_id: str
    case_reference: str
    created: bool = Field(description="False when the report attached to an existing case or was a replay.")


class ReporterMessage(InputModel):
    """feedback_api -> case_api: a message the anonymous reporter wrote with their receipt."""

    message_id: str = Field(max_length=64)
    body: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class PublicStatus(StrEnum):
    received = "received"
    under_review = "under_review"
    closed = "closed"


class ReportEvent(InputModel):
    """case_api -> feedback_api: what the reporter may see of their case."""

    event_id: str = Field(max_length=64)
    kind: Literal["status", "message"]
    status: PublicStatus | None = None
    outcome_summary: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    message: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    at: datetime
