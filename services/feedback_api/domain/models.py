"""feedback_api tables, on the service's own registry (its own database; no other service reads it)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from shared.idempotency import make_idempotency_model
from shared.outbox import make_outbox_model


class Base(SQLModel, registry=registry()):
    """Every table of this service derives from this base."""


OutboxMessage = make_outbox_model(Base)
IdempotencyKey = make_idempotency_model(Base)
