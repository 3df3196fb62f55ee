"""case_api's public metrics for the Transparency page, asked through the app's one ``ServiceClient``
(``app.state.peers``, peer ``case_api``): a short timeout, no retries, and a small cache of the peer's
answer (failures are cached too, so an outage of case_api never slows the page down more than once
every ``FAILURE_CACHE_SECONDS``). This caches one peer answer; it is not a response cache."""

from __future__ import annotations

import threading
import time

import structlog
from pydantic import ValidationError

from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.schemas.metrics import PublicMetrics

log = structlog.get_logger("policy_api.metrics")

PEER = "case_api"
PATH = "/v1/public/metrics"
FAILURE_CACHE_SECONDS = 30.0


class MetricsSource:
    def __init__(self, peers: ServiceClient, *, timeout: float, cache_seconds: int) -> None:
        self._peers = peers
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._value: PublicMetrics | None = None
        self._until = 0.0

    def get(self) -> PublicMetrics | None:
        with self._lock:
            if time.monotonic() < self._until:
                return self._value
        value = self._fetch()
        with self._lock:
            self._value = value
            ttl = self._cache_seconds if value is not None else min(self._cache_seconds, FAILURE_CACHE_SECONDS)
            self._until = time.monotonic() + ttl
        return value

    def fetch(self) -> PublicMetrics | None:
        """Ask case_api now, bypassing the cache (the Council report shows figures as of its generation)."""
        return self._fetch()

    def _fetch(self) -> PublicMetrics | None:
        try:
            resp = self._peers.get(PEER, PATH, authenticated=False, timeout=self._timeout, retries=0)
        except UpstreamFailed:
            log.warning("metrics_unavailable", reason="no_answer")
            return None
        if resp.status_code != 200:
            log.warning("metrics_unavailable", status=resp.status_code)
            return None
        try:
            return PublicMetrics.model_validate(resp.json())
        except (ValidationError, ValueError):
            log.warning("metrics_unavailable", reason="bad_body")
            return None
