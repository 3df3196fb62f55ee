"""Request and response models of monitoring posts, streamed imports and the draft check (issue 18).
Kept apart from services/case_api/schemas.py so the monitoring work has its own file."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.schemas.base import InputModel, OutputModel


class RuleMatch(OutputModel):
    rule: str
    evidence: str


class PostOut(OutputModel):
    id: str
    account_id: str
    account_handle: str | None
    platform: str | None
    url: str = Field(description="The normalised post URL (what reports and cases are keyed on).")
    original_url: str | None = Field(description="The URL as imported.")
    posted_at: datetime = Field(description="UTC.")
    posted_at_local: str = Field(description="The same instant in Albuquerque (America/Denver), for reading.")
    text: str
    thread: list[dict[str, Any]]
    screenshot_url: str | None
    risk_score: float
    risk_rules: list[str] = Field(description="The content rules the scorer matched (domain/risk.py).")
    sampled_because: Literal["top_score", "random"] | None = Field(
        default=None, description="In a review's sample: drawn as one of the highest-scored posts, or at random.")


class StreamImportOut(OutputModel):
    received: int
    imported: int
    duplicates: int
    refused_total: int
    refused: list[dict[str, Any]] = Field(description="The first 1,000 refused rows: {row, reason}.")


class DraftCheckIn(InputModel):
    text: str = Field(min_length=1, max_length=5000, description="The draft post or reply.")
    replying_to: str | None = Field(default=None, max_length=5000, description="The comment it answers, if any.")
    lang: Literal["en", "es"] | None = Field(default=None, description="Language of the guidance; default English.")


class DraftProblem(OutputModel):
    rule: str
    title: str
    evidence: str = Field(description="The words of the draft that matched.")
    section: str = Field(description="The policy section the draft would break.")
    quote: str = Field(description="That section's words, quoted.")
    guideline: str = Field(description="What to do instead (the response guidelines).")


class DraftCheckOut(OutputModel):
    ok: bool = Field(description="True when no problem was found.")
    score: float
    problems: list[DraftProblem]
    policy_source: Literal["policy_api", "built_in"] = Field(
        description="policy_api: quoted from the policy in force; built_in: policy_api did not answer, so the "
                    "wording of R-24-89 built into case_api was used.")
    policy_version: str | None = Field(default=None, description="The version quoted, when from policy_api.")
    scorer: str
    stored: Literal[False] = Field(default=False, description="The draft is never stored.")
