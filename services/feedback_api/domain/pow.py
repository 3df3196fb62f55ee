"""Signed, expiring challenges: hashcash-style proof of work, and the no-JavaScript form token.

A challenge is ``v1.<issued_at>.<bits>.<random>.<mac>``: the issue time (whole seconds), the
difficulty in leading zero bits, 96 random bits, and an HMAC-SHA256 over the rest with a key
derived from the rate-limit secret. The server keeps nothing until a challenge is spent, so
issuing costs no storage and cannot be flooded.

- **Proof of work** (widget): the browser looks for a ``nonce`` (decimal digits) such that
  ``SHA-256(challenge + ":" + nonce)`` starts with ``bits`` zero bits (2^bits tries on average,
  about a second at 16 bits with Web Crypto); the server checks it with one hash.
- **Form token** (``/report`` without JavaScript): the same signed string in a hidden field. It
  proves the form came from this server (cross-site forms, issue 21 item 6) without cookies, and
  its age lets the server admit a resident on a slower allowance without any script: a person
  takes longer than ``min_age`` to fill in a form.

Each challenge is spent once (``ReplayCache``, in process memory for the challenge's lifetime;
with several instances a challenge could be spent once per instance, which multiplies an
attacker's work saving by the instance count at most).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

VERSION = "v1"
MAX_NONCE_LENGTH = 24


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def work_digest(challenge: str, nonce: str) -> bytes:
    return hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()


def solve(challenge: str, bits: int) -> str:
    """What the widget does, in Python (tests, and any non-browser client)."""
    nonce = 0
    while leading_zero_bits(work_digest(challenge, str(nonce))) < bits:
        nonce += 1
    return str(nonce)


@dataclass(frozen=True)
class Challenge:
    text: str
    issued_at: int
    bits: int


class ReplayCache:
    """Challenges already spent, until they would have expired anyway. Bounded: past
    ``max_entries`` the oldest are dropped (they are then refused as expired soon after)."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def spend(self, key: str, expires_at: float, now: float) -> bool:
        """True the first time ``key`` is spent."""
        with self._lock:
            if len(self._spent) >= self._max or len(self._spent) % 1024 == 0:
                self._spent = {k: v for k, v in self._spent.items() if v > now}
                while len(self._spent) >= self._max:
                    self._spent.pop(next(iter(self._spent)))
            if key in self._spent:
                return False
            self._spent[key] = expires_at
            return True


class Challenges:
    def __init__(self, secret: bytes, *, bits: int, ttl_seconds: int, min_form_age_seconds: int = 0) -> None:
        self._key = hmac.new(secret, b"civicsocial:feedback_api:challenge:v1", hashlib.sha256).digest()
        self.bits = bits
        self.ttl = ttl_seconds
        self.min_form_age = min_form_age_seconds
        self.spent = ReplayCache()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:18])

    def issue(self, *, now: float | None = None, bits: int | None = None) -> Challenge:
        issued = int(time.time() if now is None else now)
        difficulty = self.bits if bits is None else bits
        payload = f"{VERSION}.{issued}.{difficulty}.{_b64(secrets.token_bytes(12))}"
        return Challenge(text=f"{payload}.{self._mac(payload)}", issued_at=issued, bits=difficulty)

    def parse(self, text: str | None, *, now: float | None = None) -> Challenge | None:
        """The challenge if it is ours, untampered and not expired; otherwise None."""
        if not text or len(text) > 120:
            return None
        payload, _, mac = text.rpartition(".")
        parts = payload.split(".")
        if len(parts) != 4 or parts[0] != VERSION or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        issued, bits = int(parts[1]), int(parts[2])
        current = time.time() if now is None else now
        if not (issued - 5 <= current <= issued + self.ttl):
            return None
        return Challenge(text=text, issued_at=issued, bits=bits)

    def _spend(self, found: Challenge, now: float | None) -> bool:
        current = time.time() if now is None else now
        return self.spent.spend(found.text, found.issued_at + self.ttl, current)

    def verify_work(self, proof: str | None, *, now: float | None = None) -> bool:
        """``proof`` is ``<challenge>:<nonce>``: valid, solved to at least the configured
        difficulty, and not spent before (it is spent now)."""
        if not proof:
            return False
        text, _, nonce = proof.strip().rpartition(":")
        found = self.parse(text, now=now)
        if found is None or found.bits < self.bits:
            return False
        if not nonce.isdigit() or len(nonce) > MAX_NONCE_LENGTH:
            return False
        if leading_zero_bits(work_digest(found.text, nonce)) < found.bits:
            return False
        return self._spend(found, now)

    def form_token_ok(self, token: str | None, *, now: float | None = None) -> bool:
        """A form token this server issued and that has not expired (not spent: a resident may
        have to correct the form and send it again)."""
        return self.parse(token, now=now) is not None

    def spend_slow_token(self, token: str | None, *, now: float | None = None) -> bool:
        """The no-JavaScript path under abnormal load: a form token at least ``min_form_age``
        seconds old, spent once."""
        found = self.parse(token, now=now)
        current = time.time() if now is None else now
        if found is None or current - found.issued_at < self.min_form_age:
            return False
        return self._spend(found, now)
