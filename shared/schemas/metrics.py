"""case_api's public metrics, shown on policy_api's Transparency page and reported to Council."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.schemas.base import OutputModel


class MetricCell(OutputModel):
    key: str
    count: int | None = Field(description="Null when suppressed: fewer than the threshold, to protect people.")


class CoverageCell(OutputModel):
    """Monitoring coverage of one department's active accounts (case_api domain/monitoring.py)."""

    department: str
    accounts: int = Field(description="Active accounts with a review that has come due (the ones counted).")
    reviewed_on_schedule: int = Field(description="Of those, accounts whose last due review was done on time.")
    share: float | None = Field(ge=0, le=1, description="reviewed_on_schedule / accounts; null when none counted.")
    new_accounts: int = Field(default=0, description="Active accounts whose first review is not yet due: "
                                                     "shown as new, not counted.")


class PublicMetrics(OutputModel):
    generated_at: datetime
    suppression_threshold: int
    cases_total: int | None
    by_category: list[MetricCell] = Field(default_factory=list)
    by_department: list[MetricCell] = Field(default_factory=list)
    by_outcome: list[MetricCell] = Field(default_factory=list)
    by_state: list[MetricCell] = Field(default_factory=list)
    median_days_to_resolution: float | None = None
    p90_days_to_resolution: float | None = None
    restorative_actions_on_time_share: float | None = None
    monitoring_coverage: list[CoverageCell] = Field(default_factory=list)
