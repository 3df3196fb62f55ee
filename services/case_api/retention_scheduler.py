"""The scheduled purge: every ``retention_purge_seconds`` (a day by default; 0 disables it) the
retention schedule is applied (``domain/retention.purge``), and any public-records export a restart
interrupted is run again (``records_export.run_pending``). Same work as ``civicsocial cases purge``."""

from __future__ import annotations

import structlog

from services.case_api.domain import records_export, retention
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.periodic import Periodic
from shared.timeutil import Clock

log = structlog.get_logger("case_api.retention")


class RetentionScheduler(Periodic):
    def __init__(self, settings: CaseSettings, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self.schedule = retention.Schedule.from_overrides(settings.retention_days)  # a bad override fails at start
        super().__init__("retention-purge", settings.retention_purge_seconds, self.run_once)

    def run_once(self) -> None:
        report = retention.purge(self.db, schedule=self.schedule, now=self.clock.now())
        log.info("retention_purged", cases=len(report.cases_destroyed), contents=len(report.content_destroyed),
                 held=len(report.held), refused=len(report.refused), posts=report.posts_destroyed)
        from services.case_api import casefile_render  # WeasyPrint only when an export runs

        records_export.run_pending(self.db, clock=self.clock.now, render=casefile_render.pdf)
