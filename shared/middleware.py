"""Pure-ASGI middleware: request id + access log, body size limit, security headers."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_TYPE_BASE, DomainError, HeadersTooLarge, PayloadTooLarge
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
    context and writes one access line: method, route template, status, duration.

    ``unlogged_writes``: path prefixes whose writes (any method but GET and HEAD) get no access
    line unless they fail with a 5xx. A resident's report, message or evidence must not be datable
    to the second in a log that staff can read (timing privacy, issue 14 item 6): feedback_api
    passes ``("/",)``, case_api ``("/v1/intake",)`` (the forwards from feedback_api)."""

    def __init__(self, app: ASGIApp, unlogged_writes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.unlogged_writes = unlogged_writes

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
            if status >= 500 or not self._unlogged(scope):
                access_line(method=scope["method"], route=getattr(route, "path", "<unmatched>"), status=status,
                            duration_ms=round((time.perf_counter() - start) * 1000, 2), request_id=request_id)
            structlog.contextvars.reset_contextvars(**tokens)


    def _unlogged(self, scope: Scope) -> bool:
        return (bool(self.unlogged_writes) and scope["method"] not in ("GET", "HEAD")
                and str(scope["path"]).startswith(self.unlogged_writes))


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

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None, *, hsts: bool = False) -> None:
        self.app = app
        base = {
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "cross-origin-resource-policy": "same-site",
        }
        if hsts:  # the public URL is https: browsers must never come back over http
            base["strict-transport-security"] = "max-age=31536000; includeSubDomains"
        base.update({k.lower(): v for k, v in (headers or {}).items()})
        self.headers = [(k.encode(), v.encode()) for k, v in base.items()]
        # the app set none of these: append ours as they are (a CSP of its own may allow framing)
        self.watch = frozenset(k for k, _ in self.headers) | {b"content-security-policy"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        authenticated = any(k == b"authorization" for k, _ in scope["headers"])

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                existing = {k.lower() for k, _ in headers}
                if authenticated and b"cache-control" not in existing:
                    # a staff answer may carry personal data: no cache, shared or private, keeps it
                    headers.append((b"cache-control", b"no-store"))
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


class HeaderLimitMiddleware:
    """Refuses requests whose headers are too many or too large with 431 problem+json.

    uvicorn's httptools parser has no limit of its own (a 50 MB header was answered 200); this
    bounds what reaches the app. The reverse proxy in front should refuse earlier still
    (nginx: ``large_client_header_buffers``)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_count: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if len(headers) > self.max_count or sum(len(k) + len(v) for k, v in headers) > self.max_bytes:
                await send_problem(scope, send, HeadersTooLarge,
                                   f"Send at most {self.max_count} headers and {self.max_bytes} bytes of them.",
                                   [(b"connection", b"close")])
                return
        await self.app(scope, receive, send)
