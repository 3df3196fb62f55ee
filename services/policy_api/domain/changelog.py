"""The append-only change log: every write records who, what, when, before and after.

Rows are only ever inserted; an attempt to update or delete one raises before it reaches
the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from services.policy_api.domain.models import ChangeLogEntry


def snapshot(obj: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-safe copy of a row's columns."""
    out: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if column.name in exclude:
            continue
        value = getattr(obj, column.name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = list(value)
        out[column.name] = value
    return out


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> ChangeLogEntry:
    entry = ChangeLogEntry(
        at=at, actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
        before=before, after=after, request_id=request_id,
    )
    session.add(entry)
    return entry


class AppendOnlyViolation(RuntimeError):
    pass


@event.listens_for(ChangeLogEntry, "before_update")
def _refuse_update(*_: Any) -> None:
    raise AppendOnlyViolation("the change log is append-only")


@event.listens_for(ChangeLogEntry, "before_delete")
def _refuse_delete(*_: Any) -> None:
    raise AppendOnlyViolation("the change log is append-only")
