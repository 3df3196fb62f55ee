"""HTTP caching for public GETs: a strong ETag over the exact body, ``If-None-Match`` answered
with ``304 Not Modified``, and ``Cache-Control`` chosen by the caller.

    @router.get("/v1/things/{id}", response_model=Thing)
    def get_thing(request: Request, ...) -> Response:
        return cached_json(request, Thing.model_validate(row), max_age=60)

Responses to authenticated requests (a bearer token) are marked ``private, no-cache`` so a
shared cache never hands staff-only content to the public; ``Vary: Authorization`` says so too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

DEFAULT_MAX_AGE = 60
DEFAULT_STALE_WHILE_REVALIDATE = 300


def etag_for(body: bytes) -> str:
    """A strong validator: the same bytes, the same tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def if_none_match(header: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` matches ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(candidate) == wanted for candidate in header.split(","))


def cache_control(*, max_age: int = DEFAULT_MAX_AGE, private: bool = False,
                  stale_while_revalidate: int = DEFAULT_STALE_WHILE_REVALIDATE) -> str:
    if private:
        return "private, no-cache"
    parts = ["public", f"max-age={max_age}"]
    if stale_while_revalidate:
        parts.append(f"stale-while-revalidate={stale_while_revalidate}")
    return ", ".join(parts)


def cached_response(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    max_age: int = DEFAULT_MAX_AGE,
    private: bool | None = None,
    stale_while_revalidate: int = DEFAULT_STALE_WHILE_REVALIDATE,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
) -> Response:
    """``body`` with ETag and Cache-Control, or a bodiless 304 when the client already has it.
    ``private`` defaults to whether the request carried credentials. ``etag``: the body's
    ``etag_for``, when the caller keeps the body and its tag together (not hashed again)."""
    if private is None:
        private = "authorization" in request.headers
    etag = etag or etag_for(body)
    hdrs = {
        "ETag": etag,
        "Cache-Control": cache_control(max_age=max_age, private=private,
                                       stale_while_revalidate=stale_while_revalidate),
        "Vary": "Authorization",
        **(headers or {}),
    }
    if request.method in ("GET", "HEAD") and if_none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=hdrs)
    return Response(content=body, media_type=media_type, headers=hdrs)


def json_bytes(content: Any) -> bytes:
    if isinstance(content, BaseModel):
        return content.model_dump_json().encode()
    return json.dumps(jsonable_encoder(content), separators=(",", ":"), ensure_ascii=False).encode()


def cached_json(request: Request, content: Any, **kw: Any) -> Response:
    """JSON (a Pydantic model or anything ``jsonable_encoder`` takes) with ETag and Cache-Control."""
    return cached_response(request, json_bytes(content), media_type="application/json", **kw)
