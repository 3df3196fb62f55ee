"""What the drills drive: services as real ``uvicorn`` subprocesses, and private PostgreSQL and
Redis servers on free loopback ports that a drill may stop and start at will (never the shared
ones other tests use)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.registry import SERVICES
from shared.db import make_engine
from tests.support.polling import wait_for

REPO = Path(__file__).resolve().parents[2]

# Drill-only speed settings. They shorten waits; they do not change what is being proven.
FAST_FEEDBACK = {
    # argon2id at the production cost makes 1,000 submissions take minutes on 2 cores;
    # the drills prove durability, not hashing cost (the bench measures the real cost).
    "FEEDBACK_API_RECEIPT_HASH_MEMORY_KIB": "8",
    "FEEDBACK_API_RECEIPT_HASH_TIME_COST": "1",
    # the relay must not back off for minutes while case_api is down
    "FEEDBACK_API_OUTBOX_BASE_BACKOFF_SECONDS": "0.1",
    "FEEDBACK_API_OUTBOX_MAX_BACKOFF_SECONDS": "1",
    "FEEDBACK_API_OUTBOX_POLL_SECONDS": "0.2",
    # after the SIGKILL drill, claimed-but-unfinished messages wait out the lease (60 s default)
    "FEEDBACK_API_OUTBOX_LEASE_SECONDS": "10",
}
NO_LIMITS = {
    f"FEEDBACK_API_RATE_{name}": "10000000/minute"
    for name in ("SUBMIT_PER_CLIENT", "SUBMIT_OVERALL", "RECEIPT_PER_CLIENT", "RECEIPT_FAILURES_PER_CLIENT",
                 "RECEIPT_FAILURES_OVERALL", "OPEN311_PER_CLIENT", "OPEN311_OVERALL")
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- service processes ----------------------------------------------------------------------


@dataclass
class ServiceProc:
    service: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready: str = "/healthz", timeout: float = 30.0) -> ServiceProc:
        spec = SERVICES[self.service]
        cmd = [sys.executable, "-m", "uvicorn", f"{spec.package}.asgi:app", "--host", "127.0.0.1",
               "--port", str(self.port), "--no-access-log", "--timeout-graceful-shutdown", "10"]
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.service} exited at start:\n{self.log()[-3000:]}")
            try:
                if httpx.get(self.url + ready, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.service} not answering {ready} in {timeout}s:\n{self.log()[-3000:]}")

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(15) is None:
                self.proc.kill()
                self.proc.wait(5)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def service_env(service: str, database_url: str, key_file: Path, secrets_dir: Path, urls: dict[str, str],
                extra: dict[str, str] | None = None) -> dict[str, str]:
    prefixes = tuple(s.env_prefix for s in SERVICES.values())
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    p = SERVICES[service].env_prefix
    env.update({
        f"{p}MODE": "dev",
        f"{p}DATABASE_URL": database_url,
        f"{p}AUTO_MIGRATE": "true",
        f"{p}AUTH__DEV_KEY_FILE": str(key_file),
        f"{p}LOG_JSON": "true",
    })
    # only feedback_api keeps generated secrets; a setting a service does not have stops it at start
    if "secrets_dir" in SERVICES[service].module("main").SETTINGS_CLASS.model_fields:
        env[f"{p}SECRETS_DIR"] = str(secrets_dir)
    for name, url in urls.items():
        env[f"{p}{name.upper()}_URL"] = url
    env.update(extra or {})
    return env


def scalar(database_url: str, sql: str, **params: Any) -> Any:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


# --- load -----------------------------------------------------------------------------------


def report_json(n: int | str, tag: str = "drill") -> dict[str, Any]:
    return {
        "account_text": "City of Albuquerque (drill)",
        "platform": "facebook",
        "links": [f"https://www.facebook.com/cabq/posts/{tag}{n}"],
        "categories": ["personal_attack"],
        "description": f"Drill report {tag}-{n}: the official account insulted a resident.",
    }


@dataclass
class Outcome:
    n: int
    status: int | None
    reference: str | None = None
    error: str | None = None


async def submit_reports(url: str, ns: Iterable[int], *, concurrency: int = 16, tag: str = "drill",
                         request_timeout: float = 30.0) -> list[Outcome]:
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=request_timeout, limits=limits) as client:
        async def one(n: int) -> Outcome:
            async with sem:
                try:
                    r = await client.post("/v1/reports", json=report_json(n, tag))
                except httpx.HTTPError as exc:
                    return Outcome(n, None, error=type(exc).__name__)
                ref = None
                if r.status_code in (200, 201):
                    ref = r.json().get("reference")
                return Outcome(n, r.status_code, ref)

        return list(await asyncio.gather(*(one(n) for n in ns)))


# --- private servers --------------------------------------------------------------------------


def unavailable(reason: str) -> None:
    """A tool the drill needs is not installed: a skip on a developer's machine, a failure in CI
    (``.ci/run`` sets ``CI=true`` and installs PostgreSQL and Redis, so there it cannot be missing)."""
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(f"{reason} (CI: the drills must run)")
    pytest.skip(reason)


def _pg_bindir() -> Path | None:
    cfg = shutil.which("pg_config")
    if cfg:
        out = subprocess.run([cfg, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temp dir on a free port (``initdb``; as the
    ``postgres`` user when we are root, since PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="drill-pg-"))
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            unavailable("redis-server is not installed")
        self.exe = exe
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        assert wait_for(lambda: _redis_ok(client), 10, 0.05), "private redis did not start"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


def _redis_ok(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False
