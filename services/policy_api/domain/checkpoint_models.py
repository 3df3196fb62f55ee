"""The witness's table: case_api's signed audit-chain checkpoints, as received (issue 15)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from services.policy_api.domain.models import Base
from shared.ids import new_id


class WitnessedCheckpoint(Base, table=True):
    """One checkpoint whose signature verified against the configured public key. Never updated;
    a second checkpoint for a seq already held with another hash is kept too, marked ``conflicts``
    (case_api's chain was rewritten, or its key is in the wrong hands)."""

    __tablename__ = "witnessed_checkpoints"
    __table_args__ = (Index("ix_witnessed_checkpoints_seq", "seq"),
                      Index("ix_witnessed_checkpoints_received_at_id", "received_at", "id"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    service: str = Field(max_length=20)
    seq: int
    head_hash: str = Field(max_length=64)
    at: datetime
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=200)
    conflicts: bool = False
    received_at: datetime
