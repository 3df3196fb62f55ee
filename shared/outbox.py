"""Transactional outbox and its relay.

A message is written in the same transaction as the change it announces (``enqueue``), so it
exists if and only if that change committed. Every message is a shared schema model: the
sender builds it, ``enqueue`` checks it is the topic's model and stores its JSON, and the
relay validates it back into that model before the handler sees it.

The relay claims due messages with a lease, hands each to its topic's handler, and classifies
the peer's answer with ``shared.http.classify``: delivered, retried with capped exponential
backoff and full jitter (forever), or parked dead (kept, visible to staff). While a peer is
failing, the relay polls its ``/readyz`` (``ready`` callback) and, the moment it answers again,
makes that peer's waiting messages due at once, so a backlog drains on the peer's return, not
on the longest backoff. A process killed at any point leaves its claimed messages to be
reclaimed when the lease expires; receivers dedupe on the idempotency key.

Why our own relay and not a library: the outbox must commit in the service's own database
transaction (SQLite or PostgreSQL), which rules out a broker; the libraries that implement the
pattern in Python are tied to a broker or to Django.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx
import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, or_, select, update
from sqlmodel import JSON, Field, Session, SQLModel, col

from shared.db import Database
from shared.errors import NotFound, UpstreamFailed
from shared.http import Outcome, classify, describe
from shared.ids import new_id
from shared.timeutil import Clock, SystemClock, as_utc

log = structlog.get_logger("shared.outbox")

M = TypeVar("M", bound=BaseModel)


class OutboxColumns(SQLModel):
    """The ``outbox`` table's columns. Each service declares its table on its own registry:
    ``class OutboxMessage(Base, OutboxColumns, table=True): __tablename__ = "outbox"``."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    topic: str = Field(max_length=64, index=True)
    peer: str = Field(default="", max_length=32)
    payload: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    idempotency_key: str = Field(max_length=128, unique=True)
    request_id: str | None = Field(default=None, max_length=64)
    attempts: int = 0
    created_at: datetime
    next_attempt_at: datetime = Field(index=True)
    delivered_at: datetime | None = Field(default=None, index=True)
    dead: bool = False
    last_error: str | None = Field(default=None, max_length=500)
    lease_owner: str | None = Field(default=None, max_length=36)
    lease_until: datetime | None = None


@dataclass(frozen=True)
class Topic(Generic[M]):
    """A kind of message: its name, the peer it goes to, and the shared schema it carries."""

    name: str
    peer: str
    model: type[M]


@dataclass(frozen=True)
class Delivery(Generic[M]):
    """One claimed message, as its handler sees it."""

    id: str
    message: M
    idempotency_key: str
    attempts: int
    request_id: str | None


