"""Who is writing, and when: passed to every domain write so the change log can record it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

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
