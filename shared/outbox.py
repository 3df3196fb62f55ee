"""Transactional outbox and its relay.

A message is written in the same transaction as the change it announces
(``enqueue``), so it exists if and only if that change committed. The relay
claims due messages with a lease, delivers each through a handler for its topic,
and marks it delivered; a failure is retried with exponential backoff and
jitter, forever for transient errors. A process killed at any point leaves its
claimed messages to be reclaimed when the lease expires; receivers dedupe on the
message's idempotency key, so a message delivered twice still has one effect.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import Engine, func, or_, select, update
from sqlmodel import JSON, Column, Field, Session, SQLModel

from shared.db import unit_of_work
from shared.ids import new_id
from shared.timeutil import Clock, SystemClock, as_utc

log = structlog.get_logger("shared.outbox")


class OutboxRow(Protocol):
    id: str
    topic: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    dead: bool
    last_error: str | None
    lease_owner: str | None
    lease_until: datetime | None


def make_outbox_model(base: type[SQLModel]) -> type[SQLModel]:
    """Create the ``outbox`` table class on a service's own registry."""

    class OutboxMessage(base, table=True):  # type: ignore[valid-type,misc,call-arg]
        __tablename__ = "outbox"

        id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
        topic: str = Field(max_length=64, index=True)
        payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
        idempotency_key: str = Field(max_length=128, unique=True)
        attempts: int = 0
        created_at: datetime
        next_attempt_at: datetime = Field(index=True)
        delivered_at: datetime | None = Field(default=None, index=True)
        dead: bool = False
        last_error: str | None = Field(default=None, max_length=500)
        lease_owner: str | None = Field(default=None, max_length=36)
        lease_until: datetime | None = None

    return OutboxMessage


def enqueue(
    session: Session,
    model: type[SQLModel],
    *,
    topic: str,
    payload: dict[str, Any],
    idempotency_key: str,
    now: datetime,
) -> None:
    """Add a message to the caller's transaction. The caller commits."""
    session.add(
        model(
            topic=topic,
            payload=payload,
            idempotency_key=idempotency_key,
            created_at=now,
            next_attempt_at=now,
        )
    )


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (e.g. the receiver refused the payload
    with a 4xx). The message is parked as dead, kept, counted, and can be retried by staff."""


Handler = Callable[[dict[str, Any], str], None]


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    dead: int
    oldest_pending_age_seconds: float | None


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        model: type[SQLModel],
        handlers: dict[str, Handler],
        *,
        clock: Clock | None = None,
        batch_size: int = 20,
        lease: timedelta = timedelta(seconds=60),
        base_backoff: float = 0.5,
        max_backoff: float = 300.0,
        poll_interval: float = 0.5,
    ) -> None:
        self.engine = engine
        self.model: Any = model
        self.handlers = handlers
        self.clock = clock or SystemClock()
        self.batch_size = batch_size
        self.lease = lease
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.owner = str(uuid.uuid4())
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ----------------------------------------------------------------
    def claim(self) -> list[tuple[str, str, dict[str, Any], str, int]]:
        m = self.model
        now = self.clock.now()
        with unit_of_work(self.engine) as s:
            due = (
                select(m.id)
                .where(m.delivered_at.is_(None), m.dead.is_(False), m.next_attempt_at <= now)
                .where(or_(m.lease_until.is_(None), m.lease_until < now))
                .order_by(m.next_attempt_at, m.id)
                .limit(self.batch_size)
            )
            if self.engine.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list(s.execute(due).scalars())
            if not ids:
                return []
            s.execute(
                update(m)
                .where(m.id.in_(ids), or_(m.lease_until.is_(None), m.lease_until < now))
                .values(lease_owner=self.owner, lease_until=now + self.lease)
            )
            rows = s.execute(
                select(m.id, m.topic, m.payload, m.idempotency_key, m.attempts).where(
                    m.id.in_(ids), m.lease_owner == self.owner
                )
            ).all()
            return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def run_once(self) -> int:
        """Claim and deliver one batch. Returns how many were delivered."""
        delivered = 0
        for msg_id, topic, payload, key, attempts in self.claim():
            handler = self.handlers.get(topic)
            try:
                if handler is None:
                    raise PermanentFailure(f"no handler for topic {topic!r}")
                handler(payload, key)
            except PermanentFailure as exc:
                self._finish(msg_id, error=str(exc), dead=True, attempts=attempts + 1)
                log.error("outbox_dead", topic=topic, message_id=msg_id, error=str(exc)[:200])
            except Exception as exc:  # noqa: BLE001 - any failure is retried, never dropped
                self._finish(msg_id, error=f"{type(exc).__name__}: {exc}", attempts=attempts + 1)
                log.warning("outbox_retry", topic=topic, message_id=msg_id, attempts=attempts + 1,
                            error=type(exc).__name__)
            else:
                self._finish(msg_id, delivered=True, attempts=attempts + 1)
                delivered += 1
        return delivered

    def _finish(
        self, msg_id: str, *, attempts: int, delivered: bool = False, dead: bool = False, error: str | None = None
    ) -> None:
        m = self.model
        now = self.clock.now()
        values: dict[str, Any] = {"attempts": attempts, "lease_owner": None, "lease_until": None}
        if delivered:
            values.update(delivered_at=now, last_error=None)
        else:
            values.update(last_error=(error or "")[:500], dead=dead, next_attempt_at=now + self.backoff(attempts))
        with unit_of_work(self.engine) as s:
            s.execute(update(m).where(m.id == msg_id, m.lease_owner == self.owner).values(**values))

    def backoff(self, attempts: int) -> timedelta:
        """Full jitter: uniform in [0, min(max, base * 2^attempts)], at least 50 ms."""
        ceiling = min(self.max_backoff, self.base_backoff * 2 ** min(attempts, 30))
        return timedelta(seconds=max(0.05, random.uniform(0, ceiling)))

    def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due (tests, CLI). Returns the number delivered."""
        total = 0
        for _ in range(max_rounds):
            if not self.claim_pending_exists():
                break
            total += self.run_once()
        return total

    def claim_pending_exists(self) -> bool:
        m = self.model
        now = self.clock.now()
        with Session(self.engine) as s:
            q = select(func.count()).where(
                m.delivered_at.is_(None), m.dead.is_(False), m.next_attempt_at <= now
            )
            return bool(s.execute(q).scalar_one())

    def stats(self) -> OutboxStats:
        m = self.model
        with Session(self.engine) as s:
            pending, oldest = s.execute(
                select(func.count(), func.min(m.created_at)).where(m.delivered_at.is_(None), m.dead.is_(False))
            ).one()
            dead = s.execute(select(func.count()).where(m.dead.is_(True))).scalar_one()
        age = (self.clock.now() - as_utc(oldest)).total_seconds() if oldest else None
        return OutboxStats(pending=int(pending), dead=int(dead), oldest_pending_age_seconds=age)

    # -- background thread ----------------------------------------------------------
    def notify(self) -> None:
        """Wake the relay now (after a commit that enqueued something)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception:
                log.exception("outbox_relay_pass_failed")
                busy = False
            if not busy:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