def enqueue(
    session: Session,
    table: type[OutboxColumns],
    topic: Topic[M],
    message: M,
    *,
    idempotency_key: str,
    now: datetime,
    request_id: str | None = None,
) -> None:
    """Add a message to the caller's transaction. The caller commits."""
    if not isinstance(message, topic.model):
        raise TypeError(f"topic {topic.name!r} carries {topic.model.__name__}, not {type(message).__name__}")
    if request_id is None:
        bound = structlog.contextvars.get_contextvars().get("request_id")
        request_id = str(bound) if bound else None
    session.add(table(
        topic=topic.name, peer=topic.peer, payload=message.model_dump(mode="json"),
        idempotency_key=idempotency_key, request_id=request_id, created_at=now, next_attempt_at=now,
    ))


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help. The message is parked as dead, kept,
    counted, and can be retried by staff."""


# A handler sends one message and returns the peer's answer; the relay classifies it.
Handler = Callable[[Delivery[Any]], httpx.Response]


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    dead: int
    oldest_pending_age_seconds: float | None


@dataclass(frozen=True)
class _Claimed:
    id: str
    topic: str
    peer: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int
    request_id: str | None


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        table: type[OutboxColumns],
        handlers: Mapping[Topic[Any], Handler],
        *,
        ready: Callable[[str], bool] | None = None,
        clock: Clock | None = None,
        batch_size: int = 20,
        lease: timedelta = timedelta(seconds=60),
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        poll_interval: float = 0.5,
        ready_poll_interval: float = 1.0,
        concurrency: int = 4,
        hold: Callable[[datetime], Any] | None = None,
        shuffle: bool = False,
    ) -> None:
        """``hold(now)``: an extra SQL condition a row must meet to be claimed at ``now`` (None: no
        condition), e.g. feedback_api's batches; ``shuffle``: claim and deliver due rows in random
        order rather than oldest first (so delivery order says nothing of creation order)."""
        self.db = db
        self.hold = hold
        self.shuffle = shuffle
        self.table = table
        self.topics = {t.name: t for t in handlers}
        self.handlers = {t.name: h for t, h in handlers.items()}
        self.ready = ready
        self.clock = clock or SystemClock()
        self.batch_size = batch_size
        self.lease = lease
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self.ready_poll_interval = ready_poll_interval
        self.owner = str(uuid.uuid4())
        # Deliveries of one batch run side by side: each waits on its peer's answer (the peer's own
        # commit), so a backlog after an outage drains several times faster than one at a time.
        # Receivers are idempotent and order-tolerant (a message before its report is a 404: retried).
        self.concurrency = concurrency
        self._workers: ThreadPoolExecutor | None = None
        self._failing: set[str] = set()  # peers whose last delivery was retried
        self.retries = 0  # deliveries that will be tried again (for /metrics)
        self.dead_letters = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ----------------------------------------------------------------
    def claim(self) -> list[_Claimed]:
        t = self.table
        now = self.clock.now()
        with self.db.write() as s:
            due = (
                select(col(t.id))
                .where(col(t.delivered_at).is_(None), col(t.dead).is_(False), col(t.next_attempt_at) <= now)
                .where(or_(col(t.lease_until).is_(None), col(t.lease_until) < now))
            )
            held = self.hold(now) if self.hold is not None else None
            if held is not None:
                due = due.where(held)
            due = due.order_by(*((func.random(),) if self.shuffle else (col(t.next_attempt_at), col(t.id))))
            due = due.limit(self.batch_size)
            if self.db.dialect == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list(s.execute(due).scalars())
            if not ids:
                return []
            s.execute(
                update(t)
                .where(col(t.id).in_(ids), or_(col(t.lease_until).is_(None), col(t.lease_until) < now))
                .values(lease_owner=self.owner, lease_until=now + self.lease)
            )
            rows = s.execute(
                select(t).where(col(t.id).in_(ids), col(t.lease_owner) == self.owner)
                .order_by(col(t.next_attempt_at), col(t.id))
            ).scalars()
            claimed = [_Claimed(id=r.id, topic=r.topic, peer=r.peer, payload=r.payload,
                                idempotency_key=r.idempotency_key, attempts=r.attempts, request_id=r.request_id)
                       for r in rows]
            if self.shuffle:
                random.SystemRandom().shuffle(claimed)
            return claimed

    def run_once(self) -> int:
        """Claim one batch, deliver it ``concurrency`` at a time, and record every outcome in
        one transaction. Returns how many were delivered."""
        rows = self.claim()
        if not rows:
            return 0
        if len(rows) == 1 or self.concurrency == 1:
            outcomes = [self._deliver(row) for row in rows]
        else:
            if self._workers is None:
                self._workers = ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox-delivery")
            outcomes = list(self._workers.map(self._deliver, rows))
        finished: list[tuple[str, int, Outcome, str | None]] = []
        was_failing = set(self._failing)
        answered: set[str] = set()
        retried: set[str] = set()
        for row, (outcome, error) in zip(rows, outcomes, strict=True):
            if outcome is Outcome.DELIVERED:
                answered.add(row.peer)
                self._failing.discard(row.peer)
            elif outcome is Outcome.DEAD:
                self.dead_letters += 1
                log.error("outbox_dead", topic=row.topic, message_id=row.id, error=(error or "")[:200])
            else:
                self.retries += 1
                retried.add(row.peer)
                self._failing.add(row.peer)
                log.warning("outbox_retry", topic=row.topic, message_id=row.id, attempts=row.attempts + 1,
                            error=(error or "")[:100])
            finished.append((row.id, row.attempts + 1, outcome, error))
        self._finish(finished)
        # A failing peer may first be met answering through a message whose own backoff ran out,
        # before any /readyz check (the loop checks only when a round delivers nothing, and the
        # peer is no longer "failing" once one message got through): the peer is back, so its
        # other waiting messages are due now, not at the end of each one's backoff (up to 30 s).
        # Not when the same round was told to retry that peer: it may be only half back.
        for peer in (was_failing & answered) - retried:
            woken = self.wake_peer(peer)
            log.info("outbox_peer_ready", peer=peer, woken=woken, seen="delivery")
        return sum(1 for _, _, outcome, _ in finished if outcome is Outcome.DELIVERED)

    def _deliver(self, row: _Claimed) -> tuple[Outcome, str | None]:
        handler = self.handlers.get(row.topic)
        if handler is None:
            return Outcome.DEAD, f"no handler for topic {row.topic!r}"
        model = self.topics[row.topic].model
        try:
            message = model.model_validate(row.payload)
        except ValidationError as exc:
            return Outcome.DEAD, f"payload is not a valid {model.__name__}: {exc.error_count()} error(s)"
        delivery = Delivery(id=row.id, message=message, idempotency_key=row.idempotency_key,
                            attempts=row.attempts, request_id=row.request_id)
        try:
            response = handler(delivery)
        except PermanentFailure as exc:
            return Outcome.DEAD, str(exc)
        except UpstreamFailed as exc:
            return Outcome.RETRY, str(exc)
        except Exception as exc:
            log.exception("outbox_handler_failed", topic=row.topic, message_id=row.id)
            return Outcome.RETRY, f"{type(exc).__name__}: {exc}"
        outcome = classify(response)
        return outcome, None if outcome is Outcome.DELIVERED else describe(response)

    def _finish(self, finished: list[tuple[str, int, Outcome, str | None]]) -> None:
        t = self.table
        now = self.clock.now()
        with self.db.write() as s:
            for msg_id, attempts, outcome, error in finished:
                values: dict[str, Any] = {"attempts": attempts, "lease_owner": None, "lease_until": None}
                if outcome is Outcome.DELIVERED:
                    values.update(delivered_at=now, last_error=None)
                else:
                    values.update(last_error=(error or "")[:500], dead=outcome is Outcome.DEAD,
                                  next_attempt_at=now + self.backoff(attempts))
                s.execute(update(t).where(col(t.id) == msg_id, col(t.lease_owner) == self.owner).values(**values))

    def backoff(self, attempts: int) -> timedelta:
        """Full jitter: uniform in [0, min(max, base * 2^attempts)], at least 50 ms."""
        ceiling = min(self.max_backoff, self.base_backoff * 2 ** min(attempts, 30))
        return timedelta(seconds=max(0.05, random.uniform(0, ceiling)))

    def wake_peer(self, peer: str) -> int:
        """The peer is back: its waiting messages are due now. Returns how many."""
        t = self.table
        now = self.clock.now()
        with self.db.write() as s:
            result = s.execute(
                update(t)
                .where(col(t.peer) == peer, col(t.delivered_at).is_(None), col(t.dead).is_(False),
                       col(t.next_attempt_at) > now)
                .values(next_attempt_at=now)
            )
        self._failing.discard(peer)
        return int(getattr(result, "rowcount", 0) or 0)

    def check_failing_peers(self) -> None:
        """For each peer that last failed, ask its ``/readyz``; wake its messages when it answers."""
        if self.ready is None:
            return
        for peer in list(self._failing):
            if self.ready(peer):
                woken = self.wake_peer(peer)
                log.info("outbox_peer_ready", peer=peer, woken=woken, seen="readyz")
                self._wake.set()

    def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due (tests, CLI). Returns the number delivered."""
        total = 0
        for _ in range(max_rounds):
            if not self.pending_due():
                break
            total += self.run_once()
        return total

    def pending_due(self) -> bool:
        t = self.table
        now = self.clock.now()
        with self.db.read() as s:
            q = select(func.count()).where(
                col(t.delivered_at).is_(None), col(t.dead).is_(False), col(t.next_attempt_at) <= now
            )
            return bool(s.execute(q).scalar_one())

    def stats(self) -> OutboxStats:
        t = self.table
        with self.db.read() as s:
            pending, oldest = s.execute(
                select(func.count(), func.min(col(t.created_at)))
                .where(col(t.delivered_at).is_(None), col(t.dead).is_(False))
            ).one()
            dead = s.execute(select(func.count()).where(col(t.dead).is_(True))).scalar_one()
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
        if self._workers is not None:
            self._workers.shutdown(wait=True, cancel_futures=True)
            self._workers = None

    def _loop(self) -> None:
        failing_since: str | None = None  # the error of the current failure, logged once
        while not self._stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception as exc:  # noqa: BLE001 - e.g. the database is down: keep polling
                busy = False
                if failing_since is None:
                    failing_since = type(exc).__name__
                    log.error("outbox_relay_failing", error=failing_since)  # no traceback, no SQL: one line
            else:
                if failing_since is not None:
                    log.info("outbox_relay_recovered", error=failing_since)
                    failing_since = None
            if busy:
                continue
            try:
                self.check_failing_peers()
            except Exception:
                log.exception("outbox_ready_check_failed")
            wait = self.ready_poll_interval if self._failing else self.poll_interval
            self._wake.wait(wait)
            self._wake.clear()


