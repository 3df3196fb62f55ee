"""Writing and verifying the audit chain in the database (the rules are in ``audit_chain``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlmodel import Session

from services.case_api.domain import audit_chain
from services.case_api.domain.models import AuditEntry, AuditHead

AUDIT_LOCK_KEY = 0x0A0D17  # pg advisory lock id for appends


def append(session: Session, *, actor: str, action: str, case_id: str | None, detail: dict[str, Any],
           now: datetime) -> AuditEntry:
    """Append one entry in the caller's transaction. Appends are serialised: SQLite write
    transactions already are (BEGIN IMMEDIATE); PostgreSQL takes a transaction advisory lock."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    head = session.get(AuditHead, 1, populate_existing=True)
    seq = (head.seq + 1) if head else 1
    prev = head.hash if head else audit_chain.GENESIS
    sealed = audit_chain.seal(seq=seq, at=now, actor=actor, action=action, case_id=case_id, detail=detail,
                              prev_hash=prev)
    row = AuditEntry(seq=seq, at=sealed.at, actor=actor, action=action, case_id=case_id, detail=detail,
                     prev_hash=prev, hash=sealed.hash)
    session.add(row)
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=sealed.hash))
    else:
        head.seq, head.hash = seq, sealed.hash
        session.add(head)
    session.flush()
    return row


def _entries(session: Session, batch: int = 1000) -> Iterator[audit_chain.ChainEntry]:
    last = 0
    while True:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)  # type: ignore[arg-type]
        ).scalars().all()
        if not rows:
            return
        for r in rows:
            yield audit_chain.ChainEntry(seq=r.seq, at=r.at, actor=r.actor, action=r.action, case_id=r.case_id,
                                         detail=r.detail, prev_hash=r.prev_hash, hash=r.hash)
        last = rows[-1].seq


def verify(engine: Engine) -> audit_chain.Verification:
    with Session(engine) as session:
        head = session.get(AuditHead, 1)
        return audit_chain.verify(_entries(session), head=(head.seq, head.hash) if head else None)


def entries_for_case(session: Session, case_id: str, *, limit: int, offset: int) -> list[AuditEntry]:
    return list(session.execute(
        select(AuditEntry).where(AuditEntry.case_id == case_id)  # type: ignore[arg-type]
        .order_by(AuditEntry.seq).limit(limit).offset(offset)  # type: ignore[arg-type]
    ).scalars())
