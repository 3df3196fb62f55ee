"""Operations on feedback_api's outbox (the backlog to case_api): the kernel's, on our table."""

from __future__ import annotations

from datetime import datetime

from services.feedback_api.domain.models import OutboxMessage
from services.feedback_api.domain.text import is_id
from shared import outbox
from shared.db import Database
from shared.errors import NotFound


def outbox_overview(db: Database, *, now: datetime) -> outbox.OutboxOverview:
    return outbox.overview(db, OutboxMessage, now=now)


def retry_dead(db: Database, *, message_id: str, now: datetime) -> None:
    if not is_id(message_id):
        raise NotFound("No dead message with this id.")
    outbox.retry_dead(db, OutboxMessage, message_id=message_id, now=now)
