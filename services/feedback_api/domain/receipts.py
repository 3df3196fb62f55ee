"""Receipts: how an anonymous reporter follows up without an identity (GlobaLeaks-style).

A receipt is 16 random decimal digits (~53 bits) from ``secrets``, shown once and never stored.
The database keeps only ``argon2id(receipt, salt=HMAC(pepper, "receipt"))``. The salt is fixed
(derived from a server-side secret) because a reporter looks up by receipt alone: the hash must be
deterministic to be found through a unique index. A stolen database therefore still needs the
pepper, and then ~2^53 slow hashes per receipt; online guessing is rate limited hard.

New receipts come from ``ReceiptPool``: made and hashed ahead of time while the process is idle,
held in memory only, each handed out once, so a burst of reports does not queue on argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog
from argon2.low_level import Type, hash_secret_raw

log = structlog.get_logger("feedback_api.receipts")

RECEIPT_DIGITS = 16
# Each hash takes ~19 MiB and one core for ~50 ms. The hashes run on a few dedicated threads, one
# per core: a burst queues instead of making every request thread hash at once (memory balloons,
# nothing finishes sooner), and only these threads ever hold the 19 MiB buffers. With a semaphore
# instead, each of up to 40 request threads kept its own malloc arena with a buffer in it: the
# bench saw RSS grow by 39-114 MiB per 10 s run at 32 connections and 59 MiB at 256.
HASH_THREADS = max(1, os.cpu_count() or 1)
_HASHERS = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="receipt-hash")
HASH_PREFIX = "a2id1$"  # bump when the parameters change (old hashes stay verifiable by their prefix)
_SEPARATORS = re.compile(r"[\s\-.]")


@dataclass(frozen=True)
class ReceiptHasher:
    pepper: bytes
    memory_kib: int = 19_456  # OWASP minimum for argon2id: m=19 MiB, t=2, p=1
    time_cost: int = 2

    def __post_init__(self) -> None:
        if len(self.pepper) < 16:
            raise ValueError("the receipt pepper must be at least 16 bytes")

    @property
    def salt(self) -> bytes:
        return hmac.new(self.pepper, b"receipt", hashlib.sha256).digest()

    def hash(self, receipt: str) -> str:
        """The stored form of a receipt, computed on the dedicated hash threads (a request waits)."""
        with _LOAD:
            return _HASHERS.submit(self.compute, receipt).result()

    def compute(self, receipt: str) -> str:
        """The hash, in the calling thread (the pool's filler uses this, at low priority)."""
        raw = hash_secret_raw(receipt.encode(), self.salt, time_cost=self.time_cost, memory_cost=self.memory_kib,
                              parallelism=1, hash_len=32, type=Type.ID)
        return HASH_PREFIX + raw.hex()


class _Load:
    """How many requests are waiting on a hash right now (the pool refills only at zero)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waiting = 0
        self.last_busy = 0.0

    def __enter__(self) -> None:
        with self._lock:
            self.waiting += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.waiting -= 1
            self.last_busy = time.monotonic()

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self.waiting else time.monotonic() - self.last_busy


_LOAD = _Load()


@dataclass(frozen=True)
class IssuedReceipt:
    receipt: str
    receipt_hash: str

    def __repr__(self) -> str:  # never in a log or a traceback
        return "IssuedReceipt(<secret>)"


class ReceiptPool:
    """Receipts generated and hashed ahead of time, so that a burst of reports does not wait on
    argon2id (about 50 ms of CPU each; issue 13 item 7).

    At most ``size`` pairs (receipt, hash) are held, in this process's memory only: never written
    to disk or the database before they are handed out, never logged. ``issue()`` hands each out
    once (under a lock); when the pool is empty it hashes inline as before, so the pool only ever
    removes waiting, never adds it. A background thread (``fillers`` of them) refills the pool
    while the process is idle: no request waiting on a hash for ``idle_seconds``, and at the lowest
    CPU priority the OS gives a thread (Linux), so under load the scheduler runs request threads
    first. One filler by default: each thread that hashes keeps a 19 MiB argon2 buffer in its own
    malloc arena for the life of the process (two fillers showed as +19 MiB in the bench's
    overload row), and one fills 1000 receipts in about 32 s of an idle core. A restarted process
    starts empty (receipts are not carried over) and refills when idle.
    """

    def __init__(self, hasher: ReceiptHasher, *, size: int, idle_seconds: float = 0.2,
                 fillers: int = 1) -> None:
        if size < 0:
            raise ValueError("the receipt pool size cannot be negative")
        self.hasher = hasher
        self.size = size
        self.idle_seconds = idle_seconds
        self.fillers = max(1, fillers)
        self._items: deque[IssuedReceipt] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def issue(self) -> IssuedReceipt:
        """A fresh receipt and its hash: pre-made if there is one, hashed now if not."""
        with self._lock:
            item = self._items.popleft() if self._items else None
        self._wake.set()
        if item is not None:
            return item
        receipt = new_receipt()
        return IssuedReceipt(receipt, self.hasher.hash(receipt))

    def fill(self, limit: int | None = None) -> int:
        """Make receipts until the pool is full (or ``limit`` are made); returns how many.
        Runs in the calling thread; the background filler calls it one receipt at a time."""
        made = 0
        while not self._stop.is_set() and (limit is None or made < limit):
            with self._lock:
                if len(self._items) >= self.size:
                    break
            receipt = new_receipt()
            item = IssuedReceipt(receipt, self.hasher.compute(receipt))
            with self._lock:
                if len(self._items) >= self.size:
                    break  # a concurrent fill got there first: the bound holds
                self._items.append(item)
            made += 1
        return made

    def start(self) -> None:
        if self.size == 0 or self._threads:
            return
        self._stop.clear()
        self._threads = [threading.Thread(target=self._run, name=f"receipt-pool-{n}", daemon=True)
                         for n in range(self.fillers)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _run(self) -> None:
        _lower_priority()
        if self._threads and threading.current_thread() is self._threads[0]:
            warm_hashers(self.hasher)
        while not self._stop.is_set():
            if len(self) >= self.size:
                self._wake.wait(5.0)
                self._wake.clear()
                continue
            idle = _LOAD.idle_for()
            if idle < self.idle_seconds:  # requests are hashing: leave them the CPU
                self._stop.wait(max(0.01, self.idle_seconds - idle))
                continue
            try:
                self.fill(limit=1)
            except Exception:  # never let the filler die; issue() falls back to inline hashing
                log.exception("receipt_pool_fill_failed")
                self._stop.wait(1.0)


def warm_hashers(hasher: ReceiptHasher) -> None:
    """One hash on every dedicated hash thread, at start: each keeps its 19 MiB argon2 buffer in
    its own malloc arena from then on, so the process reaches its working memory now rather than
    in the first burst that finds the pool empty (a container limit that is too small fails at
    start, and RSS stays flat under load). Costs one hash of CPU per thread. The tasks are
    submitted together and each takes ~30 ms, so each lands on its own thread (the executor
    starts a thread per task while none is idle)."""
    for future in [_HASHERS.submit(hasher.compute, new_receipt()) for _ in range(HASH_THREADS)]:
        future.result(timeout=60)


def _lower_priority() -> None:
    """Lowest scheduling priority for the calling thread (Linux: per-thread nice); best effort."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or not permitted
        pass


def new_receipt() -> str:
    """16 digits, uniformly random (leading zeros allowed)."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def normalise_receipt(value: str) -> str | None:
    """Accept the receipt as typed (spaces, dashes, dots between groups); ``None`` if it cannot be one."""
    digits = _SEPARATORS.sub("", value or "")
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits
