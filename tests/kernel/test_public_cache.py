"""The in-process cache of anonymous public GETs: hits skip the endpoint, writes empty it,
staff requests bypass it, 304s come from the cached ETag, the clock's date is part of the key."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.registry import SERVICES
from shared.api import create_service_app
from shared.caching import cached_json
from shared.settings import ServiceSettings
from shared.timeutil import FrozenClock

CALLS = {"n": 0}


def _router() -> APIRouter:
    r = APIRouter()

    @r.get("/v1/things")
    def things(request: Request) -> Response:
        CALLS["n"] += 1
        return cached_json(request, {"n": CALLS["n"]})

    @r.post("/v1/things", status_code=201)
    def write(fail: bool = False) -> dict[str, bool]:
        if fail:
            from shared.errors import Conflict

            raise Conflict("no")
        return {"ok": True}

    return r


@pytest.fixture
def clock():
    return FrozenClock()


def _cached_app(databases, dev_key, clock, router: APIRouter, prefix: str):
    settings = ServiceSettings(database_url=databases["case_api"].url, auth={"dev_key_file": str(dev_key)},
                               auto_migrate=False, public_cache_seconds=30)
    return create_service_app(settings=settings, title="t", description="t", version="0",
                              migrations_dir=SERVICES["case_api"].migrations_dir, routers=[router],
                              clock=clock, public_cache_prefixes=(prefix,))


@pytest.fixture
def app(databases, dev_key, clock):
    CALLS["n"] = 0
    return _cached_app(databases, dev_key, clock, _router(), "/v1/things")


async def test_hit_skips_the_endpoint_and_keeps_headers_fresh(app, client):
    c = client(app)
    a = await c.get("/v1/things")
    b = await c.get("/v1/things")
    assert a.json() == b.json() == {"n": 1} and CALLS["n"] == 1
    assert a.headers["etag"] == b.headers["etag"]
    assert a.headers["x-request-id"] != b.headers["x-request-id"]
    assert b.headers["x-content-type-options"] == "nosniff"
    assert (await c.get("/v1/things", params={"page": 2})).json() == {"n": 2}


async def test_if_none_match_gets_304_from_the_cache(app, client):
    c = client(app)
    etag = (await c.get("/v1/things")).headers["etag"]
    r = await c.get("/v1/things", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and CALLS["n"] == 1


async def test_successful_write_empties_the_cache_failed_one_does_not(app, client):
    c = client(app)
    await c.get("/v1/things")
    assert (await c.post("/v1/things", params={"fail": True})).status_code == 409
    assert (await c.get("/v1/things")).json() == {"n": 1}
    assert (await c.post("/v1/things")).status_code == 201
    assert (await c.get("/v1/things")).json() == {"n": 2}


async def test_requests_with_credentials_bypass(app, client, token):
    c = client(app)
    await c.get("/v1/things")
    r = await c.get("/v1/things", headers=token("admin"))
    assert r.json() == {"n": 2} and r.headers["cache-control"] == "private, no-cache"


async def test_a_new_day_is_a_new_entry(app, client, clock):
    c = client(app)
    await c.get("/v1/things")
    clock.advance(timedelta(days=1))
    assert (await c.get("/v1/things")).json() == {"n": 2}


async def test_revalidating_clients_refill_an_expired_entry(app, client):
    """Clients that always send If-None-Match must not keep the cache empty."""
    c = client(app)
    etag = (await c.get("/v1/things")).headers["etag"]
    _cache(app).clear()
    for _ in range(3):
        r = await c.get("/v1/things", headers={"If-None-Match": etag})
    assert CALLS["n"] == 2  # one refill after the clear, then served from the cache
    assert r.status_code == 200 and r.json() == {"n": 2}  # the old ETag no longer matches


def _middlewares(app):
    m = app.middleware_stack
    while m is not None:
        yield m
        m = getattr(m, "app", None)


SLOW = {"n": 0}


def _slow_router() -> APIRouter:
    r = APIRouter()

    @r.get("/v1/slow")
    def slow(request: Request) -> Response:
        SLOW["n"] += 1
        n = SLOW["n"]
        time.sleep(0.2)  # long enough for the other requests to arrive while it runs
        return cached_json(request, {"n": n})

    @r.post("/v1/slow", status_code=201)
    def write() -> dict[str, bool]:
        return {"ok": True}

    return r


@pytest.fixture
def slow_app(databases, dev_key, clock):
    SLOW["n"] = 0
    return _cached_app(databases, dev_key, clock, _slow_router(), "/v1/slow")


def _cache(app):
    return next(m for m in _middlewares(app) if m.__class__.__name__ == "PublicResponseCache")


async def test_concurrent_misses_make_one_request_to_the_app(slow_app, client):
    c = client(slow_app)
    responses = await asyncio.gather(*(c.get("/v1/slow") for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert {r.json()["n"] for r in responses} == {1}
    assert SLOW["n"] == 1


async def test_past_half_its_ttl_one_request_refreshes_while_the_others_are_served(slow_app, client):
    c = client(slow_app)
    await c.get("/healthz")  # builds the middleware stack
    cache = _cache(slow_app)
    t = [1000.0]
    cache.now = lambda: t[0]
    assert (await c.get("/v1/slow")).json() == {"n": 1}
    t[0] += 20  # past half of the 30 s TTL, not expired
    responses = await asyncio.gather(*(c.get("/v1/slow") for _ in range(10)))
    seen = sorted(r.json()["n"] for r in responses)
    assert SLOW["n"] == 2  # exactly one refresh
    assert seen.count(2) == 1 and seen.count(1) == 9  # the refresher got the new body, the rest the cached one
    assert (await c.get("/v1/slow")).json() == {"n": 2}


async def test_a_response_made_before_a_write_is_not_stored_after_it(slow_app, client):
    c = client(slow_app)
    fill = asyncio.create_task(c.get("/v1/slow"))
    await asyncio.sleep(0.05)  # the fill is running
    assert (await c.post("/v1/slow")).status_code == 201
    assert (await fill).json() == {"n": 1}
    assert (await c.get("/v1/slow")).json() == {"n": 2}  # not served from the pre-write fill
