"""Webhook subscriptions for other City systems (issue 17): the shared admin API
(``shared.web.webhooks``) over policy_api's table, for its events."""

from __future__ import annotations

from services.policy_api.domain.notification_models import WebhookSubscription
from shared.notify import EventType
from shared.web.webhooks import webhook_router

router = webhook_router(WebhookSubscription, events=(EventType.acknowledgement_required, EventType.policy_review_due))
