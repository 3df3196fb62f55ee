"""The measurement behind docs/architecture.md's concurrency decision: the same endpoint
written both ways, on both databases, against a bare Starlette hello in the same run.

    .venv/bin/python -m bench.concurrency_model [--seconds 10] [--connections 32]

* ``sync``:  ``def`` endpoint, ``shared.db.Database`` (psycopg 3 / sqlite3), unit of work opened
  and closed inside the endpoint's thread (what the services do).
* ``async``: ``async def`` endpoint, SQLAlchemy ``AsyncSession`` (asyncpg / aiosqlite).

Each app does a primary-key read (``GET /read/{id}``) and a one-row insert (``POST /write``)
and answers with a Pydantic model. Server pinned to core 0, wrk to core 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PORT = 8765
LUA_POST = 'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n'
LUA_READ = ('math.randomseed(os.time())\nrequest = function()\n'
            '  return wrk.format("GET", "/read/" .. math.random(1, 1000))\nend\n')

APP = r'''
import os
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text

URL = os.environ["CM_URL"]
MODE = os.environ["CM_MODE"]


class Row(BaseModel):
    id: int
    name: str


app = FastAPI()

if MODE == "sync":
    from shared.db import Database
    db = Database(URL, pool_size=20)

    @app.get("/read/{rid}")
    def read(rid: int) -> Row:
        with db.read() as s:
            r = s.execute(text("SELECT id, name FROM cm WHERE id = :i"), {"i": rid}).one()
        return Row(id=r[0], name=r[1])

    @app.post("/write")
    def write() -> Row:
        with db.write() as s:
            s.execute(text("INSERT INTO cm_w (name) VALUES ('x')"))
        return Row(id=0, name="x")
else:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from sqlalchemy.pool import AsyncAdaptedQueuePool
    if URL.startswith("sqlite"):
        aurl = URL.replace("sqlite://", "sqlite+aiosqlite://")
        reader = create_async_engine(aurl, pool_size=20, max_overflow=0)
        writer = create_async_engine(aurl, pool_size=1, max_overflow=0, pool_timeout=10)
    else:
        aurl = URL.replace("postgresql://", "postgresql+asyncpg://")
        reader = writer = create_async_engine(aurl, pool_size=20, max_overflow=0)

    @app.get("/read/{rid}")
    async def read(rid: int) -> Row:
        async with AsyncSession(reader) as s:
            r = (await s.execute(text("SELECT id, name FROM cm WHERE id = :i"), {"i": rid})).one()
        return Row(id=r[0], name=r[1])

    @app.post("/write")
    async def write() -> Row:
        async with AsyncSession(writer) as s, s.begin():
            await s.execute(text("INSERT INTO cm_w (name) VALUES ('x')"))
        return Row(id=0, name="x")
'''


def _prepare(url: str) -> None:
    from sqlalchemy import text

    from shared.db import Database
    db = Database(url)
    with db.write() as s:
        s.execute(text("DROP TABLE IF EXISTS cm"))
        s.execute(text("DROP TABLE IF EXISTS cm_w"))
        s.execute(text("CREATE TABLE cm (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)"))
        auto = "INTEGER PRIMARY KEY" if url.startswith("sqlite") else "SERIAL PRIMARY KEY"
        s.execute(text(f"CREATE TABLE cm_w (id {auto}, name VARCHAR(40) NOT NULL)"))
        for i in range(1, 1001):
            s.execute(text("INSERT INTO cm (id, name) VALUES (:i, :n)"), {"i": i, "n": f"row {random.random()}"})
    db.dispose()


def _serve(target: str, env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", target, "--port", str(PORT), "--no-access-log",
         "--log-level", "warning", "--limit-concurrency", "200", "--backlog", "2048"],
        env=env, cwd=workdir,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/docs", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{target} did not start")


def _wrk(path: str, lua: str, seconds: int, connections: int) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua + 'done = function(s, l, r)\n  io.write(string.format("JSON %d %d %d\\n", '
                      's.requests, l:percentile(99), s.errors.status + s.errors.connect + s.errors.timeout))\nend\n')
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", f.name,
         f"http://127.0.0.1:{PORT}{path}"], capture_output=True, text=True, check=True,
    ).stdout
    os.unlink(f.name)
    _, requests, p99_us, errors = next(line for line in out.splitlines() if line.startswith("JSON")).split()
    if int(errors):
        print(f"  ({errors} errors)", file=sys.stderr)
    return int(requests) / seconds, int(p99_us) / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--pg", default="postgresql://127.0.0.1:5432/postgres")
    args = ap.parse_args()
    repo = Path(__file__).resolve().parent.parent
    tmp = Path(tempfile.mkdtemp())
    (tmp / "cm_app.py").write_text(APP)
    env = {**os.environ, "PYTHONPATH": f"{tmp}:{repo}"}
    results: dict[str, dict[str, float]] = {}
    hello = _serve("bench.hello:app", env, repo)
    try:
        rps, p99 = _wrk("/", "", args.seconds, args.connections)
        results["hello"] = {"rps": rps, "p99_ms": p99}
    finally:
        hello.terminate()
        hello.wait()
    for dbname, url in (("sqlite", f"sqlite:///{tmp / 'cm.db'}"), ("postgresql", args.pg)):
        _prepare(url)
        for mode in ("sync", "async"):
            proc = _serve("cm_app:app", {**env, "CM_URL": url, "CM_MODE": mode}, tmp)
            try:
                for kind, path, lua in (("read", "/read/1", LUA_READ), ("write", "/write", LUA_POST)):
                    rps, p99 = _wrk(path, lua, args.seconds, args.connections)
                    results[f"{dbname} {mode} {kind}"] = {"rps": rps, "p99_ms": p99}
            finally:
                proc.terminate()
                proc.wait()
    base = results["hello"]["rps"]
    print(f"{'row':28} {'req/s':>9} {'x hello':>8} {'p99 ms':>8}")
    for name, r in results.items():
        print(f"{name:28} {r['rps']:9.0f} {r['rps'] / base:8.3f} {r['p99_ms']:8.1f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
