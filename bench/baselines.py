"""Raw database baselines: one committed INSERT per row, as fast as the driver allows, on the
server core. SQLite: WAL, synchronous=FULL, busy_timeout (the services' pragmas). PostgreSQL:
psycopg 3, autocommit, one INSERT per transaction, on a throwaway database."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.servers import PG_ADMIN_URL, SERVER_CPU

PAYLOAD = "x" * 400  # about the size of a report row


def _pinned() -> set[int]:
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(SERVER_CPU)})
    return before


def sqlite_commits_per_second(workdir: Path, seconds: float) -> float:
    path = workdir / "baseline.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    before = _pinned()
    try:
        n = 0
        start = time.perf_counter()
        end = start + seconds
        while time.perf_counter() < end:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (id, body) VALUES (?, ?)", (uuid.uuid4().hex, PAYLOAD))
            conn.execute("COMMIT")
            n += 1
        return n / (time.perf_counter() - start)
    finally:
        os.sched_setaffinity(0, before)
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def postgresql_commits_per_second(seconds: float) -> float:
    db = f"bench_baseline_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
    url = make_url(PG_ADMIN_URL).set(database=db).render_as_string(hide_password=False)
    before = _pinned()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
            n = 0
            start = time.perf_counter()
            end = start + seconds
            while time.perf_counter() < end:
                conn.execute("INSERT INTO t (id, body) VALUES (%s, %s)", (uuid.uuid4().hex, PAYLOAD))
                n += 1
            return n / (time.perf_counter() - start)
    finally:
        os.sched_setaffinity(0, before)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
