"""Prometheus ``/metrics`` for every service (prometheus_client).

What is exported, with no personal data in any label:
- ``http_requests_total`` by route template, method and status, and
  ``http_request_duration_seconds`` by route template and method (unmatched paths are ``none``;
  probes and /metrics itself are excluded);
- ``civicsocial_outbox_pending``, ``_dead``, ``_oldest_pending_age_seconds`` and the counters
  ``civicsocial_outbox_retries_total``, ``_dead_letters_total`` for a service with a relay;
- ``civicsocial_rate_limit_refusals_total`` by rule, for a service with a rate limiter;
- ``civicsocial_notifications_sent_total``, ``_failed_total`` and ``civicsocial_notifications_pending``
  by channel (email, chat, webhook), for a service that notifies;
- ``civicsocial_db_pool_checked_out`` and ``_size`` per engine (reader, writer).

Who may read it: anyone in dev mode; in production only a scraper presenting
``Authorization: Bearer <METRICS_TOKEN>``, or anyone when ``METRICS_PUBLIC=true`` (for a
network where only the scraper can reach the port). Otherwise ``/metrics`` is 404.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import NotFound
from shared.settings import ServiceSettings

EXCLUDED = ["/metrics", "/healthz", "/readyz"]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class _StateCollector(Collector):
    """Reads the app's relay, rate limiter and database at scrape time (no bookkeeping on the
    request path)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        state = self.app.state
        relay: Any = getattr(state, "relay", None)
        if relay is not None and hasattr(relay, "stats"):
            try:
                stats = relay.stats()
            except Exception:  # noqa: BLE001 - the database may be down; the gauges just go missing
                stats = None
            if stats is not None:
                yield GaugeMetricFamily("civicsocial_outbox_pending", "Outbox messages not yet delivered",
                                        value=stats.pending)
                yield GaugeMetricFamily("civicsocial_outbox_dead", "Outbox messages parked as dead", value=stats.dead)
                yield GaugeMetricFamily("civicsocial_outbox_oldest_pending_age_seconds",
                                        "Age of the oldest undelivered message",
                                        value=stats.oldest_pending_age_seconds or 0)
            yield CounterMetricFamily("civicsocial_outbox_retries", "Deliveries to be retried", value=relay.retries)
            yield CounterMetricFamily("civicsocial_outbox_dead_letters", "Deliveries parked as dead",
                                      value=relay.dead_letters)
        limiter: Any = getattr(state, "ratelimiter", None)
        if limiter is not None:
            refusals = CounterMetricFamily("civicsocial_rate_limit_refusals", "Requests refused with 429",
                                           labels=["rule"])
            for rule, n in sorted(getattr(limiter, "refusals", {}).items()):
                refusals.add_metric([rule], n)
            yield refusals
        notify_stats: Any = getattr(state, "notify_stats", None)  # shared.notify_outbox.NotifyStats (issue 17)
        if notify_stats is not None:
            yield from _notification_metrics(notify_stats)
        db: Any = getattr(state, "db", None)
        if db is not None:
            used = GaugeMetricFamily("civicsocial_db_pool_checked_out", "Connections in use", labels=["engine"])
            size = GaugeMetricFamily("civicsocial_db_pool_size", "Pool size", labels=["engine"])
            engines = {"reader": db.reader} if db.writer is db.reader else {"reader": db.reader, "writer": db.writer}
            for name, engine in engines.items():
                pool: Any = engine.pool
                if hasattr(pool, "checkedout"):
                    used.add_metric([name], pool.checkedout())
                    size.add_metric([name], pool.size())
            yield used
            yield size


def _notification_metrics(stats: Any) -> Iterator[Metric]:
    """Per channel: notifications sent and failed by this process, and pending in the outbox."""
    sent = CounterMetricFamily("civicsocial_notifications_sent", "Notifications delivered", labels=["channel"])
    failed = CounterMetricFamily("civicsocial_notifications_failed", "Notification deliveries that failed",
                                 labels=["channel"])
    for channel in ("email", "chat", "webhook"):
        sent.add_metric([channel], stats.sent.get(channel, 0))
        failed.add_metric([channel], stats.failed.get(channel, 0))
    yield sent
    yield failed
    try:
        pending = stats.pending()
    except Exception:  # noqa: BLE001 - the database may be down; the gauge just goes missing
        return
    gauge = GaugeMetricFamily("civicsocial_notifications_pending", "Notifications waiting in the outbox",
                              labels=["channel"])
    for channel, n in sorted(pending.items()):
        gauge.add_metric([channel], n)
    yield gauge


class _RequestMetrics:
    """Requests and latency by route template, method and status, in pure ASGI on
    ``prometheus_client``. Why not prometheus-fastapi-instrumentator: it matches every request
    against the route table again and records five metrics by default; measured here it cost
    60-100 µs a request (policy_api, ASGI loop), where this reads the template Starlette already
    matched (``scope["route"]``) after the response: about 5 µs."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter("http_requests", "Requests answered", ["method", "handler", "status"],
                                registry=registry)
        self.latency = Histogram("http_request_duration_seconds", "Time to the last response byte",
                                 ["method", "handler"], buckets=LATENCY_BUCKETS, registry=registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXCLUDED:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            handler = getattr(route, "path", None) or "none"  # never the raw path: it may hold ids
            self.requests.labels(scope["method"], handler, str(status)).inc()
            self.latency.labels(scope["method"], handler).observe(time.perf_counter() - start)


def install_metrics(app: FastAPI, settings: ServiceSettings) -> None:
    """Call before the other middleware is added (it then sits innermost, next to the router)."""
    registry = CollectorRegistry()
    app.add_middleware(_RequestMetrics, registry=registry)
    registry.register(_StateCollector(app))
    app.state.metrics_registry = registry
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None
    open_to_all = settings.mode == "dev" or settings.metrics_public

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if not open_to_all:
            presented = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
            if token is None or not hmac.compare_digest(presented, token):
                raise NotFound("Not found.")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
