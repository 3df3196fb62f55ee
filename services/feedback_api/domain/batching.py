"""Forwarding what reporters do in batches, at randomised times (issue 14, item 6).

A report reaching case_api 64-134 ms after the resident's POST can be matched against any CDN,
proxy or firewall log. So everything a reporter originates (``BATCHED_TOPICS``: the report, their
messages, evidence added later, a reconsideration request) waits in the outbox and leaves in a
batch: time is cut into windows of ``FORWARD_BATCH_WINDOW_SECONDS`` (``W``); what was written in
window ``k`` is released at ``start(k + 1) + offset(k)``, a moment inside the next window chosen
by ``HMAC-SHA256(key, k)`` (so every instance agrees on it without shared state, and nobody
without the key can predict it), and the relay then delivers the batch in random order
(``OutboxRelay(shuffle=True)``) with no ``X-Request-ID`` (a proxy's request id would link the two
logs). A report therefore reaches case_api between 0 and 2 W after it was filed, with the
others of its window, in an order unrelated to theirs; case_api keeps only the day anyway.

``W = 0`` (dev and tests) forwards at once, as before. Production defaults to 3600 s.
Rows held back stay in the outbox with their created/next-attempt times (feedback_api's own
database; deleted once delivered).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, or_

from services.feedback_api.domain.models import OutboxMessage

BATCHED_TOPICS = frozenset({"report.forward", "report.message", "report.evidence", "report.reconsideration"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Batching:
    window_seconds: int
    key: bytes

    @property
    def enabled(self) -> bool:
        return self.window_seconds > 0

    def window_start(self, index: int) -> datetime:
        return _EPOCH + timedelta(seconds=index * self.window_seconds)

    def index(self, at: datetime) -> int:
        return int((at - _EPOCH).total_seconds() // self.window_seconds)

    def offset(self, index: int) -> timedelta:
        """Where in the following window the batch of window ``index`` leaves (ms resolution)."""
        digest = hmac.new(self.key, f"batch:v1:{self.window_seconds}:{index}".encode(), hashlib.sha256).digest()
        return timedelta(milliseconds=int.from_bytes(digest[:8], "big") % (self.window_seconds * 1000))

    def release_at(self, index: int) -> datetime:
        return self.window_start(index + 1) + self.offset(index)

    def cutoff(self, now: datetime) -> datetime | None:
        """Rows written before this moment may leave now (None: no batching)."""
        if not self.enabled:
            return None
        k = self.index(now)
        return self.window_start(k) if now >= self.release_at(k - 1) else self.window_start(k - 1)

    def hold(self, now: datetime) -> Any:
        """The relay's extra claim condition (``OutboxRelay(hold=...)``)."""
        cutoff = self.cutoff(now)
        if cutoff is None:
            return None
        return or_(col(OutboxMessage.topic).not_in(sorted(BATCHED_TOPICS)), col(OutboxMessage.created_at) < cutoff)
