"""Delivery of outbox messages to case_api, and the relay that runs them.

* ``report.forward`` -> ``POST /v1/intake/reports`` (``Idempotency-Key: <report_id>``)
* ``report.message`` -> ``POST /v1/intake/reports/{report_id}/messages`` (``Idempotency-Key: <message_id>``)

The handlers send through the app's one ``ServiceClient`` and return case_api's answer;
``shared.http.classify`` decides (the relay applies it): 2xx delivered; no answer, 5xx, 404
(case_api not deployed yet, or the report's own forward not delivered yet), 408, 409, 425 and 429
retried with capped backoff and jitter, forever, and at once when case_api's ``/readyz`` answers
again; any other 4xx parked dead, visible on ``GET /v1/ops/outbox``. Delivered rows are deleted
straight away: the outbox keeps timestamps and the report's text only while delivery is pending.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import delete
from sqlmodel import col

from services.feedback_api.domain.models import OutboxMessage
from services.feedback_api.domain.topics import RECONSIDERATION, REPORT_FORWARD, REPORTER_EVIDENCE, REPORTER_MESSAGE
from shared.http import ServiceClient
from shared.outbox import Delivery, Handler, OutboxRelay, Topic
from shared.schemas.intake import ReportForward
from shared.schemas.messages import ReporterMessageMessage
from shared.schemas.reporter import ReconsiderationMessage, ReporterEvidenceMessage


def make_handlers(peers: ServiceClient) -> dict[Topic[Any], Handler]:
    """One handler per topic. ``retries=0``: the relay owns retrying (backoff, ready wake)."""

    def forward_report(delivery: Delivery[ReportForward]) -> httpx.Response:
        # no X-Request-ID for what reporters send: it would link case_api's logs to the filing (batching.py)
        return peers.post("case_api", "/v1/intake/reports", json=delivery.message.model_dump(mode="json"),
                          idempotency_key=delivery.idempotency_key, request_id=None, retries=0)

    def forward_message(delivery: Delivery[ReporterMessageMessage]) -> httpx.Response:
        message = delivery.message
        return peers.post("case_api", f"/v1/intake/reports/{message.report_id}/messages",
                          json=message.message.model_dump(mode="json"),
                          idempotency_key=delivery.idempotency_key, request_id=None, retries=0)

    def forward_evidence(delivery: Delivery[ReporterEvidenceMessage]) -> httpx.Response:
        message = delivery.message
        return peers.post("case_api", f"/v1/intake/reports/{message.report_id}/evidence",
                          json=message.evidence.model_dump(mode="json"),
                          idempotency_key=delivery.idempotency_key, request_id=None, retries=0)

    def forward_reconsideration(delivery: Delivery[ReconsiderationMessage]) -> httpx.Response:
        message = delivery.message
        return peers.post("case_api", f"/v1/intake/reports/{message.report_id}/reconsideration",
                          json=message.request.model_dump(mode="json"),
                          idempotency_key=delivery.idempotency_key, request_id=None, retries=0)

    return {REPORT_FORWARD: forward_report, REPORTER_MESSAGE: forward_message, REPORTER_EVIDENCE: forward_evidence,
            RECONSIDERATION: forward_reconsideration}


class FeedbackRelay(OutboxRelay):
    """The kernel relay, plus: delivered rows are purged at once (no report text or times kept)."""

    def run_once(self) -> int:
        delivered = super().run_once()
        if delivered:
            self.purge_delivered()
        return delivered

    def purge_delivered(self) -> int:
        with self.db.write() as s:
            result = s.execute(delete(OutboxMessage).where(col(OutboxMessage.delivered_at).is_not(None)))
            return int(getattr(result, "rowcount", 0) or 0)
