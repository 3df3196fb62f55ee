"""Background monitoring sync: every ``monitoring_sync_seconds`` the active accounts are read from
policy_api's registry, so a new account gets its first review and a retired one stops being
reviewed without anyone pressing a button. Same work as ``POST /v1/monitoring/sync``."""

from __future__ import annotations

import structlog

from services.case_api.domain import monitoring
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.http import ServiceClient
from shared.periodic import Periodic
from shared.timeutil import Clock

log = structlog.get_logger("case_api.scheduler")


def cadence_of(settings: CaseSettings) -> monitoring.Cadence:
    return monitoring.Cadence(default_days=settings.monitoring_cadence_days,
                              by_department=settings.monitoring_cadence_by_department,
                              grace_days=settings.monitoring_grace_days)


def sync_once(settings: CaseSettings, db: Database, peers: ServiceClient, clock: Clock) -> monitoring.SyncResult:
    return monitoring.sync(db, peers, now=clock.now(), cadence=cadence_of(settings), actor="service:case_api")


class MonitoringScheduler(Periodic):
    def __init__(self, settings: CaseSettings, db: Database, peers: ServiceClient, clock: Clock) -> None:
        self.settings, self.db, self.peers, self.clock = settings, db, peers, clock
        super().__init__("monitoring-sync", settings.monitoring_sync_seconds, self._tick)

    def _tick(self) -> None:
        try:  # missed cycles are marked and the next scheduled even when policy_api does not answer
            monitoring.roll_forward(self.db, now=self.clock.now(), cadence=cadence_of(self.settings))
        except Exception as exc:  # noqa: BLE001 - retried at the next interval
            log.warning("monitoring_roll_forward_failed", error=type(exc).__name__)
        result = sync_once(self.settings, self.db, self.peers, self.clock)
        log.info("monitoring_synced", active=result.active, added=len(result.added),
                 deactivated=len(result.deactivated))
