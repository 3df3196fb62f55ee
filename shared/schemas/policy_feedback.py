"""feedback_api -> policy_api: residents' policy feedback (R-24-89 §1.B) as policy_api reads it to link
feedback to the review or version it informed, and to count it in the review record and the Council
report. Never any contact, never the text: policy_api only needs to know the feedback exists."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.schemas.base import OutputModel

TriageStateName = Literal["received", "considered", "answered", "closed"]


class PolicyFeedbackRef(OutputModel):
    reference: str = Field(max_length=32)
    policy_id: str | None = Field(default=None, max_length=64)
    version_id: str | None = Field(default=None, max_length=64)
    state: TriageStateName
    received_on: date


class PolicyFeedbackCount(OutputModel):
    policy_id: str | None = Field(default=None, max_length=64)
    state: TriageStateName
    count: int = Field(ge=0)


class PolicyFeedbackCounts(OutputModel):
    """How much feedback each policy received, by triage state (one row per policy and state)."""

    items: list[PolicyFeedbackCount] = Field(default_factory=list)
