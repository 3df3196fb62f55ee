"""The notification scheduler of case_api (issue 17): every ``notify.poll_seconds`` the instance
holding the ``notifications`` lease runs one pass (``domain.notifications``): events from the
audit chain, deadlines by the app clock, daily digests; then wakes the relay, which sends after
commit. With two instances, one runs the passes and the other waits for the lease to expire;
the ledger's unique keys make a pass safe even without it. Tests call ``tick()``."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.case_api.domain import notifications
from services.case_api.domain.models import OutboxMessage
from services.case_api.domain.notification_models import SchedulerLease
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.notify_outbox import NotifyStats, pending_by_channel
from shared.notify_scheduler import LeasedScheduler
from shared.timeutil import Clock

LEASE = "notifications"


def rules_of(settings: CaseSettings) -> notifications.Rules:
    return notifications.Rules(notify=settings.notify, sla_due_soon=timedelta(hours=settings.due_soon_hours))


class NotificationScheduler(LeasedScheduler):
    def __init__(self, settings: CaseSettings, db: Database, clock: Clock) -> None:
        rules = rules_of(settings)

        def run(now: datetime) -> notifications.PassResult:
            return notifications.run_pass(db, rules=rules, now=now)

        super().__init__(db, SchedulerLease, name=LEASE, clock=clock, run=run,
                         interval=settings.notify.poll_seconds, lease_seconds=settings.notify.lease_seconds,
                         enqueued=lambda r: r.enqueued)
        self.settings = settings
        self.stats = NotifyStats(lambda: pending_by_channel(db, OutboxMessage))
