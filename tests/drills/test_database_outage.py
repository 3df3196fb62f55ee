"""The database briefly unavailable: a private PostgreSQL cluster (never the shared one) is
stopped under a running service and started again. While it is down the service answers
503 problem+json with Retry-After and /readyz fails; afterwards it recovers by itself, without
a restart."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.drills.support import FAST_FEEDBACK, NO_LIMITS, PrivatePostgres, report_json, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

# One endpoint per service that must touch the database to answer.
PROBES = {
    "policy_api": ("GET", "/v1/policies", None),
    "case_api": ("GET", "/v1/public/metrics", None),
    "feedback_api": ("POST", "/v1/reports", report_json("outage")),
}


@pytest.fixture
def pg():
    server = PrivatePostgres()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


def _call(url: str, method: str, path: str, body: object) -> httpx.Response:
    if method == "GET":
        return httpx.get(url + path, timeout=15)
    return httpx.post(url + path, json=body, timeout=15)


@pytest.mark.parametrize("service", list(PROBES))
def test_database_outage_answers_503_and_recovers(service, procs, pg):
    method, path, body = PROBES[service]
    db_url = pg.create_database(f"drill_{service}_{uuid.uuid4().hex[:6]}")
    extra = {**FAST_FEEDBACK, **NO_LIMITS} if service == "feedback_api" else {}
    svc = procs.make(service, database_url=db_url, env=extra).start(ready="/readyz")
    ok = _call(svc.url, method, path, body)
    assert ok.status_code < 300, ok.text

    pg.stop("fast")
    try:
        down = _call(svc.url, method, path, body)
        assert down.status_code == 503, (down.status_code, down.text[:300])
        assert down.headers["content-type"].startswith("application/problem+json")
        assert int(down.headers["retry-after"]) > 0
        problem = down.json()
        assert problem["status"] == 503 and problem["title"]
        assert "Traceback" not in down.text and "psycopg" not in down.text  # nothing internal leaks
        ready = httpx.get(svc.url + "/readyz", timeout=15)
        assert ready.status_code == 503
        assert ready.headers["content-type"].startswith("application/problem+json")
        assert httpx.get(svc.url + "/healthz", timeout=5).status_code == 200  # alive, only not ready
    finally:
        pg.start()

    t0 = time.monotonic()
    assert wait_for(lambda: httpx.get(svc.url + "/readyz", timeout=5).status_code == 200, 30), \
        "readyz did not recover"
    assert wait_for(lambda: _call(svc.url, method, path, body).status_code < 300, 30), \
        f"{method} {path} did not recover without a restart"
    assert time.monotonic() - t0 < 30
    assert svc.proc is not None and svc.proc.poll() is None  # same process throughout
    # background loops may log the outage with a stack; no request may end in an unhandled error
    assert '"unhandled_error"' not in svc.log(), svc.log()[-2000:]
