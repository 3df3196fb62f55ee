"""Signed checkpoints of the audit chain head, published to a witness (issue 15 item 3).

Deleting the newest entries of the chain and moving ``audit_head`` back leaves a chain that is
consistent with itself. What exposes it is a copy of the head held *outside* case_api: every
``CASE_API_CHECKPOINT_SECONDS`` (and on demand) case_api signs ``{service, seq, head_hash, at}``
with an Ed25519 key read from ``CASE_API_CHECKPOINT_KEY_FILE`` (never stored in the database)
and sends it through its outbox to policy_api, which verifies the signature against the public
key it is configured with and stores it. ``compare`` then checks the database against the latest
published checkpoint: an entry at that seq must exist with that hash, so entries missing since
are named (``missing_from_seq``, ``missing_count``).

Limits: checkpoints bound what can disappear unseen to the entries since the last one; whoever
holds the key file can sign a rewritten head (the witness then flags the conflicting seq).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError
from sqlmodel import col, select

from services.case_api.domain.integrity_models import SignedCheckpoint
from services.case_api.domain.models import AuditEntry, AuditHead, OutboxMessage
from shared import signing
from shared.db import Database
from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.outbox import Topic, enqueue
from shared.schemas.checkpoints import ChainCheckpoint, CheckpointOut

# A signed checkpoint of the chain head -> policy_api POST /v1/internal/checkpoints
CHECKPOINT = Topic("chain_checkpoint", "policy_api", ChainCheckpoint)
SERVICE = "case_api"


def checkpoint_once(db: Database, *, key: Ed25519PrivateKey, now: datetime) -> ChainCheckpoint | None:
    """Sign the current head and queue it for the witness, unless it was already checkpointed."""
    with db.write() as s:
        head = s.get(AuditHead, 1)
        if head is None:
            return None
        last = s.exec(select(SignedCheckpoint).order_by(col(SignedCheckpoint.seq).desc()).limit(1)).first()
        if last is not None and last.seq >= head.seq:
            return None
        draft = ChainCheckpoint(service=SERVICE, seq=head.seq, head_hash=head.hash, at=now,
                                key_id=signing.key_id(key), signature="-")
        cp = draft.model_copy(update={"signature": signing.sign(key, draft.payload())})
        s.add(SignedCheckpoint(seq=cp.seq, head_hash=cp.head_hash, at=now, key_id=cp.key_id,
                               signature=cp.signature))
        enqueue(s, OutboxMessage, CHECKPOINT, cp, idempotency_key=f"checkpoint-{cp.seq}", now=now)
        return cp


@dataclass(frozen=True)
class Published:
    checkpoint: ChainCheckpoint | None
    source: str  # witness | local | none
    problem: str | None = None


def latest_published(peers: ServiceClient | None, db: Database, *, timeout: float = 3.0) -> Published:
    """The latest checkpoint the witness holds (no transaction open); when the witness cannot be
    asked, the newest one case_api recorded itself (``source: local``, weaker: it lives in the
    database being checked)."""
    problem = None
    if peers is not None:
        try:
            resp = peers.get("policy_api", "/v1/public/checkpoints/latest", timeout=timeout, retries=0,
                             authenticated=False)
            if resp.status_code == 200:
                out = CheckpointOut.model_validate(resp.json())
                return Published(ChainCheckpoint(service="case_api", seq=out.seq, head_hash=out.head_hash, at=out.at,
                                                 key_id=out.key_id, signature=out.signature), "witness")
            if resp.status_code != 404:
                problem = f"the witness answered {resp.status_code}"
        except (UpstreamFailed, OSError, ValueError, ValidationError) as exc:
            problem = f"the witness could not be read ({type(exc).__name__})"
        if problem is None:
            return Published(None, "witness", "the witness holds no checkpoint yet")
    with db.read() as s:
        row = s.exec(select(SignedCheckpoint).order_by(col(SignedCheckpoint.seq).desc()).limit(1)).first()
    if row is None:
        return Published(None, "none", problem or "no checkpoint recorded")
    return Published(ChainCheckpoint(service="case_api", seq=row.seq, head_hash=row.head_hash, at=row.at,
                                     key_id=row.key_id, signature=row.signature), "local", problem)


@dataclass(frozen=True)
class CheckpointCheck:
    ok: bool
    source: str
    seq: int | None = None
    head_hash: str | None = None
    at: datetime | None = None
    signature_valid: bool | None = None
    missing_from_seq: int | None = None
    missing_count: int = 0
    problem: str | None = None


def compare(db: Database, published: Published, *, public_key: Ed25519PublicKey | None) -> CheckpointCheck:
    """The database against the latest published checkpoint: the entry at its seq must be there
    with its hash; entries from the first missing seq up to it are reported missing."""
    cp = published.checkpoint
    if cp is None:
        return CheckpointCheck(ok=True, source=published.source, problem=published.problem)
    valid = None if public_key is None else (
        cp.key_id == signing.key_id(public_key) and signing.verify(public_key, cp.payload(), cp.signature))
    base = CheckpointCheck(ok=True, source=published.source, seq=cp.seq, head_hash=cp.head_hash, at=cp.at,
                           signature_valid=valid)
    if valid is False:
        return replace(base, ok=False, problem="the published checkpoint's signature does not verify")
    with db.read() as s:
        head = s.get(AuditHead, 1)
        entry = s.get(AuditEntry, cp.seq)
        if entry is None:
            present = s.exec(select(col(AuditEntry.seq)).where(col(AuditEntry.seq) <= cp.seq)
                             .order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    if entry is None:
        first = (present or 0) + 1
        return replace(base, ok=False, missing_from_seq=first, missing_count=cp.seq - first + 1,
                               problem=f"entries {first}..{cp.seq} were published in a checkpoint and are missing "
                                       f"(the database's head is {head.seq if head else 'gone'})")
    if entry.hash != cp.head_hash:
        return replace(base, ok=False, problem=f"entry {cp.seq} differs from the published checkpoint "
                                                         "(the chain was rewritten)")
    if head is None or head.seq < cp.seq:
        return replace(base, ok=False, problem="the chain head is behind the published checkpoint")
    return replace(base, problem=published.problem)


def load_key(path: str | None) -> Ed25519PrivateKey | None:
    return signing.load_private_key(path) if path else None


def public_key_of(key_file: str | None) -> Ed25519PublicKey | None:
    """case_api's own checkpoint public key (from its private key file), to check what the witness holds."""
    key = load_key(key_file)
    return key.public_key() if key is not None else None
