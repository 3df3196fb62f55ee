"""Delivery of outbox messages to case_api, and the relay that runs them.

* ``report.forward`` -> ``POST /v1/intake/reports`` (``Idempotency-Key: <report_id>``)
* ``report.message`` -> ``POST /v1/intake/reports/{report_id}/messages`` (``Idempotency-Key: <message_id>``)

2xx is delivered. Transport errors, 5xx, 404 (case_api not deployed yet, or the report's own
forward not delivered yet), 409 (a concurrent duplicate in progress) and 429 are retried with
backoff and jitter, forever. Any other 4xx means retrying cannot help: ``PermanentFailure``,
kept as dead and visible on ``GET /v1/ops/outbox``. Delivered rows are deleted straight away:
the outbox keeps timestamps and the report's text only while delivery is pending.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import delete

from services.feedback_api.domain.models import OutboxMessage
from services.feedback_api.domain.submissions import TOPIC_MESSAGE, TOPIC_REPORT
from shared.db import unit_of_work
from shared.http import ServiceClient
from shared.outbox import Handler, OutboxRelay, PermanentFailure

RETRY_4XX = frozenset({404, 408, 409, 425, 429})


class RetryLater(Exception):
    """The receiver answered, but not yet: try again after backoff."""


def _classify(resp: httpx.Response) -> None:
    status = resp.status_code
    if 200 <= status < 300:
        return
    if status >= 500 or status in RETRY_4XX:
        raise RetryLater(f"case_api answered {status}")
    title = ""
    try:
        body = resp.json()
        title = str(body.get("detail") or body.get("title") or "")[:200] if isinstance(body, dict) else ""
    except ValueError:
        pass
    raise PermanentFailure(f"case_api refused with {status}: {title}")


def make_handlers(client: ServiceClient) -> dict[str, Handler]:
    def forward_report(payload: dict[str, Any], key: str) -> None:
        _classify(client.post("/v1/intake/reports", json=payload, idempotency_key=key))

    def forward_message(payload: dict[str, Any], key: str) -> None:
        report_id = str(payload["report_id"])
        _classify(client.post(f"/v1/intake/reports/{report_id}/messages", json=payload["message"],
                              idempotency_key=key))

    return {TOPIC_REPORT: forward_report, TOPIC_MESSAGE: forward_message}


class FeedbackRelay(OutboxRelay):
    """The kernel relay, plus: delivered rows are purged at once (no report text or times kept)."""

    def run_once(self) -> int:
        delivered = super().run_once()
        if delivered:
            self.purge_delivered()
        return delivered

    def purge_delivered(self) -> int:
        m: Any = OutboxMessage
        with unit_of_work(self.engine) as s:
            result = s.execute(delete(m).where(m.delivered_at.is_not(None)))
            return int(getattr(result, "rowcount", 0) or 0)
