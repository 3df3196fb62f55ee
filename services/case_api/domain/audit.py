"""Writing and verifying the audit chain in the database (the rules are in ``audit_chain``).

Besides the chain itself, entries that change a case or a restorative action carry a *seal*: the
SHA-256 of the row's audited fields after the change. Verification compares every row with the
last seal the chain holds for it, so a row edited, deleted or inserted directly in SQL is found
too; and a mutating request refuses to build on a case whose row no longer matches its seal
(``ensure_sealed``), so a direct edit cannot be laundered by the next legitimate change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from services.case_api.domain import audit_chain
from services.case_api.domain.models import AuditEntry, AuditHead, Case, RestorativeAction
from shared.db import Database
from shared.errors import Conflict
from shared.timeutil import as_utc

AUDIT_LOCK_KEY = 0x0A0D17  # pg advisory lock id for appends

CASE_FIELDS = ("id", "reference", "source", "state", "state_entered_at", "due_at", "department", "account_id",
               "categories", "incident_key", "employee_id", "assignee", "dismissal_reason", "reopen_reason", "finding",
               "finding_at", "severity", "recommendation", "decision", "outcome_summary", "created_at", "closed_at")
ACTION_FIELDS = ("id", "case_id", "kind", "owner", "due_on", "status", "account_id", "evidence", "completed_at",
                 "result")
SEALED: dict[str, tuple[type[Any], tuple[str, ...]]] = {
    "cases": (Case, CASE_FIELDS), "restorative_actions": (RestorativeAction, ACTION_FIELDS)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def row_digest(row: Any, fields: tuple[str, ...]) -> str:
    body = {f: _plain(getattr(row, f)) for f in fields}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def seal_of(row: Case | RestorativeAction) -> dict[str, str]:
    table = "cases" if isinstance(row, Case) else "restorative_actions"
    return {"table": table, "id": row.id, "digest": row_digest(row, SEALED[table][1])}


def append(session: Session, *, actor: str, action: str, case_id: str | None, detail: dict[str, Any],
           now: datetime, seal: list[Case | RestorativeAction] | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (``seal``: rows this change wrote, flushed).
    Appends are serialised: SQLite write transactions already are (BEGIN IMMEDIATE); PostgreSQL
    takes a transaction advisory lock."""
    if seal:
        detail = {**detail, "seals": [seal_of(r) for r in seal]}
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


@dataclass(frozen=True)
class FullVerification:
    chain: audit_chain.Verification
    rows_checked: int
    row_problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.row_problems


MAX_ROW_PROBLEMS = 50


def verify(db: Database) -> FullVerification:
    """Recompute the chain, then compare every sealed table's rows with their last seal (one
    read unit of work: a consistent snapshot on PostgreSQL and in SQLite's WAL)."""
    last: dict[tuple[str, str], str] = {}

    def collecting(entries: Iterator[audit_chain.ChainEntry]) -> Iterator[audit_chain.ChainEntry]:
        for e in entries:
            for s in e.detail.get("seals", []) if isinstance(e.detail, dict) else []:
                if isinstance(s, dict):
                    last[(str(s.get("table")), str(s.get("id")))] = str(s.get("digest"))
            yield e

    with db.read() as session:
        head = session.get(AuditHead, 1)
        chain = audit_chain.verify(collecting(_entries(session)), head=(head.seq, head.hash) if head else None)
        problems: list[dict[str, str]] = []
        checked = 0
        seen: set[tuple[str, str]] = set()
        for table, (model, fields) in SEALED.items():
            for row in session.execute(select(model)).scalars():
                checked += 1
                key = (table, row.id)
                seen.add(key)
                expected = last.get(key)
                if expected is None:
                    problems.append({"table": table, "id": row.id, "problem": "row has no audit entry (inserted "
                                                                             "outside the application)"})
                elif expected != row_digest(row, fields):
                    problems.append({"table": table, "id": row.id, "problem": "row differs from its last audited "
                                                                             "state (edited outside the application)"})
        for key in sorted(set(last) - seen):
            problems.append({"table": key[0], "id": key[1], "problem": "audited row is missing (deleted)"})
    return FullVerification(chain=chain, rows_checked=checked, row_problems=problems[:MAX_ROW_PROBLEMS])


def ensure_sealed(session: Session, row: Case | RestorativeAction) -> None:
    """Refuse to change a row that no longer matches its last seal (someone edited it in SQL)."""
    if not is_sealed(session, row):
        raise Conflict("This record differs from its audited state: it was changed outside the "
                       "application. An auditor must run the audit verification first.", integrity="broken")


def is_sealed(session: Session, row: Case | RestorativeAction) -> bool:
    """True when the row matches the last seal the chain holds for it (or has none yet)."""
    if isinstance(row, Case):
        table, case_id = "cases", row.id
    else:
        table, case_id = "restorative_actions", row.case_id
    q = (sqlmodel_select(AuditEntry).where(AuditEntry.case_id == case_id)
         .order_by(col(AuditEntry.seq).desc()).limit(500))
    for entry in session.exec(q):
        detail = entry.detail
        for s in (detail or {}).get("seals", []):
            if s.get("table") == table and s.get("id") == row.id:
                return bool(s.get("digest") == row_digest(row, SEALED[table][1]))
    return True
