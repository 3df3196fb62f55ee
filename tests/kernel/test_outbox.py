"""The transactional outbox: typed messages, each delivered once, retried with capped backoff,
kept when dead, reclaimed after a crash, and drained at once when a failing peer is ready."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.orm import registry
from sqlmodel import SQLModel, col

from shared.db import Database
from shared.outbox import Delivery, OutboxColumns, OutboxRelay, PermanentFailure, Topic, enqueue
from shared.timeutil import FrozenClock


class _Base(SQLModel, registry=registry()):
    pass


class Outbox(_Base, OutboxColumns, table=True):
    __tablename__ = "kernel_outbox"


class Ping(BaseModel):
    i: int


class Other(BaseModel):
    name: str


PING = Topic("ping", "peer_a", Ping)
OTHER = Topic("other", "peer_b", Other)


def ok(_: Delivery[Ping]) -> httpx.Response:
    return httpx.Response(201)


@pytest.fixture
def db(databases) -> Iterator[Database]:
    database = Database(databases["feedback_api"].url, pool_size=4)
    _Base.metadata.drop_all(database.writer)
    _Base.metadata.create_all(database.writer)
    yield database
    _Base.metadata.drop_all(database.writer)
    database.dispose()


def _put(db: Database, clock: FrozenClock, n: int, topic: Topic = PING) -> None:
    with db.write() as s:
        for i in range(n):
            message = Ping(i=i) if topic is PING else Other(name=str(i))
            enqueue(s, Outbox, topic, message, idempotency_key=f"{topic.name}-{i}", now=clock.now(),
                    request_id=f"req-{i}")


def test_delivers_each_message_once_as_its_model(db):
    clock = FrozenClock()
    _put(db, clock, 5)
    seen: list[Delivery[Ping]] = []

    def handler(d: Delivery[Ping]) -> httpx.Response:
        seen.append(d)
        return httpx.Response(200)

    relay = OutboxRelay(db, Outbox, {PING: handler}, clock=clock)
    assert relay.drain() == 5
    assert relay.drain() == 0
    assert sorted(d.message.i for d in seen) == list(range(5))
    assert all(isinstance(d.message, Ping) for d in seen)
    assert {d.request_id for d in seen} == {f"req-{i}" for i in range(5)}  # X-Request-ID travels too
    assert relay.stats().pending == 0


def test_enqueue_refuses_a_message_that_is_not_the_topics_model(db):
    with pytest.raises(TypeError), db.write() as s:
        enqueue(s, Outbox, PING, Other(name="x"), idempotency_key="k", now=FrozenClock().now())


@pytest.mark.parametrize("status", [404, 409, 429, 500, 503])
def test_retryable_answers_are_retried_after_capped_backoff(db, status):
    clock = FrozenClock()
    _put(db, clock, 1)
    answers = iter([httpx.Response(status), httpx.Response(status), httpx.Response(201)])
    relay = OutboxRelay(db, Outbox, {PING: lambda d: next(answers)}, clock=clock, base_backoff=1, max_backoff=10)
    assert relay.run_once() == 0
    assert relay.stats().pending == 1 and relay.stats().dead == 0
    assert relay.run_once() == 0  # not due yet: backoff holds it back
    for _ in range(2):
        clock.advance(timedelta(seconds=11))  # never longer than max_backoff
        relay.run_once()
    assert relay.stats().pending == 0 and relay.stats().dead == 0


def test_no_answer_is_retried(db):
    clock = FrozenClock()
    _put(db, clock, 1)

    def down(_: Delivery[Ping]) -> httpx.Response:
        raise httpx.ConnectError("refused")

    relay = OutboxRelay(db, Outbox, {PING: down}, clock=clock)
    relay.run_once()
    assert relay.stats().pending == 1 and relay.stats().dead == 0


@pytest.mark.parametrize("status", [400, 403, 422])
def test_refusals_are_kept_as_dead_not_dropped(db, status):
    clock = FrozenClock()
    _put(db, clock, 1)
    relay = OutboxRelay(db, Outbox, {PING: lambda d: httpx.Response(status, json={"title": "no"})}, clock=clock)
    relay.run_once()
    assert relay.stats().dead == 1 and relay.stats().pending == 0


def test_a_handler_may_declare_a_permanent_failure(db):
    clock = FrozenClock()
    _put(db, clock, 1)

    def refuse(_: Delivery[Ping]) -> httpx.Response:
        raise PermanentFailure("the account is gone")

    relay = OutboxRelay(db, Outbox, {PING: refuse}, clock=clock)
    relay.run_once()
    assert relay.stats().dead == 1


def test_lease_of_a_crashed_relay_expires(db):
    clock = FrozenClock()
    _put(db, clock, 2)
    crashed = OutboxRelay(db, Outbox, {PING: ok}, clock=clock, lease=timedelta(seconds=30))
    assert len(crashed.claim()) == 2  # claimed, then the process died
    survivor = OutboxRelay(db, Outbox, {PING: ok}, clock=clock)
    assert survivor.run_once() == 0
    clock.advance(timedelta(seconds=31))
    assert survivor.run_once() == 2


def test_stats_report_oldest_pending_age(db):
    clock = FrozenClock()
    _put(db, clock, 3)
    clock.advance(timedelta(seconds=42))
    stats = OutboxRelay(db, Outbox, {PING: ok}, clock=clock).stats()
    assert stats.pending == 3 and stats.oldest_pending_age_seconds == pytest.approx(42, abs=1)


def _peer_a_down(db: Database, clock: FrozenClock, *, ready_check: bool) -> tuple[OutboxRelay, dict[str, bool]]:
    """A relay whose peer_a answers 503 until ``up["peer_a"] = True`` (and, with ``ready_check``,
    whose /readyz says the same); peer_b always answers 503. Backoff 10-30 s."""
    up = {"peer_a": False}

    def deliver(_: Delivery[Ping]) -> httpx.Response:
        return httpx.Response(201 if up["peer_a"] else 503)

    relay = OutboxRelay(db, Outbox, {PING: deliver, OTHER: lambda d: httpx.Response(503)},
                        ready=(lambda peer: up.get(peer, False)) if ready_check else None, clock=clock,
                        base_backoff=10, max_backoff=30)
    return relay, up


def test_a_ready_peer_gets_its_waiting_messages_at_once(db):
    """After an outage the backlog is due the moment the peer's /readyz answers, not after the
    longest backoff; messages for other peers keep their own schedule."""
    clock = FrozenClock()
    _put(db, clock, 3)
    _put(db, clock, 1, OTHER)
    relay, up = _peer_a_down(db, clock, ready_check=True)
    relay.run_once()  # everything fails, backoff up to 30 s
    relay.check_failing_peers()
    assert relay.run_once() == 0  # peer_a still down: nothing due
    up["peer_a"] = True
    relay.check_failing_peers()  # /readyz answers: peer_a's messages are due now
    assert relay.run_once() == 3
    assert relay.stats().pending == 1  # peer_b's message still waits for its backoff


def test_the_first_delivery_to_a_returning_peer_makes_its_backlog_due(db):
    """The relay may meet a returning peer through a message whose backoff ran out, before any
    /readyz check: the peer's other waiting messages are then due at once, not one by one as
    their own backoffs (up to 30 s) run out. Measured before this: a 120-message backlog took
    26-29.5 s to drain after case_api returned (bench outage_drain)."""
    clock = FrozenClock()
    _put(db, clock, 4)
    _put(db, clock, 1, OTHER)
    relay, up = _peer_a_down(db, clock, ready_check=False)  # no /readyz check at all
    assert relay.run_once() == 0  # all fail; each waits its own backoff
    with db.write() as s:  # one backoff has run out
        s.execute(update(Outbox).where(col(Outbox.idempotency_key) == "ping-0").values(next_attempt_at=clock.now()))
    up["peer_a"] = True
    assert relay.run_once() == 1  # that one gets through ...
    assert relay.run_once() == 3  # ... and the other three are due now
    assert relay.stats().pending == 1  # peer_b never answered: its message keeps its backoff


def test_a_half_returned_peer_does_not_wake_its_backlog(db):
    """A round that both delivers to a peer and is told to retry it does not make the rest due."""
    clock = FrozenClock()
    _put(db, clock, 4)
    failing = {"ping-0", "ping-1", "ping-2", "ping-3"}
    tried: list[str] = []

    def deliver(d: Delivery[Ping]) -> httpx.Response:
        tried.append(d.idempotency_key or "")
        return httpx.Response(503 if d.idempotency_key in failing else 201)

    relay = OutboxRelay(db, Outbox, {PING: deliver}, clock=clock, base_backoff=10, max_backoff=30)
    assert relay.run_once() == 0
    with db.write() as s:
        s.execute(update(Outbox).where(col(Outbox.idempotency_key).in_(["ping-0", "ping-1"]))
                  .values(next_attempt_at=clock.now()))
    failing = {"ping-1", "ping-2", "ping-3"}  # ping-0 gets through, ping-1 is refused again
    assert relay.run_once() == 1
    assert relay.run_once() == 0  # ping-2 and ping-3 still wait for their backoff: not tried again
    assert sorted(tried) == ["ping-0", "ping-0", "ping-1", "ping-1", "ping-2", "ping-3"]
    assert relay.stats().pending == 3


def test_an_unknown_topic_or_a_bad_payload_is_dead(db):
    clock = FrozenClock()
    _put(db, clock, 1, OTHER)
    relay = OutboxRelay(db, Outbox, {PING: ok}, clock=clock)
    relay.run_once()
    assert relay.stats().dead == 1


def test_two_relays_in_parallel_deliver_each_message_once(db):
    clock = FrozenClock()
    _put(db, clock, 60)
    seen: list[int] = []
    lock = threading.Lock()

    def handler(d: Delivery[Ping]) -> httpx.Response:
        with lock:
            seen.append(d.message.i)
        return httpx.Response(201)

    relays = [OutboxRelay(db, Outbox, {PING: handler}, clock=clock, batch_size=7) for _ in range(2)]
    threads = [threading.Thread(target=r.drain) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(seen) == 60 and len(set(seen)) == 60


def test_a_database_outage_is_logged_once_not_per_poll(db, capsys):
    """While the database cannot answer (here: the outbox table is gone) the relay polls every
    interval; it logs the state change once, and once more when it recovers."""
    import time as _time

    relay = OutboxRelay(db, Outbox, {PING: ok}, clock=FrozenClock(), poll_interval=0.02)
    _Base.metadata.drop_all(db.writer)
    relay.start()
    try:
        _time.sleep(0.3)  # about 15 polls against a missing table
        _Base.metadata.create_all(db.writer)
        _time.sleep(0.3)
    finally:
        relay.stop()
    out = capsys.readouterr().out
    assert out.count("outbox_relay_failing") == 1
    assert out.count("outbox_relay_recovered") == 1
