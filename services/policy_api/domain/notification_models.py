"""policy_api's notification tables (issue 17), on the service's registry: its outbox (it had
none: policy_api called no peer that must not miss a message), the ledger that makes each
(occurrence, recipient) notify once, the scheduler lease (``shared.lease``) and webhook
subscriptions (``shared.webhooks``)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from services.policy_api.domain.models import Base
from shared.ids import new_id
from shared.lease import LeaseColumns
from shared.outbox import OutboxColumns
from shared.webhooks import WebhookSubscriptionColumns


class OutboxMessage(Base, OutboxColumns, table=True):
    """Notifications (email, team chat), committed with the pass that decided them."""

    __tablename__ = "outbox"


class PolicyNotification(Base, table=True):
    __tablename__ = "notifications"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    key: str = Field(max_length=240, unique=True, description="occurrence + recipient")
    event: str = Field(max_length=64)
    recipient: str = Field(max_length=200, description="employee id, or '#team' for the team channel")
    reference: str = Field(max_length=120)
    sent: bool = Field(description="false: no address (or email off), recorded so it is not re-decided")
    created_at: datetime


class SchedulerLease(Base, LeaseColumns, table=True):
    __tablename__ = "scheduler_leases"


class WebhookSubscription(Base, WebhookSubscriptionColumns, table=True):
    """Other City systems subscribed to policy events (``shared.webhooks``)."""

    __tablename__ = "webhook_subscriptions"
