"""Writing and verifying the audit chain in the database (the rules are in ``audit_chain``).

Besides the chain itself, entries carry *seals* of the case-file rows their change wrote
(``sealing``: the registry of sealed tables, automatic sealing, the pre-write check and
destruction under a retention schedule). Verification walks the entire chain, then compares every
row of every sealed table with the last seal the chain holds for it, so a row edited, deleted or
inserted directly in SQL is found too; and a write refuses to seal over a row that no longer
matches its seal, so a direct edit cannot be laundered by the next legitimate change."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, text
from sqlmodel import Session

from services.case_api.domain import audit_chain, checkpoints, sealing
from services.case_api.domain.models import AuditEntry, AuditHead, Case, RestorativeAction
from shared.db import Database
from shared.http import ServiceClient

AUDIT_LOCK_KEY = 0x0A0D17  # pg advisory lock id for appends


def append(session: Session, *, actor: str, action: str, case_id: str | None, detail: dict[str, Any],
           now: datetime, seal: list[Case | RestorativeAction] | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction. It carries the seals of every case-file row
    of ``case_id`` this transaction inserted, changed or deleted and has not sealed yet
    (``sealing.take_seals``; ``seal`` is accepted for older callers and adds nothing: sealing is
    automatic). Appends are serialised: SQLite write transactions already are (BEGIN
    IMMEDIATE); PostgreSQL takes a transaction advisory lock."""
    session.flush()
    taken = sealing.take_seals(session, case_id)
    if taken:
        detail = {**detail, "seals": [*sealing.seals_in(detail), *taken]}
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
    sealing.note_appended(session, case_id=case_id, actor=actor, detail=detail, now=now)
    return row


def entries(session: Session, batch: int = 1000) -> Iterator[audit_chain.ChainEntry]:
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


@dataclass(frozen=True)
class FullVerification:
    chain: audit_chain.Verification
    rows_checked: int
    row_problems: list[dict[str, Any]] = field(default_factory=list)
    row_problems_total: int = 0
    destroyed: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: checkpoints.CheckpointCheck | None = None

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.row_problems and (self.checkpoint is None or self.checkpoint.ok)


MAX_ROW_PROBLEMS = 50
MAX_DESTROYED = 200


def last_seals(entries: Iterator[audit_chain.ChainEntry],
               into: dict[tuple[str, str], dict[str, Any]]) -> Iterator[audit_chain.ChainEntry]:
    """Pass the entries through, keeping the last seal of every (table, id) and its entry's case."""
    for e in entries:
        for s in sealing.seals_in(e.detail):
            into[(str(s["table"]), str(s["id"]))] = {**s, "_case": e.case_id}
        yield e


def verify(db: Database) -> FullVerification:
    """Recompute the entire chain (every entry, oldest first, in batches), then compare every row
    of every sealed table with its last seal (one read unit of work: a consistent snapshot on
    PostgreSQL and in SQLite's WAL)."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    with db.read() as session:
        head = session.get(AuditHead, 1)
        walk = last_seals(entries(session), last)
        chain = audit_chain.verify(walk, head=(head.seq, head.hash) if head else None)
        for _ in walk:  # a broken link stops the chain check, not the walk: every seal is read
            pass
        rows = sealing.verify_rows(session, last)
    return FullVerification(chain=chain, rows_checked=rows.rows_checked, row_problems=rows.problems[:MAX_ROW_PROBLEMS],
                            row_problems_total=len(rows.problems), destroyed=rows.destroyed[:MAX_DESTROYED])


def ensure_sealed(session: Session, row: Any) -> None:
    """Refuse (409, ``integrity: "broken"``) to build on a row that no longer matches its last seal."""
    sealing.ensure_row(session, row)


def is_sealed(session: Session, row: Any) -> bool:
    """True when the row as stored matches the last seal the chain holds for it."""
    return sealing.check_row(session, row) is None


def verify_with_witness(db: Database, peers: ServiceClient | None, *,
                        public_key: Ed25519PublicKey | None) -> FullVerification:
    """``verify``, and the database compared with the latest checkpoint published to the witness
    (read first, with no transaction open): entries missing since it are reported."""
    published = checkpoints.latest_published(peers, db)
    check = checkpoints.compare(db, published, public_key=public_key)
    return replace(verify(db), checkpoint=check)


def document(result: FullVerification) -> dict[str, Any]:
    """The verification as the API and ``civicsocial audit verify`` report it."""
    chain = result.chain
    cp = result.checkpoint
    return {"ok": result.ok, "entries_checked": chain.entries_checked, "first_broken_seq": chain.first_broken_seq,
            "problem": chain.problem, "head_seq": chain.head_seq, "head_hash": chain.head_hash,
            "rows_checked": result.rows_checked, "row_problems": result.row_problems,
            "row_problems_total": result.row_problems_total, "destroyed": result.destroyed,
            "checkpoint": None if cp is None else {**cp.__dict__, "at": cp.at.isoformat() if cp.at else None}}
