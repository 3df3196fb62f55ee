"""feedback_api's scheduled purge (``domain/retention.py``): every ``retention_purge_seconds``."""

from __future__ import annotations

import structlog

from services.feedback_api.domain import retention
from services.feedback_api.settings import FeedbackSettings
from shared.db import Database
from shared.periodic import Periodic
from shared.timeutil import Clock

log = structlog.get_logger("feedback_api.retention")


def schedule_of(settings: FeedbackSettings) -> retention.Schedule:
    return retention.Schedule(content_days=settings.retention_content_days,
                              contact_days=settings.retention_contact_days,
                              evidence_days=settings.retention_evidence_days)


class RetentionScheduler(Periodic):
    def __init__(self, settings: FeedbackSettings, db: Database, clock: Clock) -> None:
        self.db, self.clock, self.schedule = db, clock, schedule_of(settings)
        super().__init__("feedback-retention", settings.retention_purge_seconds, self.run_once)

    def run_once(self) -> None:
        report = retention.purge(self.db, schedule=self.schedule, today=self.clock.now().date())
        log.info("retention_purged", contents=report.contents, contacts=report.contacts,
                 evidence_files=report.evidence_files)
