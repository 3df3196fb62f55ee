"""Public pages that residents load on phones: HEAD answered like GET, and text compressed.

Used by policy_api (the Transparency page) and feedback_api (the widget, ``/report``):

    install_public_pages(app, prefixes=("/report", "/widget/"))

- **HEAD**: FastAPI routes declared with ``@router.get`` answer ``HEAD`` with 405 (Starlette adds
  HEAD only to its own ``Route``). Link checkers, CDNs and uptime probes send HEAD, so for the
  listed prefixes a HEAD is run as the GET and its body dropped (RFC 9110 §9.3.2: same headers,
  no content). This is the small piece of machinery here; nothing in Starlette or FastAPI does it.
- **gzip**: Starlette's ``GZipMiddleware`` (the library, not ours), but only for GET/HEAD of the
  listed prefixes. Responses to POSTs are not compressed: they can hold a secret (a receipt) next
  to what the sender typed, the shape a compression side channel (BREACH) needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 500  # bytes: below this gzip costs more than it saves


def _matches(scope: Scope, prefixes: Sequence[str]) -> bool:
    path: str = scope.get("path", "")
    return any(path == p or path.startswith(p) for p in prefixes)


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str]) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD" or not _matches(scope, self.prefixes):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class PublicGZipMiddleware:
    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str], minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") and _matches(scope, self.prefixes):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install_public_pages(app: ASGIApp, *, prefixes: Sequence[str]) -> None:
    """Add both to a Starlette/FastAPI app (HEAD outermost, so the GET it becomes is compressed and
    its headers, Content-Encoding and ETag included, are what HEAD answers)."""
    add = app.add_middleware  # type: ignore[attr-defined]
    add(PublicGZipMiddleware, prefixes=prefixes)
    add(HeadAsGetMiddleware, prefixes=prefixes)
