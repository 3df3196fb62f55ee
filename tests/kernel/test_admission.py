"""Admission control: a burst of writes must not stall the process (see AdmissionControl)."""

from __future__ import annotations

import asyncio
import time

import anyio
import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from services.feedback_api.domain.models import OutboxMessage
from services.registry import SERVICES
from shared.api import SessionDep, create_service_app
from shared.middleware import AdmissionControl
from shared.outbox import enqueue
from shared.settings import ServiceSettings
from shared.timeutil import utcnow


class Written(BaseModel):
    key: str


def _router() -> APIRouter:
    r = APIRouter()

    @r.post("/write/{key}", status_code=201)
    def write(key: str, session: SessionDep) -> Written:
        enqueue(session, OutboxMessage, topic="burst", payload={"k": key}, idempotency_key=key, now=utcnow())
        session.flush()  # the write transaction (SQLite: the write lock) is open from here
        time.sleep(0.02)  # ...and held a moment, as real work would, so waiters pile up
        return Written(key=key)  # validated in a worker thread *before* the commit

    return r


async def test_a_burst_larger_than_the_thread_pool_completes_without_stalling(databases, dev_key, live):
    """Regression: 60 concurrent writes against the default 40 thread tokens. Before admission
    control, the request holding the write lock waited for a thread token to validate its
    response while every token was held by requests waiting for that lock: nothing moved until
    SQLite's 10 s busy timeout turned the waiters into 503s (wrk saw 0 responses in 10 s)."""
    settings = ServiceSettings(database_url=databases["feedback_api"].url, auth={"dev_key_file": str(dev_key)},
                               auto_migrate=False)
    app = create_service_app(settings=settings, title="t", description="t", version="0",
                             migrations_dir=SERVICES["feedback_api"].migrations_dir, routers=[_router()])
    server = live(app)
    n = 60
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                 limits=httpx.Limits(max_connections=n)) as c:
        responses = await asyncio.gather(*(c.post(f"/write/k{i}") for i in range(n)))
    elapsed = time.monotonic() - started
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * n, statuses
    # 60 x 20 ms of lock time is ~1.2 s; a stall shows up as the 10 s busy timeout.
    assert elapsed < 8, f"burst took {elapsed:.1f}s: the process stalled"
    with databases["feedback_api"].engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == n


async def _blocking_app(gate: anyio.Event, scope, receive, send) -> None:
    await gate.wait()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"done"})


@pytest.mark.parametrize("path", ["/anything"])
async def test_a_request_that_cannot_be_admitted_in_time_gets_503_with_retry_after(path):
    gate = anyio.Event()
    mw = AdmissionControl(lambda s, r, se: _blocking_app(gate, s, r, se), limit=1, timeout=0.2)
    transport = httpx.ASGITransport(app=mw)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        first = asyncio.create_task(c.get(path))
        await asyncio.sleep(0.05)
        assert mw.in_flight == 1
        shed = await c.get(path)
        probe_task = asyncio.create_task(c.get("/healthz"))  # probes skip the queue...
        await asyncio.sleep(0.05)
        gate.set()
        ok, probe = await first, await probe_task
    assert ok.status_code == 200 and probe.status_code == 200
    assert shed.status_code == 503
    assert shed.headers["content-type"] == "application/problem+json"
    assert shed.headers["retry-after"] == "2"
    assert shed.json()["type"] == "urn:civicsocial:problem:unavailable"
    assert mw.in_flight == 0


async def test_admitted_requests_never_exceed_the_limit():
    gate = anyio.Event()
    mw = AdmissionControl(lambda s, r, se: _blocking_app(gate, s, r, se), limit=3, timeout=5)
    transport = httpx.ASGITransport(app=mw)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        tasks = [asyncio.create_task(c.get(f"/x{i}")) for i in range(10)]
        await asyncio.sleep(0.1)
        assert mw.in_flight == 3  # seven wait in the event loop, holding nothing
        gate.set()
        results = await asyncio.gather(*tasks)
    assert [r.status_code for r in results] == [200] * 10


async def test_a_request_behind_a_queue_that_cannot_drain_in_time_is_refused_at_once():
    holder = [anyio.Event()]
    mw = AdmissionControl(lambda s, r, se: _blocking_app(holder[0], s, r, se), limit=1, timeout=1.0)
    transport = httpx.ASGITransport(app=mw)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        # a quick request first, so the moving average is measured rather than assumed
        holder[0].set()
        assert (await c.get("/warm")).status_code == 200
        assert 0 < mw.mean_seconds < 0.5
        mw.mean_seconds = 2.0  # as if requests had been taking 2 s each
        holder[0] = anyio.Event()
        first = asyncio.create_task(c.get("/slow"))
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        shed = await c.get("/next")  # 1 slot, 2 s a request: >1 s ahead of it
        waited = time.monotonic() - t0
        holder[0].set()
        assert (await first).status_code == 200
    assert shed.status_code == 503 and shed.headers["retry-after"] == "2"
    assert waited < 0.5, f"refused after {waited:.2f}s, not at once"
