"""The append-only change log: every write records who, what, when, before and after.

Rows are only ever inserted; an attempt to update or delete one raises before it reaches
the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import event, func
from sqlmodel import Session, col, select

from services.policy_api.domain.models import ChangeLogEntry
from shared.db import Database


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


def list_changes(
    db: Database, *, entity_type: str | None = None, entity_id: str | None = None, actor: str | None = None,
    since: datetime | None = None, limit: int, offset: int,
) -> tuple[list[ChangeLogEntry], int]:
    """Oldest first. Two statements: count and page."""
    query = select(ChangeLogEntry)
    if entity_type:
        query = query.where(ChangeLogEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(ChangeLogEntry.entity_id == entity_id)
    if actor:
        query = query.where(ChangeLogEntry.actor == actor)
    if since:
        query = query.where(col(ChangeLogEntry.at) >= since)
    with db.read() as s:
        total = s.exec(select(func.count()).select_from(query.subquery())).one()
        rows = s.exec(query.order_by(col(ChangeLogEntry.at), col(ChangeLogEntry.id)).offset(offset).limit(limit))
        return list(rows.all()), int(total)


class AppendOnlyViolation(RuntimeError):
    pass


@event.listens_for(ChangeLogEntry, "before_update")
def _refuse_update(*_: Any) -> None:
    raise AppendOnlyViolation("the change log is append-only")


@event.listens_for(ChangeLogEntry, "before_delete")
def _refuse_delete(*_: Any) -> None:
    raise AppendOnlyViolation("the change log is append-only")
