"""Issue 21 items 5 and 6 at the kernel: forwarded headers from an untrusted peer change
nothing, header size and count are bounded, no Server banner, HSTS on https, and staff
answers are never cached."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from services.cli import UVICORN_FLAGS
from services.registry import SERVICES
from shared.settings import ServiceSettings
from shared.web import create_service_app
from tests.support.live import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served():
    """tests/kernel/echo_app.py under uvicorn, started exactly as `civicsocial dev` starts a service."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tests.kernel.echo_app:app", "--host", "127.0.0.1",
                             "--port", str(port), *UVICORN_FLAGS], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url + "/healthz", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_spoofed_forwarded_headers_from_loopback_change_nothing(served):
    r = httpx.get(served + "/echo", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert r.json() == {"client": "127.0.0.1", "scheme": "http"}


def test_no_server_banner(served):
    assert "server" not in httpx.get(served + "/healthz").headers


def test_oversized_headers_are_refused_with_431(served):
    r = httpx.get(served + "/echo", headers={"X-Big": "a" * 20_000})
    assert r.status_code == 431 and r.headers["content-type"] == "application/problem+json"
    many = {f"X-H{i}": "1" for i in range(150)}
    assert httpx.get(served + "/echo", headers=many).status_code == 431
    assert httpx.get(served + "/echo", headers={"X-Fine": "a" * 1000}).status_code == 200


def _app(public_base_url: str):
    router = APIRouter()

    @router.get("/staff")
    def staff() -> dict[str, str]:
        return {"employee": "emp-1"}

    settings = ServiceSettings(database_url="sqlite://", auto_migrate=False, public_base_url=public_base_url)
    return create_service_app(settings=settings, title="t", description="t", version="0",
                              migrations_dir=SERVICES["case_api"].migrations_dir, routers=[router])


async def test_hsts_only_when_the_public_url_is_https(client):
    secure = await client(_app("https://feedback.cabq.gov")).get("/healthz")
    assert secure.headers["strict-transport-security"].startswith("max-age=31536000")
    plain = await client(_app("http://127.0.0.1:8002")).get("/healthz")
    assert "strict-transport-security" not in plain.headers


async def test_authenticated_answers_are_not_stored_by_any_cache(client):
    c = client(_app("http://127.0.0.1:8003"))
    staff = await c.get("/staff", headers={"Authorization": "Bearer x"})
    assert staff.headers["cache-control"] == "no-store"
    assert "cache-control" not in (await c.get("/staff")).headers
