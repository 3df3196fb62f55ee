"""After lawful destruction on SQLite: nothing destroyed may stay readable in the database file's
free pages or in its ``-wal``. ``compact(db)`` checkpoints the WAL into the file and truncates it,
rebuilds the file (``VACUUM``, which in WAL mode writes through the WAL) and truncates the WAL
again. Shared by case_api's and feedback_api's retention purges; a no-op (False) on PostgreSQL,
whose autovacuum reclaims deleted tuples. ``secure(session)`` turns on ``secure_delete`` for the
purge's own connection, so the pages it frees are zeroed as they are freed."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from shared.db import Database


def secure(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))


def compact(db: Database) -> bool:
    engine = db.writer
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:  # the one writer connection: no writer of this process runs meanwhile
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        try:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.execute("VACUUM")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            cur.close()
    return True
