"""Who is writing, and when: passed to every domain write so the change log can record it; and the
read unit of work the use-cases open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.db import Database
from shared.errors import Conflict


@dataclass(frozen=True)
class WriteContext:
    actor: str
    now: datetime
    request_id: str | None = None


def flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a unique constraint lost to a concurrent request becomes a 409, not a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc


@contextmanager
def read(db: Database) -> Iterator[Session]:
    """``db.read()`` whose rows stay readable after the block.

    WORKAROUND (reported to the kernel owner): ``shared.db._unit`` ends a read with
    ``session.rollback()``, and a rollback expires every instance in the session, so a row returned
    from ``with db.read()`` raises ``DetachedInstanceError`` on its first attribute. Expunging the
    rows first keeps their loaded columns (``session.close()`` alone would, in the kernel)."""
    with db.read() as session:
        yield session
        session.expunge_all()
