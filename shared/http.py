"""The one way services call each other, and the one rule for what a peer's answer means.

``ServiceClient`` is created once per app, in its factory, and closed in its lifespan. It
knows every peer by name (``"policy_api"``, ``"feedback_api"``, ``"case_api"``) and keeps one
connection pool for all of them. Timeouts always; retries with backoff and jitter only for
idempotent calls (a safe method, or any method with an ``Idempotency-Key``); the service's
bearer token, fetched once and cached to near expiry, and refreshed once when a peer answers
401; ``X-Request-ID`` propagated from the current request (or given explicitly, as the outbox
relay does for the request that enqueued a message).

``classify(response)`` is the single retry classification for every relay and client:
``DELIVERED`` (2xx), ``RETRY`` (no answer, 5xx, 408, 425, 429, and 404/409, which between our
services mean "not there yet" / "a concurrent duplicate in progress"), ``DEAD`` (any other
4xx: retrying cannot help).
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Mapping
from typing import Any

import httpx
import structlog

from shared.auth import ServiceTokenProvider
from shared.errors import UpstreamFailed

log = structlog.get_logger("shared.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Statuses worth another attempt, for a client's own retries and for the outbox alike.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# Between our services, 404 and 409 on a delivery mean "not yet" (the record the message refers
# to is still in flight, or a duplicate of this very message is being processed): retry later.
DELIVERY_RETRY_4XX = frozenset({404, 409})


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


def classify(response: httpx.Response | None) -> Outcome:
    """What a peer's answer means for a message that must not be lost (``None``: no answer)."""
    if response is None:
        return Outcome.RETRY
    status = response.status_code
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status >= 500 or status in RETRY_STATUSES or status in DELIVERY_RETRY_4XX:
        return Outcome.RETRY
    return Outcome.DEAD


def describe(response: httpx.Response) -> str:
    """``HTTP 422: <title or detail>``, short, for logs and dead-letter rows (never a body dump)."""
    text = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            text = str(body.get("detail") or body.get("title") or "")
    except ValueError:
        pass
    return f"HTTP {response.status_code}: {text[:200]}".rstrip(": ")


class ServiceClient:
    def __init__(
        self,
        peers: Mapping[str, str],
        *,
        tokens: ServiceTokenProvider | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.peers = {name: url.rstrip("/") for name, url in peers.items()}
        self.tokens = tokens
        self._retries = retries
        self._timeout = timeout
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "civicsocial-service-client"},
        )

    def close(self) -> None:
        self._client.close()

    def url(self, peer: str, path: str) -> str:
        return self.peers[peer] + path

    def request(
        self,
        peer: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        authenticated: bool = True,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        request_id: str | None = None,
    ) -> httpx.Response:
        """Send a request. Retries transport errors and retryable statuses when the call is
        idempotent. Returns the final response whatever its status; raises ``UpstreamFailed``
        when no response came at all."""
        method = method.upper()
        hdrs = dict(headers or {})
        request_id = request_id or structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            hdrs["X-Request-ID"] = str(request_id)
        if idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        retryable = method in IDEMPOTENT_METHODS or idempotency_key is not None
        attempts = 1 + ((self._retries if retries is None else retries) if retryable else 0)
        url = self.url(peer, path)
        kw: dict[str, Any] = {}
        if timeout is not None:
            kw["timeout"] = httpx.Timeout(timeout, connect=min(timeout, 3.0))
        last_exc: Exception | None = None
        refreshed = False
        attempt = 0
        while attempt < attempts:
            token = self.tokens.token() if authenticated and self.tokens is not None else None
            if token:
                hdrs["Authorization"] = f"Bearer {token}"
            try:
                resp = self._client.request(method, url, json=json, params=params, headers=hdrs, **kw)
            except httpx.TransportError as exc:
                last_exc = exc
                log.warning("upstream_transport_error", peer=peer, path=path, error=type(exc).__name__)
            else:
                if resp.status_code == 401 and token and not refreshed and self.tokens is not None:
                    # the cached token was revoked or rotated: fetch a new one, once, not an attempt
                    refreshed = True
                    self.tokens.invalidate(token)
                    log.info("upstream_token_refreshed", peer=peer, path=path)
                    continue
                if resp.status_code not in RETRY_STATUSES or attempt == attempts - 1:
                    return resp
                log.warning("upstream_retryable_status", peer=peer, path=path, status=resp.status_code)
            attempt += 1
            if attempt < attempts:
                time.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))
        raise UpstreamFailed(f"{peer} did not answer.") from last_exc

    def get(self, peer: str, path: str, **kw: Any) -> httpx.Response:
        return self.request(peer, "GET", path, **kw)

    def post(self, peer: str, path: str, **kw: Any) -> httpx.Response:
        return self.request(peer, "POST", path, **kw)

    def ready(self, peer: str, *, timeout: float = 2.0) -> bool:
        """True when the peer's ``/readyz`` answers 200 (used by relays to wake after an outage)."""
        try:
            resp = self._client.get(self.url(peer, "/readyz"), timeout=timeout)
        except httpx.TransportError:
            return False
        return resp.status_code == 200
