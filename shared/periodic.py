"""A daemon thread that calls a function every ``interval`` seconds until stopped (the first call
one interval after ``start``). Failures are logged and retried at the next interval. Used by the
retention purges of case_api and feedback_api; small on purpose (no scheduler library is needed
for "once a day, in this process")."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger("shared.periodic")


class Periodic:
    def __init__(self, name: str, interval: float, work: Callable[[], object]) -> None:
        self.name, self.interval, self.work = name, interval, work
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.work()
            except Exception as exc:  # noqa: BLE001 - retried at the next interval
                log.warning("periodic_work_failed", name=self.name, error=type(exc).__name__)
