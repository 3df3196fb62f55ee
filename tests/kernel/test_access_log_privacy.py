"""The access line and timing privacy (issue 14 item 6): writes under an unlogged prefix leave no
line unless they fail with a 5xx; reads and other paths are logged as before."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.logging import _AccessLog, _LineWriter
from shared.middleware import RequestContextMiddleware


def _app() -> RequestContextMiddleware:
    async def ok(request):
        return PlainTextResponse("ok")

    async def boom(request):
        return PlainTextResponse("no", status_code=503)

    inner = Starlette(routes=[Route("/v1/intake/reports", ok, methods=["POST", "GET"]),
                              Route("/v1/intake/fail", boom, methods=["POST"]),
                              Route("/v1/cases", ok, methods=["POST"])])
    return RequestContextMiddleware(inner, unlogged_writes=("/v1/intake",))


@pytest.mark.asyncio
async def test_writes_under_an_unlogged_prefix_leave_no_access_line(monkeypatch):
    out = io.StringIO()  # the access log as production writes it (JSON, INFO), whatever ran before
    monkeypatch.setattr(_AccessLog, "writer", _LineWriter(out))
    monkeypatch.setattr(_AccessLog, "json", True)
    monkeypatch.setattr(_AccessLog, "enabled", True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as c:
        assert (await c.post("/v1/intake/reports")).status_code == 200
        assert (await c.get("/v1/intake/reports")).status_code == 200
        assert (await c.post("/v1/intake/fail")).status_code == 503
        assert (await c.post("/v1/cases")).status_code == 200
    lines = [json.loads(x) for x in out.getvalue().splitlines() if '"event": "request"' in x]
    seen = {(x["method"], x["status"]) for x in lines}
    assert ("GET", 200) in seen and ("POST", 503) in seen  # reads and failures are still logged
    assert len([x for x in lines if x["method"] == "POST" and x["status"] == 200]) == 1  # /v1/cases only
