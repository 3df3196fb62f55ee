"""Request and response models of the case record endpoints (issue 15: links and merges, case
file exports, public-records exports, retention and legal holds). Kept apart from ``schemas.py``
so the record work stays in its own modules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from services.case_api.domain.state_machine import State
from shared.schemas.base import InputModel, OutputModel


class LinkIn(InputModel):
    other_case_id: str = Field(max_length=36)
    kind: Literal["related", "merged"] = Field(
        description="related: both cases stay, each lists the other. merged: the other case's reports, "
                    "testimony and evidence move to this case, and the other case is closed as merged.")
    reason: str = Field(min_length=1, max_length=2000)


class LinkOut(OutputModel):
    id: str
    kind: str
    other_case_id: str
    other_reference: str
    direction: Literal["this_case", "other_case"] = Field(
        description="this_case: the link was made from this case (for a merge: this case survived).")
    reason: str
    linked_by: str
    created_at: datetime


class ExportIn(InputModel):
    request_reference: str = Field(min_length=1, max_length=64, description="The City's IPRA request number.")
    description: str | None = Field(default=None, max_length=2000)
    opened_from: date = Field(description="Cases opened on or after this day (UTC).")
    opened_to: date = Field(description="Cases opened on or before this day (UTC).")
    department: str | None = Field(default=None, max_length=120)
    state: State | None = None


class ExportOut(OutputModel):
    id: str
    request_reference: str
    description: str | None
    requested_by: str
    requested_at: datetime
    criteria: dict[str, Any]
    status: str = Field(description="queued | running | done | failed")
    total: int
    done: int = Field(description="Cases rendered so far (progress: done of total).")
    withheld: int = Field(description="Cases left out because you are recused from them; another records "
                                      "manager must export those.")
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    result_sha256: str | None
    result_bytes: int | None
    manifest_sha256: str | None
    keep_until: date = Field(description="The request log entry is kept until this day (1.21.2.519 NMAC).")


class HoldIn(InputModel):
    case_id: str | None = Field(default=None, max_length=36)
    employee_id: str | None = Field(default=None, max_length=100, description="Every case about this employee.")
    reason: str = Field(min_length=1, max_length=2000)


class ReleaseIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000)


class HoldOut(OutputModel):
    id: str
    case_id: str | None
    employee_key: str | None
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class RetentionPeriodOut(OutputModel):
    record_class: str
    days: int | None = Field(description="null: kept permanently")
    after: str
    source: str
    held_by: str


class PurgeOut(OutputModel):
    on: date
    cases_destroyed: list[str]
    content_destroyed: list[str]
    held: list[str]
    refused: list[dict[str, str]]
    posts_destroyed: int
    export_requests_destroyed: int
    compacted: bool
