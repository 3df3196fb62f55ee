"""Operations: the outbox's health (backlog to case_api, dead messages) and putting a dead message
back in the queue. Reads and writes the typed ``OutboxMessage``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import col

from services.feedback_api.domain.models import OutboxMessage
from services.feedback_api.domain.text import is_id
from shared.db import Database
from shared.errors import NotFound
from shared.timeutil import as_utc

DEAD_SHOWN = 100


@dataclass(frozen=True)
class DeadMessage:
    id: str
    topic: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class OutboxOverview:
    pending: int
    dead: int
    oldest_pending_age_seconds: float | None
    dead_messages: list[DeadMessage]


def outbox_overview(db: Database, *, now: datetime) -> OutboxOverview:
    """Backlog and the first dead messages: two statements however many there are."""
    m = OutboxMessage
    pending_only = (col(m.delivered_at).is_(None), col(m.dead).is_(False))
    with db.read() as s:
        pending, oldest = s.execute(
            select(func.count(), func.min(col(m.created_at))).where(*pending_only)
        ).one()
        dead_total = func.count().over()
        rows = s.execute(
            select(col(m.id), col(m.topic), col(m.attempts), col(m.last_error), dead_total)
            .where(col(m.dead).is_(True)).order_by(col(m.id)).limit(DEAD_SHOWN)
        ).all()
    dead = int(rows[0][4]) if rows else 0
    age = (now - as_utc(oldest)).total_seconds() if oldest else None
    return OutboxOverview(
        pending=int(pending), dead=dead, oldest_pending_age_seconds=age,
        dead_messages=[DeadMessage(id=r[0], topic=r[1], attempts=r[2], last_error=r[3]) for r in rows],
    )


def retry_dead(db: Database, *, message_id: str, now: datetime) -> None:
    """Put a dead message back in the queue, due now. ``NotFound`` unless it is dead."""
    if not is_id(message_id):
        raise NotFound("No dead message with this id.")
    m = OutboxMessage
    with db.write() as s:
        result = s.execute(
            update(m).where(col(m.id) == message_id[:36], col(m.dead).is_(True))
            .values(dead=False, next_attempt_at=now, last_error=None)
        )
        if not getattr(result, "rowcount", 0):
            raise NotFound("No dead message with this id.")
