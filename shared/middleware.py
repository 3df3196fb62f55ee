"""Pure-ASGI middleware: request id + access log, body size limit, security headers, admission control."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable

import anyio
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_TYPE_BASE, DomainError, PayloadTooLarge, Unavailable
from shared.logging import access_line
from shared.schemas.problem import Problem

log = structlog.get_logger("access")
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")  # fullmatch: "$" would let a trailing newline in


def problem_bytes(problem: Problem) -> bytes:
    return json.dumps(problem.body(), separators=(",", ":")).encode()


async def send_problem(scope: Scope, send: Send, kind: type[DomainError], detail: str,
                       headers: list[tuple[bytes, bytes]]) -> None:
    """Answer with problem+json straight from middleware (no app below to raise into)."""
    status = kind.status
    body = problem_bytes(Problem(
        type=PROBLEM_TYPE_BASE + kind.slug, title=kind.title, status=status, detail=detail,
        instance=scope["path"], request_id=scope.get("state", {}).get("request_id"),
    ))
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
                    *headers],
    })
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Assigns ``X-Request-ID`` (kept from the caller when well-formed), binds it to the log
    context and writes one access line: method, route template, status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = b""
        for k, v in scope["headers"]:
            if k == b"x-request-id":
                incoming = v
                break
        request_id = incoming.decode("latin-1") if _REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        rid_header = (b"x-request-id", request_id.encode())
        # bound for this request only: reset on the way out, so nothing leaks into the next one
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            access_line(method=scope["method"], route=getattr(route, "path", "<unmatched>"), status=status,
                        duration_ms=round((time.perf_counter() - start) * 1000, 2), request_id=request_id)
            structlog.contextvars.reset_contextvars(**tokens)


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with 413 problem+json, whether announced by
    Content-Length or streamed (chunked). Longer path prefixes may carry their own limit."""

    def __init__(self, app: ASGIApp, *, default: int, overrides: Iterable[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default = default
        self.overrides = sorted(overrides, key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = chunked = None
        for k, v in scope["headers"]:
            if k == b"content-length":
                declared = v
            elif k == b"transfer-encoding":
                chunked = v
        if declared is None and chunked is None and scope["method"] in ("GET", "HEAD"):
            # a GET without Content-Length or Transfer-Encoding has no body in HTTP/1.1 (RFC 9112
            # section 6.3) and no endpoint of ours reads one: skip the wrappers (most reads)
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = True
            if too_big:
                await self._reject(scope, send, limit)
                return
        received = 0
        rejected = False
        response_started = False

        async def limited_receive() -> Message:
            # Past the limit we answer 413 ourselves and tell the app the client went away,
            # so it stops reading; whatever it then tries to send is dropped.
            nonlocal received, rejected, response_started
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    rejected = True
                    if not response_started:
                        response_started = True
                        await self._reject(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if rejected:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        await send_problem(scope, send, PayloadTooLarge, f"The request body exceeds {limit} bytes.",
                           [(b"connection", b"close")])


class SecurityHeadersMiddleware:
    """Headers every response carries; services add stricter ones where they serve HTML."""

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None) -> None:
        self.app = app
        base = {
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "cross-origin-resource-policy": "same-site",
        }
        base.update({k.lower(): v for k, v in (headers or {}).items()})
        self.headers = [(k.encode(), v.encode()) for k, v in base.items()]
        # the app set none of these: append ours as they are (a CSP of its own may allow framing)
        self.watch = frozenset(k for k, _ in self.headers) | {b"content-security-policy"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                existing = {k.lower() for k, _ in headers}
                if self.watch.isdisjoint(existing):
                    headers += self.headers  # the common case
                else:
                    # A response that states who may frame it (CSP frame-ancestors, e.g. the widget
                    # iframe) must not be overridden by the blanket X-Frame-Options: DENY.
                    framed = any(
                        k.lower() == b"content-security-policy" and b"frame-ancestors" in v for k, v in headers
                    )
                    headers += [
                        (k, v) for k, v in self.headers
                        if k not in existing and not (framed and k == b"x-frame-options")
                    ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)



class AdmissionControl:
    """Bounds how many requests one process works on at once; the rest wait here, in the
    event loop, holding nothing.

    Why it exists: sync endpoints, sync dependencies and FastAPI's response validation each
    take a token from AnyIO's thread limiter, one after another. A request that has opened a
    write transaction (on SQLite: the database write lock) still needs one more token to
    validate its response before the unit of work commits. Unbounded, a burst fills every
    token with requests waiting for that same lock (or for a pooled connection), the lock
    holder cannot get a token, and the process stalls until the busy timeout turns the
    waiters into 503s. Measured with wrk: 0 responses in 10 s after a burst on SQLite. With
    ``limit`` admitted requests and at least ``limit + 1`` thread tokens (the lifespan in
    ``shared.api`` sets them), an admitted request can always get its next token.

    Load shedding: a request that waits longer than ``timeout`` seconds is answered 503
    problem+json with Retry-After. So that a client is not kept waiting only to be refused, a
    request is refused at once when the queue ahead of it already needs longer than ``timeout``
    to drain, estimated as ``queued x mean time in the app / limit`` (moving average).
    ``exempt`` paths (probes) skip the queue so an orchestrator still sees a busy process as alive."""

    def __init__(self, app: ASGIApp, *, limit: int, timeout: float, retry_after: int = 2,
                 exempt: Iterable[str] = ("/healthz", "/readyz")) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.retry_after = retry_after
        self.exempt = frozenset(exempt)
        self._slots = anyio.Semaphore(limit)
        self.queued = 0
        self.mean_seconds = 0.0  # moving average of the time an admitted request spends in the app

    @property
    def in_flight(self) -> int:
        return self.limit - self._slots.value

    def expected_wait(self) -> float:
        return (self.queued + 1) * self.mean_seconds / self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self._slots.value == 0 and self.expected_wait() > self.timeout:
            await self._busy(scope, send, "queue_full")
            return
        self.queued += 1
        try:
            with anyio.fail_after(self.timeout):
                await self._slots.acquire()
        except TimeoutError:
            await self._busy(scope, send, "waited_too_long")
            return
        finally:
            self.queued -= 1
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()
            spent = time.perf_counter() - start
            self.mean_seconds = spent if not self.mean_seconds else 0.9 * self.mean_seconds + 0.1 * spent

    async def _busy(self, scope: Scope, send: Send, why: str) -> None:
        log.warning("request_shed", reason=why, queued=self.queued, limit=self.limit)
        await send_problem(scope, send, Unavailable, "The service is busy. Please retry shortly.",
                           [(b"retry-after", str(self.retry_after).encode())])
