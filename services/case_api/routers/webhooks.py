"""Webhook subscriptions for other City systems (issue 17): the shared admin API
(``shared.web.webhooks``) over case_api's table, for case_api's events."""

from __future__ import annotations

from services.case_api.domain.notification_models import WebhookSubscription
from services.case_api.domain.notifications import STAFF_EVENTS
from shared.web.webhooks import webhook_router

router = webhook_router(WebhookSubscription, events=STAFF_EVENTS)
