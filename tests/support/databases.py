"""Real databases for tests: a SQLite file or a fresh PostgreSQL database per service per run,
migrated with Alembic (never ``create_all``), emptied between tests."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import Engine, MetaData, text
from sqlalchemy.engine import make_url

from shared.db import make_engine
from shared.migrations import upgrade

PG_ADMIN_URL = os.environ.get("CIVICSOCIAL_TEST_PG_URL", "postgresql://127.0.0.1:5432/postgres")


class TestDatabase:
    """One service's database for the whole test session."""

    def __init__(self, backend: str, service: str, migrations_dir: Path, metadata: MetaData, tmp: Path) -> None:
        self.backend = backend
        self.service = service
        self.metadata = metadata
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp / f'{service}.db'}"
            self._pg_name = None
        else:
            self._pg_name = f"cs_test_{service}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self._pg_name}"')
            self.url = make_url(PG_ADMIN_URL).set(database=self._pg_name).render_as_string(hide_password=False)
        upgrade(migrations_dir, self.url)
        self.engine: Engine = make_engine(self.url, pool_size=2)

    def reset(self) -> None:
        """Empty every table this service owns (the alembic version stays)."""
        tables = [t.name for t in reversed(self.metadata.sorted_tables)]
        if not tables:
            return
        with self.engine.begin() as conn:
            if self.backend == "postgresql":
                # case_api's append-only triggers refuse TRUNCATE; tests empty every table as the
                # superuser in replica mode, where ordinary triggers do not fire
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))

    def drop(self) -> None:
        self.engine.dispose()
        if self._pg_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
