"""Tables of the case record's own work (issue 15 items 5 and 6): public-records exports, their
result files, and legal holds. On case_api's registry (``models.Base``); kept apart from
``models.py`` so this work stays in its own modules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, LargeBinary
from sqlmodel import JSON, Column, Field

from services.case_api.domain.models import Base
from shared.ids import new_id


class RecordsExport(Base, table=True):
    """One public-records (IPRA) export request and its job: the request log, kept four years
    (1.21.2.519 NMAC, docs/records.md), whatever happens to the result file."""

    __tablename__ = "records_exports"
    __table_args__ = (Index("ix_records_exports_requested_at_id", "requested_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    request_reference: str = Field(max_length=64, description="the City's IPRA request number")
    description: str | None = Field(default=None, max_length=2000)
    requested_by: str = Field(max_length=100)
    requested_at: datetime
    criteria: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, index=True, description="queued | running | done | failed")
    total: int = 0
    done: int = 0
    withheld: int = Field(default=0, description="cases left out because the requester is recused from them")
    error: str | None = Field(default=None, max_length=2000)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result_sha256: str | None = Field(default=None, max_length=64)
    result_bytes: int | None = None
    manifest_sha256: str | None = Field(default=None, max_length=64)
    keep_until: date


class RecordsExportFile(Base, table=True):
    """The ZIP of a finished export (kept apart so listing exports never reads it)."""

    __tablename__ = "records_export_files"

    export_id: str = Field(foreign_key="records_exports.id", primary_key=True, max_length=36)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime


class LegalHold(Base, table=True):
    """A legal hold: nothing of the case (``case_id``), or of any case about the employee
    (``employee_key``, ``identity.person_key``), is destroyed while it is active (released_at null)."""

    __tablename__ = "legal_holds"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str | None = Field(default=None, foreign_key="cases.id", index=True, max_length=36)
    employee_key: str | None = Field(default=None, index=True, max_length=100)
    reason: str = Field(max_length=2000)
    placed_by: str = Field(max_length=100)
    placed_at: datetime
    released_by: str | None = Field(default=None, max_length=100)
    released_at: datetime | None = None
    release_reason: str | None = Field(default=None, max_length=2000)
