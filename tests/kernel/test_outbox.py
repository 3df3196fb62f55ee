"""The outbox relay: delivers once, retries with backoff, parks permanent failures, survives
a crashed claimer, and two relays never deliver the same message twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from services.feedback_api.domain.models import OutboxMessage
from shared.db import unit_of_work
from shared.outbox import OutboxRelay, PermanentFailure, enqueue
from shared.timeutil import FrozenClock


@pytest.fixture
def engine(databases):
    return databases["feedback_api"].engine


def _put(engine, clock, n: int, topic: str = "report") -> None:
    with unit_of_work(engine) as s:
        for i in range(n):
            enqueue(s, OutboxMessage, topic=topic, payload={"i": i}, idempotency_key=f"{topic}-{i}", now=clock.now())


def test_delivers_each_message_once(engine):
    clock = FrozenClock()
    _put(engine, clock, 5)
    seen: list[str] = []
    relay = OutboxRelay(engine, OutboxMessage, {"report": lambda p, k: seen.append(k)}, clock=clock)
    assert relay.drain() == 5
    assert relay.drain() == 0
    assert sorted(seen) == [f"report-{i}" for i in range(5)]
    assert relay.stats().pending == 0


def test_transient_failure_is_retried_after_backoff(engine):
    clock = FrozenClock()
    _put(engine, clock, 1)
    calls = {"n": 0}

    def flaky(payload, key):
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("case_api down")

    relay = OutboxRelay(engine, OutboxMessage, {"report": flaky}, clock=clock, base_backoff=1, max_backoff=10)
    assert relay.run_once() == 0
    stats = relay.stats()
    assert stats.pending == 1 and stats.dead == 0
    assert relay.run_once() == 0 and calls["n"] == 1  # not due yet: backoff holds it back
    clock.advance(timedelta(seconds=11))
    relay.run_once()
    clock.advance(timedelta(seconds=11))
    assert relay.run_once() == 1 and calls["n"] == 3
    assert relay.stats().pending == 0


def test_permanent_failure_is_kept_as_dead_not_dropped(engine):
    clock = FrozenClock()
    _put(engine, clock, 1)

    def refuse(payload, key):
        raise PermanentFailure("422 from receiver")

    relay = OutboxRelay(engine, OutboxMessage, {"report": refuse}, clock=clock)
    relay.run_once()
    assert relay.stats().dead == 1


def test_lease_of_a_crashed_relay_expires(engine):
    clock = FrozenClock()
    _put(engine, clock, 2)
    crashed = OutboxRelay(engine, OutboxMessage, {}, clock=clock, lease=timedelta(seconds=30))
    assert len(crashed.claim()) == 2  # claimed, then the process "dies"
    seen: list[str] = []
    survivor = OutboxRelay(engine, OutboxMessage, {"report": lambda p, k: seen.append(k)}, clock=clock)
    assert survivor.run_once() == 0  # still leased
    clock.advance(timedelta(seconds=31))
    assert survivor.run_once() == 2 and len(seen) == 2


def test_stats_report_oldest_pending_age(engine):
    clock = FrozenClock()
    _put(engine, clock, 3)
    clock.advance(timedelta(seconds=90))
    relay = OutboxRelay(engine, OutboxMessage, {}, clock=clock)
    stats = relay.stats()
    assert stats.pending == 3 and stats.oldest_pending_age_seconds == pytest.approx(90, abs=1)


def test_two_relays_in_parallel_deliver_each_message_once(engine):
    clock = FrozenClock()
    _put(engine, clock, 60)
    seen: list[str] = []
    lock = threading.Lock()

    def handler(payload, key):
        with lock:
            seen.append(key)

    relays = [OutboxRelay(engine, OutboxMessage, {"report": handler}, clock=clock, batch_size=7) for _ in range(2)]
    threads = [threading.Thread(target=r.drain) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(seen) == 60 and len(set(seen)) == 60
