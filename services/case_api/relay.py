"""Outbox delivery for case_api: reporter-visible events to feedback_api and privilege
revocations to policy_api, through the app's one ``ServiceClient``. Started in the app's
lifespan; tests call ``relay.drain()``.

Handlers send and return the peer's answer; ``shared.http.classify`` (in the relay) decides
delivered / retry / dead for both topics. The revocation handler also records the result on
the restorative action, for a delivered answer and for a dead one, using the same ``classify``."""

from __future__ import annotations

from datetime import timedelta

import httpx

from services.case_api.domain import checkpoints, restorative
from services.case_api.domain.models import OutboxMessage
from services.case_api.domain.notification_models import WebhookSubscription
from services.case_api.domain.topics import PRIVILEGE_REVOKE, REPORT_EVENT
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.http import Outcome, ServiceClient, classify
from shared.notify_outbox import NOTIFY_PEERS, NotifyStats
from shared.notify_outbox import handlers as notify_handlers
from shared.outbox import Delivery, OutboxRelay
from shared.schemas.checkpoints import ChainCheckpoint
from shared.schemas.messages import PrivilegeRevocationMessage, ReportEventMessage
from shared.schemas.registry import PrivilegeChangeResult
from shared.timeutil import Clock
from shared.webhooks import WEBHOOK
from shared.webhooks import handler as webhook_handler


def build_relay(settings: CaseSettings, db: Database, peers: ServiceClient, clock: Clock,
                notify_stats: NotifyStats | None = None) -> OutboxRelay:
    def report_event(delivery: Delivery[ReportEventMessage]) -> httpx.Response:
        m = delivery.message
        return peers.post("feedback_api", f"/v1/internal/reports/{m.report_id}/events",
                          json=m.event.model_dump(mode="json"), idempotency_key=m.event.event_id,
                          request_id=delivery.request_id, retries=0)

    def revoke(delivery: Delivery[PrivilegeRevocationMessage]) -> httpx.Response:
        m = delivery.message
        resp = peers.post("policy_api", f"/v1/accounts/{m.account_id}/privileges/revoke",
                          json=m.revocation.model_dump(mode="json"), idempotency_key=delivery.idempotency_key,
                          request_id=delivery.request_id, retries=0)
        outcome = classify(resp)
        if outcome is Outcome.DELIVERED:
            result = PrivilegeChangeResult.model_validate(resp.json())
            restorative.record_revocation(db, action_id=m.action_id, ok=True, now=clock.now(), result={
                "changed": result.changed, "active": result.active,
                "recorded_at": result.recorded_at.isoformat(), "account_id": result.account_id})
        elif outcome is Outcome.DEAD:
            restorative.record_revocation(db, action_id=m.action_id, ok=False, now=clock.now(),
                                          result={"status_code": resp.status_code, "error": resp.text[:300]})
        return resp

    def checkpoint(delivery: Delivery[ChainCheckpoint]) -> httpx.Response:
        return peers.post("policy_api", "/v1/internal/checkpoints", json=delivery.message.model_dump(mode="json"),
                          idempotency_key=delivery.idempotency_key, request_id=delivery.request_id, retries=0)

    # notifications (email, team chat, City systems' webhooks): shared.notify_outbox and shared.webhooks;
    # none of their peers has a /readyz to poll
    stats = notify_stats or NotifyStats()
    notify = notify_handlers(settings.notify, stats)
    notify[WEBHOOK] = webhook_handler(db, WebhookSubscription, clock=clock,
                                      allow_private=settings.notify.allow_private_targets,
                                      count=lambda ok: stats.count("webhook", ok))
    return OutboxRelay(db, OutboxMessage, {REPORT_EVENT: report_event, PRIVILEGE_REVOKE: revoke,
                                             checkpoints.CHECKPOINT: checkpoint, **notify},
                       ready=lambda peer: peer not in NOTIFY_PEERS and peers.ready(peer), clock=clock,
                       poll_interval=settings.relay_poll_seconds,
                       lease=timedelta(seconds=settings.relay_lease_seconds))
