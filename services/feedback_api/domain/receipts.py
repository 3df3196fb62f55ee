"""Receipts: how an anonymous reporter follows up without an identity (GlobaLeaks-style).

A receipt is 16 random decimal digits (~53 bits) from ``secrets``, shown once and never stored.
The database keeps only ``argon2id(receipt, salt=HMAC(pepper, "receipt"))``. The salt is fixed
(derived from a server-side secret) because a reporter looks up by receipt alone: the hash must be
deterministic to be found through a unique index. A stolen database therefore still needs the
pepper, and then ~2^53 slow hashes per receipt; online guessing is rate limited hard.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

RECEIPT_DIGITS = 16
# Each hash takes ~19 MiB and one core for ~50 ms. The hashes run on a few dedicated threads, one
# per core: a burst queues instead of making every request thread hash at once (memory balloons,
# nothing finishes sooner), and only these threads ever hold the 19 MiB buffers. With a semaphore
# instead, each of up to 40 request threads kept its own malloc arena with a buffer in it: the
# bench saw RSS grow by 39-114 MiB per 10 s run at 32 connections and 59 MiB at 256.
_HASHERS = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="receipt-hash")
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
        raw = _HASHERS.submit(
            hash_secret_raw, receipt.encode(), self.salt, time_cost=self.time_cost, memory_cost=self.memory_kib,
            parallelism=1, hash_len=32, type=Type.ID,
        ).result()
        return HASH_PREFIX + raw.hex()


def new_receipt() -> str:
    """16 digits, uniformly random (leading zeros allowed)."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def normalise_receipt(value: str) -> str | None:
    """Accept the receipt as typed (spaces, dashes, dots between groups); ``None`` if it cannot be one."""
    digits = _SEPARATORS.sub("", value or "")
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits
