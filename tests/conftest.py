"""Fixtures every test folder uses.

Pick the database with ``--db sqlite|postgresql`` (or ``CIVICSOCIAL_TEST_DB``). Each run
creates its own databases (PostgreSQL: ``cs_test_<service>_<pid>_<rand>``), migrates them
with Alembic and drops them at the end; every test starts with empty tables.

    make_app("case_api", clock=FrozenClock(...), policy_api_url=live.url)  -> FastAPI
    client(app)                 -> httpx.AsyncClient over ASGITransport
    token("investigator", department="Police", subject="emp-1") -> bearer header dict
    live(app)                   -> LiveServer on a free loopback port (started)
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.registry import SERVICES
from shared.auth import issue_dev_token
from shared.settings import AuthSettings
from tests.support.databases import TestDatabase
from tests.support.live import LiveServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("CIVICSOCIAL_TEST_DB", "sqlite"),
        help="database backend for the whole run",
    )


@pytest.fixture(scope="session")
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def dev_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "dev-signing-key.pem"


@pytest.fixture(scope="session")
def auth_settings(dev_key: Path) -> AuthSettings:
    return AuthSettings(dev_key_file=dev_key)


# The folders holding the run's SQLite test databases, and the files in them that Python code of
# this process opened. Closing any descriptor of a SQLite file releases every POSIX lock this
# process holds on it, SQLite's own included (tests/support/rawfile.py): a drill's subprocess then
# deleted the -wal/-shm files this process still used, and later folders' tests failed with
# "database disk image is malformed". SQLite opens its files in C, which raises no "open" event.
_SQLITE_DIRS: set[str] = set()
_SQLITE_OPENED: list[str] = []


def _audit_sqlite_opens(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _SQLITE_DIRS or isinstance(args[0], int):
        return
    try:
        path = os.path.abspath(os.fsdecode(args[0]))
    except (TypeError, ValueError):
        return
    if os.path.dirname(path) in _SQLITE_DIRS:
        _SQLITE_OPENED.append(path)


sys.addaudithook(_audit_sqlite_opens)


@pytest.fixture(autouse=True)
def _no_python_open_of_sqlite_test_databases() -> Iterator[None]:
    """Fails a test that opened a test database file with Python's open() (read it with
    tests.support.rawfile.read_raw, in a child process)."""
    _SQLITE_OPENED.clear()
    yield
    if _SQLITE_OPENED:
        opened = sorted(set(_SQLITE_OPENED))
        _SQLITE_OPENED.clear()
        pytest.fail(f"opened SQLite test database files in the pytest process: {opened}; closing them drops "
                    "this process's SQLite locks on them (use tests.support.rawfile.read_raw)")


@pytest.fixture(scope="session")
def _databases(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestDatabase]]:
    tmp = tmp_path_factory.mktemp("db")
    guarded = {os.path.abspath(tmp), os.path.realpath(tmp)} if db_backend == "sqlite" else set()
    dbs: dict[str, TestDatabase] = {}
    try:
        for name, spec in SERVICES.items():
            dbs[name] = TestDatabase(db_backend, name, spec.migrations_dir, spec.metadata(), tmp)
        _SQLITE_DIRS.update(guarded)
        yield dbs
    finally:
        _SQLITE_DIRS.difference_update(guarded)
        for db in dbs.values():
            db.drop()


@pytest.fixture
def databases(_databases: dict[str, TestDatabase]) -> dict[str, TestDatabase]:
    """The per-service test databases, emptied before the test."""
    for db in _databases.values():
        db.reset()
    return _databases


@pytest.fixture
def make_app(databases: dict[str, TestDatabase], dev_key: Path) -> Iterator[Callable[..., FastAPI]]:
    """Build a service app on its test database. Keyword arguments override settings; ``clock``
    is passed to the factory. The apps' connection pools are closed after the test (an app whose
    lifespan never ran would otherwise keep its connections until garbage collection)."""
    apps: list[FastAPI] = []

    def factory(service: str, *, clock: Any = None, **overrides: Any) -> FastAPI:
        spec = SERVICES[service]
        values: dict[str, Any] = {
            "mode": "dev",
            "database_url": databases[service].url,
            "auto_migrate": False,
            "log_json": True,
            "auth": {"dev_key_file": str(dev_key)},
            # gc.freeze() at start would keep every app this process builds (and drops) for good
            "gc_freeze_after_start": False,
        }
        if service == "feedback_api":
            # A live app fills its receipt pool in the background (argon2id, 19 MiB each): bounded
            # here so a short test does not spend the machine's idle CPU on receipts it never uses.
            values["receipt_pool_size"] = 20
        values.update(overrides)
        kwargs = {"clock": clock} if clock is not None else {}
        app = spec.create_app(spec.settings(**values), **kwargs)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        db = getattr(app.state, "db", None)
        if db is not None:
            db.dispose()


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[[FastAPI], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def factory(app: FastAPI) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(c)
        return c

    yield factory
    for c in clients:
        await c.aclose()


@pytest.fixture
def client(client_factory: Callable[[FastAPI], httpx.AsyncClient]) -> Callable[[FastAPI], httpx.AsyncClient]:
    return client_factory


@pytest.fixture
def token(auth_settings: AuthSettings) -> Callable[..., dict[str, str]]:
    """``token("hr", department="Police", subject="emp-7")`` -> ``{"Authorization": "Bearer ..."}``.
    Several roles: ``token("hr", "auditor")``."""

    def factory(*roles: str, department: str | None = None, subject: str = "staff-1",
                ttl_seconds: int = 3600) -> dict[str, str]:
        jwt = issue_dev_token(auth_settings, "dev", subject=subject, roles=list(roles),
                              department=department, ttl_seconds=ttl_seconds)
        return {"Authorization": f"Bearer {jwt}"}

    return factory


@pytest.fixture
def live() -> Iterator[Callable[[FastAPI], LiveServer]]:
    servers: list[LiveServer] = []

    def factory(app: FastAPI, port: int | None = None) -> LiveServer:
        server = LiveServer(app, port).start()
        servers.append(server)
        return server

    yield factory
    for s in servers:
        s.stop()
