"""The app skeleton every service shares: problem+json, body limits, unit of work, health."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import func, select, text

from services.registry import SERVICES
from shared.errors import Conflict
from shared.schemas import InputModel
from shared.settings import ServiceSettings
from shared.web import DatabaseDep, create_service_app
from tests.kernel.conftest import Thing as ThingRow


class Thing(InputModel):
    name: str = Field(max_length=10)
    count: int = Field(ge=0, le=5)


def _router() -> APIRouter:
    r = APIRouter()

    @r.post("/things")
    def create(body: Thing, db: DatabaseDep) -> dict[str, str]:
        with db.write() as s:
            s.add(ThingRow(name=body.name, count=body.count))  # flushed at commit
        return {"ok": body.name}

    @r.get("/conflict")
    def conflict() -> None:
        raise Conflict("Already published.", current_state="published")

    @r.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @r.get("/lookup")
    def lookup(topic: str, db: DatabaseDep) -> dict[str, int]:
        with db.read() as s:
            rows = s.execute(select(ThingRow.id).where(ThingRow.name == topic)).all()
        return {"found": len(rows)}

    @r.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    return r


@pytest.fixture
def kernel_app(scratch_url, dev_key):
    settings = ServiceSettings(
        database_url=scratch_url, auth={"dev_key_file": str(dev_key)}, max_body_bytes=2048,
        auto_migrate=False,
    )
    return create_service_app(
        settings=settings, title="t", description="t", version="0",
        migrations_dir=SERVICES["feedback_api"].migrations_dir, routers=[_router()],
    )


def _count(databases) -> int:
    with databases["feedback_api"].engine.connect() as c:
        return c.execute(select(func.count()).select_from(ThingRow)).scalar_one()


async def test_validation_problem_lists_fields_without_echoing_input(kernel_app, client):
    r = await client(kernel_app).post("/things", json={"name": "waytoolongname", "count": 9, "extra": 1})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    locs = sorted(tuple(e["loc"]) for e in body["errors"])
    assert locs == [("body", "count"), ("body", "extra"), ("body", "name")]
    assert "waytoolongname" not in r.text
    assert body["instance"] == "/things" and body["request_id"] == r.headers["x-request-id"]


async def test_domain_error_and_http_errors_are_problems(kernel_app, client):
    c = client(kernel_app)
    r = await c.get("/conflict")
    assert r.status_code == 409
    assert r.json()["type"] == "urn:civicsocial:problem:conflict"
    assert r.json()["current_state"] == "published"
    assert (await c.get("/nowhere")).json()["status"] == 404
    r = await c.delete("/things")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"


async def test_unhandled_error_hides_internals(kernel_app):
    transport = httpx.ASGITransport(app=kernel_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/boom")
    assert r.status_code == 500
    assert "passwd" not in r.text and "Traceback" not in r.text
    assert r.json()["title"] == "Internal Server Error"


async def test_body_limit_declared_and_streamed(kernel_app, client):
    c = client(kernel_app)
    r = await c.post("/things", content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == 413

    async def chunks():
        for _ in range(10):
            yield b" " * 1000

    r = await c.post("/things", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


async def test_request_id_is_kept_when_well_formed(kernel_app, client):
    c = client(kernel_app)
    assert (await c.get("/healthz", headers={"X-Request-ID": "abc-123"})).headers["x-request-id"] == "abc-123"
    assert (await c.get("/healthz", headers={"X-Request-ID": "bad id\n"})).headers["x-request-id"] != "bad id"


async def test_write_commits_before_response(kernel_app, client, databases):
    r = await client(kernel_app).post("/things", json={"name": "a", "count": 1})
    assert r.status_code == 200
    assert _count(databases) == 1  # visible to another connection as soon as the 200 is out


async def test_failed_commit_is_not_a_success(kernel_app, client, databases):
    """A unique violation at commit must surface as an error, never as a 2xx."""
    c = client(kernel_app)
    assert (await c.post("/things", json={"name": "dup", "count": 1})).status_code == 200
    transport = httpx.ASGITransport(app=kernel_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c2:
        r = await c2.post("/things", json={"name": "dup", "count": 2})
    assert r.status_code >= 500
    assert _count(databases) == 1


async def test_readyz_ok_on_migrated_database(kernel_app, client):
    r = await client(kernel_app).get("/readyz")
    assert r.status_code == 200 and r.json()["migrations"] == "current"


async def test_readyz_fails_on_unmigrated_database(tmp_path: Path, client, dev_key):
    settings = ServiceSettings(database_url=f"sqlite:///{tmp_path}/empty.db", auth={"dev_key_file": str(dev_key)},
                               auto_migrate=False)
    app = create_service_app(settings=settings, title="t", description="t", version="0",
                             migrations_dir=SERVICES["case_api"].migrations_dir, routers=[])
    r = await client(app).get("/readyz")
    assert r.status_code == 503
    assert r.headers["retry-after"] and "migrate" in r.json()["detail"]


async def test_database_unreachable_gives_503_with_retry_after(tmp_path: Path, client, dev_key):
    (tmp_path / "adir").mkdir()
    settings = ServiceSettings(database_url=f"sqlite:///{tmp_path}/adir", auth={"dev_key_file": str(dev_key)},
                               auto_migrate=False)
    app = create_service_app(settings=settings, title="t", description="t", version="0",
                             migrations_dir=SERVICES["case_api"].migrations_dir, routers=[_router()])
    c = client(app)
    r = await c.post("/things", json={"name": "a", "count": 1})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert (await c.get("/readyz")).status_code == 503


def test_sqlite_pragmas(databases, db_backend):
    if db_backend != "sqlite":
        pytest.skip("SQLite only")
    with databases["feedback_api"].engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert c.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


async def test_security_headers_and_frame_ancestors_opt_out(kernel_app, client):
    from fastapi.responses import HTMLResponse

    @kernel_app.get("/framed")
    def framed() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": "frame-ancestors https://www.cabq.gov"})

    c = client(kernel_app)
    plain = await c.get("/healthz")
    assert plain.headers["x-frame-options"] == "DENY"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["referrer-policy"] == "no-referrer"
    r = await c.get("/framed")
    assert "x-frame-options" not in r.headers
    assert r.headers["content-security-policy"] == "frame-ancestors https://www.cabq.gov"


async def test_value_the_database_refuses_is_422_not_500(kernel_app, client, db_backend):
    """PostgreSQL text cannot hold NUL; the kernel answers 422 problem+json (SQLite stores it)."""
    r = await client(kernel_app).get("/lookup", params={"topic": "a\x00b"})
    if db_backend == "postgresql":
        assert r.status_code == 422
        assert r.json()["type"] == "urn:civicsocial:problem:unstorable-value"
    else:
        assert r.status_code == 200 and r.json() == {"found": 0}


async def test_client_disconnect_is_not_logged_as_a_server_error(kernel_app, capsys):
    """A client that hangs up mid-body: no 'unhandled_error' in the logs, nothing written."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b'{"name": "a"', "more_body": True}
        return {"type": "http.disconnect"}

    messages = []

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "method": "POST", "path": "/raw", "raw_path": b"/raw", "query_string": b"",
             "headers": [(b"content-type", b"application/json")], "http_version": "1.1", "scheme": "http",
             "server": ("t", 80), "client": ("127.0.0.1", 1), "root_path": "", "app": kernel_app}
    await kernel_app(scope, receive, send)
    out = capsys.readouterr().out
    assert "unhandled_error" not in out and "client_disconnected" in out


async def test_a_read_unit_of_work_does_not_wait_for_the_sqlite_write_lock(scratch_url, dev_key, db_backend):
    """A POST lookup (receipts) whose use-case reads under ``db.read()``: while another
    connection holds SQLite's write lock it still answers at once."""
    r = APIRouter()

    @r.post("/lookup")
    def lookup(db: DatabaseDep) -> dict[str, int]:
        with db.read() as s:
            return {"n": s.execute(select(func.count()).select_from(ThingRow)).scalar_one()}

    settings = ServiceSettings(database_url=scratch_url, auth={"dev_key_file": str(dev_key)}, auto_migrate=False)
    app = create_service_app(settings=settings, title="t", description="t", version="0",
                             migrations_dir=SERVICES["feedback_api"].migrations_dir, routers=[r])
    holder = app.state.db.writer.connect()
    holder.begin()
    holder.execute(text("INSERT INTO kernel_thing (name, count) VALUES ('held', 1)"))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=5) as c:
            resp = await c.post("/lookup")
        assert resp.status_code == 200 and resp.json() == {"n": 0}  # the held insert is not visible
    finally:
        holder.rollback()
        holder.close()
        app.state.db.dispose()
