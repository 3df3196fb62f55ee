"""case_api's notification tables (issue 17), on the service's registry.

- ``notifications``: the ledger. One row per event occurrence and recipient, keyed so that the
  same deadline or the same audit entry can never notify the same person twice
  (``key`` unique); it says how it went out (immediate, digest, off) and, for a digest, when.
- ``notification_preferences``: per person, per event type, immediate / digest / off; and the
  roles and department their sign-in token last asserted (the roster role-based events use).
- ``notification_cursor``: how far the dispatcher has read the audit chain.
- ``scheduler_leases``: ``shared.lease``, so one instance at a time runs the scheduler.
- ``webhook_subscriptions``: ``shared.webhooks``, other City systems subscribed per event type.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import JSON, Column, Field

from services.case_api.domain.models import Base
from shared.ids import new_id
from shared.lease import LeaseColumns
from shared.webhooks import WebhookSubscriptionColumns


class NotificationRecord(Base, table=True):
    __tablename__ = "notifications"
    # the digest pass: a person's undigested rows
    __table_args__ = (Index("ix_notifications_person_mode_digested", "person_key", "mode", "digested_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    key: str = Field(max_length=200, unique=True, description="event occurrence + recipient")
    event: str = Field(max_length=64)
    person_key: str = Field(max_length=100, description="identity.person_key, or '#team' for the team channel")
    reference: str | None = Field(default=None, max_length=120)
    link: str = Field(max_length=500)
    mode: str = Field(max_length=10, description="immediate | digest | off | no_address")
    created_at: datetime
    digested_at: datetime | None = None


class NotificationPreference(Base, table=True):
    __tablename__ = "notification_preferences"

    person_key: str = Field(primary_key=True, max_length=100)
    modes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    department: str | None = Field(default=None, max_length=120)
    updated_at: datetime


class NotificationCursor(Base, table=True):
    __tablename__ = "notification_cursor"

    name: str = Field(primary_key=True, max_length=32)
    audit_seq: int = 0
    updated_at: datetime


class SchedulerLease(Base, LeaseColumns, table=True):
    __tablename__ = "scheduler_leases"


class WebhookSubscription(Base, WebhookSubscriptionColumns, table=True):
    __tablename__ = "webhook_subscriptions"
