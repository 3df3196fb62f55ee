"""Batched forwarding at randomised times (issue 14 item 6), driven by the app clock: what reporters
send waits for its window's release moment, leaves together with its window, in random order, with
no request id; other messages are not held; 0 (dev and tests) forwards at once; production defaults
to an hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.feedback_api.domain.batching import Batching
from services.feedback_api.settings import FeedbackSettings
from shared.timeutil import FrozenClock
from tests.feedback_api.conftest import report_body

W = 3600
T0 = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def claimed_ids(app) -> list[str]:
    return [row.idempotency_key for row in app.state.relay.claim()]


def _delivered(databases, keys: list[str]) -> None:
    from sqlalchemy import delete

    from services.feedback_api.domain.models import OutboxMessage
    with databases["feedback_api"].engine.begin() as conn:
        conn.execute(delete(OutboxMessage).where(OutboxMessage.idempotency_key.in_(keys)))


async def _file(c, n: int) -> list[str]:
    refs = []
    for i in range(n):
        r = await c.post("/v1/reports", json=report_body(description=f"report {i}",
                                                          links=[f"https://facebook.com/abq/posts/{i}"]))
        assert r.status_code == 201, r.text
        refs.append(r.json()["reference"])
    return refs


async def test_reports_wait_for_their_windows_random_release_then_leave_together(fb_app, client, databases):
    clock = FrozenClock(T0 + timedelta(minutes=5))
    app = fb_app(clock=clock, forward_batch_window_seconds=W, outbox_enabled=False)
    c = client(app)
    batching: Batching = app.state.batching
    k = batching.index(clock.now())
    await _file(c, 2)
    clock.advance(timedelta(minutes=40))
    await _file(c, 1)  # same window, later
    assert claimed_ids(app) == []  # nothing leaves during its own window
    release = batching.release_at(k)
    assert batching.window_start(k + 1) <= release < batching.window_start(k + 2)
    clock.set(release - timedelta(milliseconds=1))
    assert claimed_ids(app) == []
    await _file(c, 1)  # written in window k + 1: waits for the next release
    clock.set(release)
    first_batch = claimed_ids(app)
    assert len(first_batch) == 3  # the three of window k, together
    _delivered(databases, first_batch)
    clock.set(batching.release_at(k + 1) - timedelta(milliseconds=1))
    assert claimed_ids(app) == []
    clock.set(batching.release_at(k + 1))
    assert len(claimed_ids(app)) == 1


async def test_release_moments_differ_between_windows_and_keys():
    a, b = Batching(window_seconds=W, key=b"k" * 32), Batching(window_seconds=W, key=b"x" * 32)
    offsets = {a.offset(i) for i in range(50)}
    assert len(offsets) > 45 and all(timedelta(0) <= o < timedelta(seconds=W) for o in offsets)
    assert [a.offset(i) for i in range(10)] != [b.offset(i) for i in range(10)]
    assert a.release_at(7) == Batching(window_seconds=W, key=b"k" * 32).release_at(7)  # every instance agrees
    assert Batching(window_seconds=0, key=b"k").cutoff(T0) is None


async def test_a_batch_leaves_in_random_order(fb_app, client, databases):
    clock = FrozenClock(T0)
    app = fb_app(clock=clock, forward_batch_window_seconds=W, outbox_enabled=False)
    c = client(app)
    await _file(c, 12)
    from sqlalchemy import select

    from services.feedback_api.domain.models import OutboxMessage
    with databases["feedback_api"].engine.connect() as conn:
        created = [k for (k,) in conn.execute(select(OutboxMessage.idempotency_key)
                                              .order_by(OutboxMessage.created_at, OutboxMessage.id))]
    clock.set(app.state.batching.release_at(app.state.batching.index(T0)))
    app.state.relay.batch_size = 50
    order = claimed_ids(app)
    assert sorted(order) == sorted(created) and order != created  # 1 chance in 12! of a false failure


async def test_no_window_forwards_at_once_and_production_defaults_to_an_hour(fb_app, client, databases, tmp_path):
    clock = FrozenClock(T0)
    app = fb_app(clock=clock, outbox_enabled=False)  # tests and dev: 0
    assert app.state.batching.window_seconds == 0 and app.state.relay.shuffle is False
    await _file(client(app), 1)
    assert len(claimed_ids(app)) == 1
    assert FeedbackSettings(mode="dev").forward_batch_window_seconds == 0
    prod: dict = {"contact_encryption_key": "A" * 43 + "=", "rate_limit_key_secret": "s" * 32,
                  "receipt_pepper": "p" * 32,
                  "auth": {"jwks_url": "https://idp.example/jwks", "issuer": "https://idp.example",
                           "token_url": "https://idp.example/token", "client_id": "feedback", "client_secret": "x"}}
    assert FeedbackSettings(mode="production", **prod).forward_batch_window_seconds == 3600
    assert FeedbackSettings(mode="production", forward_batch_window_seconds=600, **prod
                            ).forward_batch_window_seconds == 600
