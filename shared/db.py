"""Engines and sessions.

SQLite (the default, one file per service): WAL, ``busy_timeout``, foreign keys on,
``synchronous`` from settings, and ``BEGIN IMMEDIATE`` for write transactions so
concurrent writers queue on the busy timeout instead of failing with SQLITE_BUSY
when a deferred transaction tries to upgrade. PostgreSQL: psycopg 3.

Sessions never commit on their own: the request's unit of work (``shared.app``)
commits once, or rolls back; repositories only ``flush``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 10_000
_HOLDS_WRITE_LOCK = "civicsocial_holds_write_lock"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if not database or database == ":memory:":
            # One shared in-memory database (OpenAPI export, throwaway checks).
            engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
        else:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args=connect_args, pool_size=pool_size, max_overflow=0,
                                   pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        _configure_sqlite(engine, sqlite_synchronous)
        return engine
    # No overflow: an overflow connection is closed again as soon as the pool is full, so under
    # steady load every request past pool_size opened a new connection (py-spy: connect and its
    # pragmas were ~6% of case_api's busy time on SQLite). Requests past the pool wait for one
    # (pool_timeout), bounded by admission control in front.
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"connect_timeout": 5},
    )


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    if synchronous not in {"NORMAL", "FULL"}:
        raise ValueError("synchronous must be NORMAL or FULL")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    # Writers of this engine queue on an in-process lock before BEGIN IMMEDIATE. SQLite's own busy
    # handler polls with sleeps that grow to 100 ms, so under contention a writer that has waited
    # long keeps losing to newcomers: the bench (report POST, hash at minimum cost, 32
    # connections, ~230 writes/s) saw p99 6.2 s against a p50 of 69 ms, and the outbox relay
    # starving past the busy timeout. A lock hands over the moment it is released. Other
    # processes on the same file still meet SQLite's busy handler, as before.
    write_lock = threading.Lock()

    def _release(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS_WRITE_LOCK, False):
            write_lock.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            if not write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
            conn.info[_HOLDS_WRITE_LOCK] = True
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(conn.info)
            raise

    # released as the transaction ends (just before COMMIT/ROLLBACK: a next writer then meets
    # SQLite's busy handler for the few ms the commit takes), and, as a backstop, whenever the
    # connection goes back to the pool or is invalidated
    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        _release(conn.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        _release(conn.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        _release(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_conn: Any, record: Any, _exc: Any) -> None:
        _release(record.info)


def writer(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions start with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(sqlite_begin="IMMEDIATE")


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception.

    For background work (outbox relay, CLI, demo loaders); requests use the
    dependency in ``shared.app`` which follows the same rule.
    """
    session = Session(writer(engine) if write else engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