# --- operations: what staff see of an outbox, and putting a dead message back --------------------

DEAD_SHOWN = 100


@dataclass(frozen=True)
class DeadMessage:
    id: str
    topic: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class OutboxOverview:
    pending: int
    dead: int
    oldest_pending_age_seconds: float | None
    dead_messages: list[DeadMessage]


def overview(db: Database, table: type[OutboxColumns], *, now: datetime, shown: int = DEAD_SHOWN) -> OutboxOverview:
    """Backlog and the first dead messages: two statements however many there are."""
    t = table
    with db.read() as s:
        pending, oldest = s.execute(
            select(func.count(), func.min(col(t.created_at)))
            .where(col(t.delivered_at).is_(None), col(t.dead).is_(False))
        ).one()
        rows = s.execute(
            select(col(t.id), col(t.topic), col(t.attempts), col(t.last_error), func.count().over())
            .where(col(t.dead).is_(True)).order_by(col(t.id)).limit(shown)
        ).all()
    age = (now - as_utc(oldest)).total_seconds() if oldest else None
    return OutboxOverview(
        pending=int(pending), dead=int(rows[0][4]) if rows else 0, oldest_pending_age_seconds=age,
        dead_messages=[DeadMessage(id=r[0], topic=r[1], attempts=r[2], last_error=r[3]) for r in rows],
    )


def retry_dead(db: Database, table: type[OutboxColumns], *, message_id: str, now: datetime) -> None:
    """Put a dead message back in the queue, due now. ``NotFound`` unless it is dead."""
    t = table
    with db.write() as s:
        result = s.execute(
            update(t).where(col(t.id) == message_id[:36], col(t.dead).is_(True))
            .values(dead=False, next_attempt_at=now, last_error=None)
        )
        if not getattr(result, "rowcount", 0):
            raise NotFound("No dead message with this id.")
