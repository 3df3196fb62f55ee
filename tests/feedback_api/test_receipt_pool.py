"""The receipt pool (issue 13 item 7): receipts made ahead of time in idle moments, held in memory
only, each handed out once, refilled in the background, bounded, and hashed inline when empty."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from services.feedback_api.domain.models import Submission
from services.feedback_api.domain.receipts import IssuedReceipt, ReceiptHasher, ReceiptPool
from tests.feedback_api.conftest import report_body
from tests.support.polling import wait_for

PEPPER = b"p" * 32


@pytest.fixture
def hasher() -> ReceiptHasher:
    return ReceiptHasher(PEPPER, memory_kib=64, time_cost=1)


def test_pool_hands_out_distinct_receipts_that_verify(hasher):
    pool = ReceiptPool(hasher, size=20)
    assert pool.fill() == 20 and len(pool) == 20
    with ThreadPoolExecutor(max_workers=8) as workers:
        issued = list(workers.map(lambda _: pool.issue(), range(20)))
    assert len(pool) == 0
    assert len({i.receipt for i in issued}) == 20 and len({i.receipt_hash for i in issued}) == 20
    for item in issued:
        assert len(item.receipt) == 16 and item.receipt.isdigit()
        assert item.receipt_hash == hasher.hash(item.receipt)  # what a lookup by receipt computes


def test_size_is_a_bound(hasher):
    pool = ReceiptPool(hasher, size=5)
    assert pool.fill() == 5
    assert pool.fill() == 0 and len(pool) == 5
    pool.issue()
    assert pool.fill(limit=10) == 1 and len(pool) == 5


def test_empty_pool_hashes_inline(hasher):
    for size in (0, 3):
        pool = ReceiptPool(hasher, size=size)
        item = pool.issue()  # nothing made ahead: hashed now
        assert item.receipt_hash == hasher.hash(item.receipt)
    disabled = ReceiptPool(hasher, size=0)
    disabled.start()  # size 0: no thread at all
    assert disabled._threads == [] and disabled.fill() == 0


def test_background_refill_when_idle(hasher):
    pool = ReceiptPool(hasher, size=10, idle_seconds=0.01, fillers=3)
    pool.start()
    try:
        assert len(pool._threads) == 3
        assert wait_for(lambda: len(pool) == 10, timeout=10, interval=0.01)
        taken = {pool.issue().receipt for _ in range(6)}
        assert wait_for(lambda: len(pool) == 10, timeout=10, interval=0.01)  # refilled after handing out
        later = {pool.issue().receipt for _ in range(10)}
        assert not taken & later  # each handed out once
        assert len(pool) <= 10  # three fillers, one bound
        assert wait_for(lambda: len(pool) == 10, timeout=10, interval=0.01)
        time.sleep(0.05)
        assert len(pool) == 10
    finally:
        pool.stop()
    assert pool._threads == []


def test_the_secret_is_not_in_its_repr(hasher):
    item = IssuedReceipt("1234567812345678", hasher.hash("1234567812345678"))
    assert "1234" not in repr(item) and item.receipt_hash not in repr(item)


async def test_reports_take_receipts_from_the_pool(fb_app, client, databases):
    app = fb_app(receipt_pool_size=3)
    pool: ReceiptPool = app.state.intake.receipts
    assert pool.fill() == 3
    c = client(app)
    receipts = []
    for _ in range(4):  # three from the pool, the fourth hashed inline
        r = await c.post("/v1/reports", json=report_body())
        assert r.status_code == 201
        receipts.append(r.json()["receipt"])
    assert len(pool) == 0 and len(set(receipts)) == 4
    for receipt in receipts:  # every one finds its report
        assert (await c.post("/v1/receipts/status", json={"receipt": receipt})).status_code == 200
    with app.state.db.read() as s:
        hashes = set(s.execute(select(Submission.receipt_hash)).scalars())
    assert len(hashes) == 4 and not any(r in h for r in receipts for h in hashes)


async def test_metrics_show_how_many_receipts_are_ready(fb_app, client):
    app = fb_app(receipt_pool_size=4)
    pool: ReceiptPool = app.state.intake.receipts
    c = client(app)
    assert "civicsocial_receipt_pool_ready 0.0" in (await c.get("/metrics")).text
    assert pool.fill(limit=3) == 3
    text = (await c.get("/metrics")).text
    assert "civicsocial_receipt_pool_ready 3.0" in text and "civicsocial_receipt_pool_size 4.0" in text


def test_every_hash_thread_is_warmed_once_at_start():
    """Each dedicated hash thread runs one hash when the pool starts, so each has its argon2 buffer
    before the first burst (RSS at its working size from the start)."""
    import threading
    from dataclasses import dataclass

    from services.feedback_api.domain.receipts import HASH_THREADS, warm_hashers

    seen: list[str] = []

    @dataclass(frozen=True)
    class Recording(ReceiptHasher):
        def compute(self, receipt: str) -> str:
            seen.append(threading.current_thread().name)
            return super().compute(receipt)

    warm_hashers(Recording(PEPPER))  # production cost (~30 ms a hash), as at start
    assert len(seen) == HASH_THREADS and len(set(seen)) == HASH_THREADS
    assert all(name.startswith("receipt-hash") for name in seen)
