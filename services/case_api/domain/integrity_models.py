"""Tables of the audit trail's integrity work (issue 15): re-seal proposals and signed checkpoints.
Imported by ``domain.sealing`` (so every process that writes the chain has them on the metadata)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import JSON, Column, Field

from services.case_api.domain.models import Base
from shared.ids import new_id


class ResealProposal(Base, table=True):
    """An auditor (or an admin) examined a case whose rows differ from their seals and proposes to
    re-seal them with a written reason; the other role, another person, confirms. ``problems`` is
    what was examined, with each row's digest then: a row changed since cannot be confirmed."""

    __tablename__ = "reseal_proposals"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    case_id: str = Field(index=True, max_length=36)
    proposed_by: str = Field(max_length=100)
    proposer_role: str = Field(max_length=20, description="auditor | admin")
    reason: str = Field(max_length=5000)
    problems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, description="proposed | confirmed | superseded")
    confirmed_by: str | None = Field(default=None, max_length=100)
    confirm_reason: str | None = Field(default=None, max_length=5000)
    created_at: datetime
    confirmed_at: datetime | None = None


class SignedCheckpoint(Base, table=True):
    """A signed checkpoint of the chain head (``domain/checkpoints.py``), kept here as a record of
    what was published; the witness (policy_api) holds the copy that counts."""

    __tablename__ = "chain_checkpoints"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    head_hash: str = Field(max_length=64)
    at: datetime
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=200)
