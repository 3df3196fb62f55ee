"""The one way services call each other: a sync httpx client with timeouts always,
retries with backoff and jitter only for idempotent calls, the service's bearer
token, and ``X-Request-ID`` propagated from the current request."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import structlog

from shared.auth import ServiceTokenProvider
from shared.errors import UpstreamFailed

log = structlog.get_logger("shared.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        tokens: ServiceTokenProvider | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._retries = retries
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "civicsocial-service-client"},
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        authenticated: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request. Retries transport errors and retryable statuses when the call is
        idempotent (a safe method, or any method with an ``Idempotency-Key``). Returns the final
        response whatever its status; raises ``UpstreamFailed`` when no response came at all."""
        method = method.upper()
        hdrs = dict(headers or {})
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            hdrs["X-Request-ID"] = str(request_id)
        if idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        retryable = method in IDEMPOTENT_METHODS or idempotency_key is not None
        attempts = 1 + (self._retries if retryable else 0)
        last_exc: Exception | None = None
        for attempt in range(attempts):
            if authenticated and self._tokens is not None:
                hdrs["Authorization"] = f"Bearer {self._tokens.token()}"
            try:
                resp = self._client.request(method, path, json=json, params=params, headers=hdrs)
            except httpx.TransportError as exc:
                last_exc = exc
                log.warning("upstream_transport_error", target=self.base_url, path=path, error=type(exc).__name__)
            else:
                if resp.status_code not in RETRY_STATUSES or attempt == attempts - 1:
                    return resp
                log.warning("upstream_retryable_status", target=self.base_url, path=path, status=resp.status_code)
            if attempt < attempts - 1:
                time.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))
        raise UpstreamFailed(f"{self.base_url} did not answer.") from last_exc

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)
