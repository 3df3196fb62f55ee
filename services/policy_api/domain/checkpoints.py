"""The witness of case_api's audit chain (issue 15 item 3): checkpoints of the chain head, signed
with case_api's Ed25519 key, are verified against the public key policy_api is configured with
and stored; the latest is public (the Transparency page, the Atom feed, the Council report,
and ``civicsocial audit verify``, which compares case_api's database with it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import col, select

from services.policy_api.domain.checkpoint_models import WitnessedCheckpoint
from shared import signing
from shared.db import Database
from shared.errors import DomainError, ValidationFailed
from shared.schemas.checkpoints import ChainCheckpoint


class NotConfigured(DomainError):
    status, slug, title = 503, "witness-not-configured", "The witness has no public key configured"


@dataclass(frozen=True)
class Witnessed:
    checkpoint: WitnessedCheckpoint
    created: bool


def witness(db: Database, *, checkpoint: ChainCheckpoint, public_key: Ed25519PublicKey | None,
            now: datetime) -> Witnessed:
    """Store a checkpoint whose signature verifies. The same checkpoint again: the one held (200).
    Another hash for a seq already held: stored as ``conflicts`` and refused (422, so the sender
    stops retrying and staff see it)."""
    if public_key is None:
        raise NotConfigured("Set POLICY_API_CHECKPOINT_PUBLIC_KEY to case_api's checkpoint public key.")
    if checkpoint.key_id != signing.key_id(public_key) or not signing.verify(
            public_key, checkpoint.payload(), checkpoint.signature):
        raise ValidationFailed("The checkpoint's signature does not verify against the configured public key.")
    with db.write() as s:
        held = list(s.exec(select(WitnessedCheckpoint).where(WitnessedCheckpoint.seq == checkpoint.seq)))
        same = next((h for h in held if h.head_hash == checkpoint.head_hash and not h.conflicts), None)
        if same is not None:
            return Witnessed(same, created=False)
        row = WitnessedCheckpoint(service=checkpoint.service, seq=checkpoint.seq, head_hash=checkpoint.head_hash,
                                  at=checkpoint.at, key_id=checkpoint.key_id, signature=checkpoint.signature,
                                  conflicts=bool(held), received_at=now)
        s.add(row)
        s.flush()
        result = Witnessed(row, created=True)
    if result.checkpoint.conflicts:
        raise ValidationFailed("A different checkpoint for this sequence number is already witnessed: the chain "
                               "was rewritten. Both are kept.", conflicts=True, seq=checkpoint.seq)
    return result


def latest(db: Database) -> WitnessedCheckpoint | None:
    """The newest checkpoint by sequence number (conflicting ones are not the latest)."""
    with db.read() as s:
        return s.exec(select(WitnessedCheckpoint).where(col(WitnessedCheckpoint.conflicts).is_(False))
                      .order_by(col(WitnessedCheckpoint.seq).desc(), col(WitnessedCheckpoint.received_at))
                      .limit(1)).first()


def recent(db: Database, *, limit: int, offset: int = 0) -> list[WitnessedCheckpoint]:
    """Every checkpoint received, newest first (conflicting ones included, marked)."""
    with db.read() as s:
        return list(s.exec(select(WitnessedCheckpoint)
                           .order_by(col(WitnessedCheckpoint.received_at).desc(), col(WitnessedCheckpoint.id).desc())
                           .limit(limit).offset(offset)))
