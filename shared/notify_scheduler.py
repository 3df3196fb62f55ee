"""A background job that runs in one place at a time (issue 17): every ``interval`` seconds the
instance holding the lease ``name`` (``shared.lease``) runs ``run(now)`` with the app clock, then
wakes the relay when the pass enqueued something. case_api's and policy_api's notification
schedulers are this class with their own pass; tests call ``tick()``."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from shared.db import Database
from shared.lease import LeaseColumns, release, try_acquire
from shared.outbox import OutboxRelay
from shared.timeutil import Clock

log = structlog.get_logger("shared.notify_scheduler")


class LeasedScheduler:
    def __init__(self, db: Database, lease_table: type[LeaseColumns], *, name: str, clock: Clock,
                 run: Callable[[datetime], Any], interval: float, lease_seconds: float,
                 relay: OutboxRelay | None = None, enqueued: Callable[[Any], int] = lambda r: 1) -> None:
        self.db, self.lease_table, self.name, self.clock = db, lease_table, name, clock
        self.run, self.interval, self.lease_seconds, self.relay = run, interval, lease_seconds, relay
        self.enqueued = enqueued
        self.owner = str(uuid.uuid4())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> Any:
        """One pass if this instance holds (or takes) the lease; None otherwise."""
        now = self.clock.now()
        if not try_acquire(self.db, self.lease_table, name=self.name, owner=self.owner,
                           ttl=timedelta(seconds=self.lease_seconds), now=now):
            return None
        result = self.run(now)
        if self.relay is not None and self.enqueued(result):
            self.relay.notify()
        return result

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"scheduler-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is None:
            return
        self._thread.join(timeout)
        self._thread = None
        try:
            release(self.db, self.lease_table, name=self.name, owner=self.owner, now=self.clock.now())
        except Exception as exc:  # noqa: BLE001 - the lease simply expires
            log.warning("lease_release_failed", lease=self.name, error=type(exc).__name__)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - a failed pass is retried at the next interval
                log.warning("scheduled_pass_failed", lease=self.name, error=type(exc).__name__)
