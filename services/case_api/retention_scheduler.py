"""The scheduled purge: every ``retention_purge_seconds`` (a day by default; 0 disables it) the
retention schedule is applied (``domain/retention.purge``), and any public-records export a restart
interrupted is run again (``records_export.run_pending``). Same work as ``civicsocial cases purge``."""

from __future__ import annotations

import threading

import structlog

from services.case_api.domain import records_export, retention
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.timeutil import Clock

log = structlog.get_logger("case_api.retention")


class RetentionScheduler:
    def __init__(self, settings: CaseSettings, db: Database, clock: Clock) -> None:
        self.settings, self.db, self.clock = settings, db, clock
        self.schedule = retention.Schedule.from_overrides(settings.retention_days)  # a bad override fails at start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.retention_purge_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="retention-purge", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.retention_purge_seconds):
            try:
                report = retention.purge(self.db, schedule=self.schedule, now=self.clock.now())
                log.info("retention_purged", **{k: len(v) if isinstance(v, list) else v
                                                for k, v in report.as_dict().items() if k != "on"})
            except Exception as exc:  # noqa: BLE001 - retried at the next interval
                log.warning("retention_purge_failed", error=type(exc).__name__)
            try:
                from services.case_api import casefile_render

                records_export.run_pending(self.db, clock=self.clock.now, render=casefile_render.pdf)
            except Exception as exc:  # noqa: BLE001
                log.warning("records_export_resume_failed", error=type(exc).__name__)
