"""Outbox delivery for case_api: reporter-visible events to feedback_api and privilege
revocations to policy_api. Started in the app's lifespan; tests call ``relay.drain()``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from services.case_api.domain import restorative
from services.case_api.domain.cases import TOPIC_REPORT_EVENT, TOPIC_REVOKE
from services.case_api.domain.models import OutboxMessage
from services.case_api.settings import CaseSettings
from shared.auth import Role, ServiceTokenProvider
from shared.db import unit_of_work
from shared.http import ServiceClient
from shared.outbox import OutboxRelay, PermanentFailure
from shared.timeutil import Clock

RETRYABLE_4XX = frozenset({404, 409, 429})


def _check(resp: httpx.Response, what: str) -> None:
    if resp.is_success:
        return
    if 400 <= resp.status_code < 500 and resp.status_code not in RETRYABLE_4XX:
        raise PermanentFailure(f"{what}: HTTP {resp.status_code} {resp.text[:200]}")
    raise RuntimeError(f"{what}: HTTP {resp.status_code}")


def build_relay(settings: CaseSettings, engine: Engine, clock: Clock) -> tuple[OutboxRelay, list[ServiceClient]]:
    tokens = ServiceTokenProvider(settings.auth, settings.mode, "case_api", [Role.svc_case])
    feedback = ServiceClient(settings.feedback_api_url, tokens=tokens, timeout=settings.http_timeout_seconds,
                             retries=0)
    policy = ServiceClient(settings.policy_api_url, tokens=tokens, timeout=settings.http_timeout_seconds, retries=0)

    def report_event(payload: dict[str, Any], key: str) -> None:
        event = payload["event"]
        resp = feedback.post(f"/v1/internal/reports/{payload['report_id']}/events", json=event,
                             idempotency_key=event["event_id"])
        _check(resp, "feedback_api report event")

    def revoke(payload: dict[str, Any], key: str) -> None:
        resp = policy.post(f"/v1/accounts/{payload['account_id']}/privileges/revoke", json=payload["body"],
                           idempotency_key=key)
        if resp.status_code == 404 or (400 <= resp.status_code < 500 and resp.status_code not in (409, 429)):
            with unit_of_work(engine) as s:
                restorative.record_revocation(s, action_id=payload["action_id"], ok=False,
                                              result={"status_code": resp.status_code, "error": resp.text[:300]},
                                              now=clock.now())
            raise PermanentFailure(f"policy_api refused the revocation: HTTP {resp.status_code}")
        _check(resp, "policy_api revocation")
        body = resp.json()
        with unit_of_work(engine) as s:
            restorative.record_revocation(
                s, action_id=payload["action_id"], ok=True, now=clock.now(),
                result={"changed": bool(body.get("changed")), "active": body.get("active"),
                        "recorded_at": body.get("recorded_at"), "account_id": body.get("account_id")},
            )

    relay = OutboxRelay(engine, OutboxMessage, {TOPIC_REPORT_EVENT: report_event, TOPIC_REVOKE: revoke},
                        clock=clock, poll_interval=settings.relay_poll_seconds,
                        lease=timedelta(seconds=settings.relay_lease_seconds))
    return relay, [feedback, policy]
