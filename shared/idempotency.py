"""Idempotency keys for POSTs (IETF httpapi ``Idempotency-Key`` draft).

Receivers of outbox deliveries and any client-retried POST use this:

* same key, same body    -> the stored response is replayed (``Idempotent-Replayed: true``);
* same key, other body   -> 422 problem (the key was reused for a different request);
* concurrent duplicates  -> one row (the key is the primary key); the loser replays.

The key row is written in the same transaction as the effect, so a rolled-back request
leaves no key behind and can be retried.

    claim = idempotency.begin(session, IdempotencyKey, scope=principal.subject, key=key, body=raw)
    if claim.replay is not None:
        return claim.replay.as_response()
    ... do the work ...
    claim.finish(status=201, body=response_json)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import JSON, Column, Field, Session, SQLModel

from shared.errors import ValidationFailed
from shared.timeutil import utcnow

MAX_KEY_LENGTH = 128


def make_idempotency_model(base: type[SQLModel]) -> type[SQLModel]:
    class IdempotencyKey(base, table=True):  # type: ignore[valid-type,misc,call-arg]
        __tablename__ = "idempotency_keys"

        scope: str = Field(primary_key=True, max_length=200)
        key: str = Field(primary_key=True, max_length=MAX_KEY_LENGTH)
        request_hash: str = Field(max_length=64)
        status_code: int | None = None
        response_body: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
        created_at: datetime

    return IdempotencyKey


def body_hash(body: Any) -> str:
    """Hash of the request as the server understood it (canonical JSON)."""
    raw = body if isinstance(body, bytes) else json.dumps(body, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


@dataclass
class StoredResponse:
    status_code: int
    body: Any


@dataclass
class Claim:
    session: Session
    row: Any
    replay: StoredResponse | None = None
    _done: bool = field(default=False, repr=False)

    def finish(self, *, status: int, body: Any) -> None:
        """Store the response with the effect (same transaction)."""
        if self.replay is not None or self._done:
            return
        self.row.status_code = status
        self.row.response_body = body
        self.session.add(self.row)
        self.session.flush()
        self._done = True


def validate_key(key: str | None) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            "An Idempotency-Key header (1-128 printable characters) is required.",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "missing or malformed", "type": "value_error"}],
        )
    return key


def begin(session: Session, model: type[SQLModel], *, scope: str, key: str | None, body: Any) -> Claim:
    key = validate_key(key)
    digest = body_hash(body)
    m: Any = model
    existing = session.get(m, (scope, key))
    if existing is None:
        row = m(scope=scope, key=key, request_hash=digest, created_at=utcnow())
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return Claim(session=session, row=row)
        except IntegrityError:
            # A concurrent request with the same key committed first: replay it.
            existing = session.get(m, (scope, key), populate_existing=True)
            if existing is None:  # pragma: no cover - the winner rolled back; let the client retry
                raise
    if existing.request_hash != digest:
        raise ValidationFailed(
            "This Idempotency-Key was already used for a different request.",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with a different body", "type": "conflict"}],
        )
    return Claim(session=session, row=existing,
                 replay=StoredResponse(status_code=existing.status_code or 200, body=existing.response_body))
