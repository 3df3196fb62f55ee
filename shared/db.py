"""Engines and sessions.

SQLite (the default, one file per service): WAL, ``busy_timeout``, foreign keys on,
``synchronous`` from settings; one writer connection with ``BEGIN IMMEDIATE`` (writers queue in
the pool instead of failing with SQLITE_BUSY when a deferred transaction tries to upgrade) and
a pool of readers. PostgreSQL: psycopg 3.

Services use ``Database``: its ``write()`` commits once or rolls back, ``read()`` never
commits; use-cases open them, repositories only ``flush``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10,
                sqlite_begin: str = "DEFERRED") -> Engine:
    """One engine. ``Database`` below is what services use; this is for tools and tests that
    need a plain engine. On SQLite, ``sqlite_begin`` is how every transaction starts."""
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
        _configure_sqlite(engine, sqlite_synchronous, sqlite_begin)
        return engine
    # No overflow: an overflow connection is closed again as soon as the pool is full, so under
    # steady load every request past pool_size opened a new connection (py-spy: connect and its
    # pragmas were ~6% of case_api's busy time on SQLite). Requests past the pool wait for one
    # (pool_timeout), then get 503 problem+json.
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"connect_timeout": 5},
    )


def _configure_sqlite(engine: Engine, synchronous: str, begin: str) -> None:
    if synchronous not in {"NORMAL", "FULL"}:
        raise ValueError("synchronous must be NORMAL or FULL")
    if begin not in {"DEFERRED", "IMMEDIATE"}:
        raise ValueError("begin must be DEFERRED or IMMEDIATE")

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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', begin)}")


class Database:
    """A service's database: ``read()`` and ``write()`` units of work.

    The use-case decides which one it needs, not the HTTP method. On a SQLite file there are
    two engines: readers (a pool of ``pool_size``, deferred transactions: in WAL mode they never
    take or wait for the write lock) and one writer connection (``pool_size=1, max_overflow=0``,
    ``BEGIN IMMEDIATE``), so writers of this process queue in SQLAlchemy's pool, in order, for up
    to the busy timeout, and a lock cannot outlive its connection. Writers in other processes on
    the same file still meet SQLite's busy handler. On PostgreSQL both are the same engine.
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.reader = make_engine(self.url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size)
        database = make_url(self.url).database if is_sqlite(self.url) else None
        if database and database != ":memory:":
            self.writer = make_engine(self.url, sqlite_synchronous=sqlite_synchronous, pool_size=1,
                                      sqlite_begin="IMMEDIATE")
        else:
            self.writer = self.reader

    @property
    def dialect(self) -> str:
        return self.reader.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that commits on success and rolls back on any exception."""
        with _unit(self.writer, commit=True) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A unit of work that only reads: always rolled back, never waits for writers."""
        with _unit(self.reader, commit=False) as session:
            yield session

    def ping(self) -> None:
        ping(self.reader)

    def dispose(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()


@contextmanager
def _unit(engine: Engine, *, commit: bool) -> Iterator[Session]:
    """Commit (write) or discard (read) and close. Rows loaded inside stay readable after the
    block: commits do not expire them (``expire_on_commit=False``) and a read is ended by
    closing the session, which returns the connection (the pool rolls its transaction back)
    without expiring what was loaded, as ``Session.rollback()`` would."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        if commit:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
