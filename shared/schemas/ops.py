"""What an admin sees of a service's outbox (``GET /v1/ops/outbox``): the same on every service."""

from __future__ import annotations

from shared.schemas.base import OutputModel


class OutboxDead(OutputModel):
    id: str
    topic: str
    attempts: int
    last_error: str | None


class OutboxHealth(OutputModel):
    pending: int
    dead: int
    oldest_pending_age_seconds: float | None
    dead_messages: list[OutboxDead]
