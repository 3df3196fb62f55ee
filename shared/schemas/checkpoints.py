"""Signed checkpoints of case_api's audit chain head, published to a witness (policy_api).

case_api signs ``signed_payload()`` with its Ed25519 key (``shared.signing``); the witness checks
the signature against the public key it is configured with before it stores the checkpoint, and
anyone can read the latest one back (``GET /v1/public/checkpoints/latest``) to compare a database
with it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.schemas.base import InputModel, OutputModel
from shared.timeutil import as_utc

HASH_PATTERN = r"^[0-9a-f]{64}$"


def signed_payload(*, service: str, seq: int, head_hash: str, at: datetime) -> bytes:
    """What is signed: canonical JSON (sorted keys, no spaces) of the chain head and the time."""
    body = {"service": service, "seq": seq, "head_hash": head_hash,
            "at": as_utc(at).isoformat(timespec="microseconds")}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


class ChainCheckpoint(InputModel):
    """case_api -> policy_api ``POST /v1/internal/checkpoints`` (``Idempotency-Key: checkpoint-<seq>``)."""

    service: Literal["case_api"] = "case_api"
    seq: int = Field(ge=1, le=2**62, description="The chain head's sequence number.")
    head_hash: str = Field(pattern=HASH_PATTERN, description="The chain head's SHA-256.")
    at: datetime = Field(description="When case_api signed it.")
    key_id: str = Field(min_length=1, max_length=64, description="First 16 hex of SHA-256 of the raw public key.")
    signature: str = Field(min_length=1, max_length=200, description="Base64url Ed25519 signature of the payload.")

    def payload(self) -> bytes:
        return signed_payload(service=self.service, seq=self.seq, head_hash=self.head_hash, at=self.at)


class CheckpointOut(OutputModel):
    """A checkpoint as the witness holds it (public)."""

    service: str
    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str
    received_at: datetime
    conflicts: bool = False
