"""Server processes for the bench: uvicorn with the same settings for every app, pinned to
the server core; per-run databases (SQLite files in a temp dir, or fresh PostgreSQL
databases named ``bench_<service>_<pid>`` that are dropped afterwards)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from services.registry import SERVICES

SERVER_CPU = "0"
REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("CIVICSOCIAL_BENCH_PG_URL", "postgresql://127.0.0.1:5432/postgres")

# Throughput rows measure the work behind a request, not the rate limiter refusing it: the
# per-client limits (everything comes from 127.0.0.1) are raised unless BENCH_KEEP_RATE_LIMITS=1.
RAISED_LIMITS = {
    f"FEEDBACK_API_RATE_{name}": "10000000/minute"
    for name in ("SUBMIT_PER_CLIENT", "SUBMIT_OVERALL", "RECEIPT_PER_CLIENT", "RECEIPT_FAILURES_PER_CLIENT",
                 "RECEIPT_FAILURES_OVERALL", "OPEN311_PER_CLIENT", "OPEN311_OVERALL")
}

# Overload bounds as deployed (services/cli.py UVICORN_LIMITS, compose.yaml): past 200 concurrent
# connections and tasks uvicorn answers 503 at once; the listen backlog holds a burst of connects.
PRODUCTION_LIMITS = ["--limit-concurrency", "200", "--backlog", "2048"]

# The one server configuration used for every app, baseline included.
UVICORN_ARGS = ["--host", "127.0.0.1", "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                "--log-level", "warning", "--timeout-graceful-shutdown", "5", *PRODUCTION_LIMITS]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


@dataclass
class Server:
    name: str
    target: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    ready_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> Server:
        """Start and wait for ``/readyz`` to answer 200; ``ready_at`` is when it first did."""
        cmd = ["taskset", "-c", SERVER_CPU, sys.executable, "-m", "uvicorn", self.target, "--port", str(self.port),
               *UVICORN_ARGS]
        out = self.log.open("ab")
        # taskset execs the interpreter, so the pid is the uvicorn process itself.
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    self.ready_at = time.monotonic()
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready in {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@dataclass
class Stack:
    """The three services on one database backend, wired to each other."""

    backend: str
    workdir: Path
    servers: dict[str, Server] = field(default_factory=dict)
    db_urls: dict[str, str] = field(default_factory=dict)
    _pg_names: list[str] = field(default_factory=list)

    @property
    def key_file(self) -> Path:
        return self.workdir / "dev-signing-key.pem"

    def create_databases(self) -> None:
        for name in SERVICES:
            if self.backend == "sqlite":
                self.db_urls[name] = f"sqlite:///{self.workdir / f'{name}.db'}"
            else:
                db = f"bench_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{db}"')
                self._pg_names.append(db)
                self.db_urls[name] = make_url(PG_ADMIN_URL).set(database=db).render_as_string(hide_password=False)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(s.env_prefix for s in SERVICES.values()))}
        for name, spec in SERVICES.items():
            p = spec.env_prefix
            env.update({
                f"{p}MODE": "dev",
                f"{p}DATABASE_URL": self.db_urls[name],
                f"{p}AUTO_MIGRATE": "true",
                f"{p}AUTH__DEV_KEY_FILE": str(self.key_file),
                f"{p}LOG_JSON": "true",
                f"{p}LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
            })
        env["FEEDBACK_API_SECRETS_DIR"] = str(self.workdir)
        if os.environ.get("BENCH_KEEP_RATE_LIMITS") != "1":
            env.update(RAISED_LIMITS)
        env.update(extra or {})
        return env

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        self.create_databases()
        ports = {name: free_port() for name in SERVICES}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        wiring = {}
        for spec in SERVICES.values():
            p = spec.env_prefix
            wiring.update({f"{p}POLICY_API_URL": urls["policy_api"], f"{p}FEEDBACK_API_URL": urls["feedback_api"],
                           f"{p}CASE_API_URL": urls["case_api"], f"{p}PUBLIC_BASE_URL": urls[spec.name]})
        env = self.env({**wiring, **(extra_env or {})})
        for name, spec in SERVICES.items():
            self.servers[name] = Server(name, f"{spec.package}.asgi:app", ports[name], env,
                                        self.workdir / f"{name}.log")
        for s in self.servers.values():
            s.start()

    def stop(self) -> None:
        for s in self.servers.values():
            s.stop()
        for db in self._pg_names:
            try:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            except psycopg.Error as exc:
                print(f"warning: could not drop {db}: {exc}", file=sys.stderr)
        self._pg_names.clear()


def hello_server(workdir: Path, target: str = "bench.hello:app") -> Server:
    env = dict(os.environ)
    name = target.rsplit(":", 1)[1]
    return Server(name, target, free_port(), env, workdir / f"{name}.log")
