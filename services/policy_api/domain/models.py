"""policy_api tables, on the service's own registry (its own database; no other service reads it)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from shared.idempotency import make_idempotency_model


class Base(SQLModel, registry=registry()):
    """Every table of this service derives from this base."""


IdempotencyKey = make_idempotency_model(Base)
