"""case_api's public metrics for the Transparency page: a short timeout, no retries, a small cache
(failures are cached too, so an outage of case_api never slows the page down more than once a minute)."""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog
from pydantic import ValidationError

from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.schemas.metrics import PublicMetrics

log = structlog.get_logger("policy_api.metrics")

FAILURE_CACHE_SECONDS = 30.0


class MetricsSource:
    def __init__(self, base_url: str, *, timeout: float, cache_seconds: int) -> None:
        self._client = ServiceClient(base_url, timeout=timeout, retries=0)
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._value: PublicMetrics | None = None
        self._until = 0.0

    def close(self) -> None:
        self._client.close()

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

    def _fetch(self) -> PublicMetrics | None:
        try:
            resp = self._client.get("/v1/public/metrics", authenticated=False)
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


def source_for(state: Any) -> MetricsSource:
    source: MetricsSource | None = getattr(state, "metrics_source", None)
    if source is None:
        s = state.settings
        source = MetricsSource(s.case_api_url, timeout=s.metrics_timeout_seconds, cache_seconds=s.metrics_cache_seconds)
        state.metrics_source = source
    return source
