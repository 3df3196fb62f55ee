"""The notification scheduler of case_api (issue 17): every ``notify.poll_seconds`` the instance
holding the ``notifications`` lease (``shared.lease``) runs one pass (``domain.notifications``):
events from the audit chain, deadlines by the app clock, daily digests; then wakes the relay,
which sends after commit. With two instances, one runs the passes and the other waits for the
lease to expire; the ledger's unique keys make a pass safe even without it. Tests call ``tick()``."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import structlog

from services.case_api.domain import notifications
from services.case_api.domain.notification_models import SchedulerLease
from services.case_api.settings import CaseSettings
from shared.db import Database
from shared.lease import release, try_acquire
from shared.notify_outbox import NotifyStats
from shared.outbox import OutboxRelay
from shared.timeutil import Clock

log = structlog.get_logger("case_api.notifier")
LEASE = "notifications"


def rules_of(settings: CaseSettings) -> notifications.Rules:
    return notifications.Rules(notify=settings.notify, sla_due_soon=timedelta(hours=settings.due_soon_hours))


class NotificationScheduler:
    def __init__(self, settings: CaseSettings, db: Database, clock: Clock, relay: OutboxRelay | None = None) -> None:
        self.settings, self.db, self.clock, self.relay = settings, db, clock, relay
        self.rules = rules_of(settings)
        self.owner = str(uuid.uuid4())
        self.stats = NotifyStats(lambda: notifications.pending_by_channel(db))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> notifications.PassResult | None:
        """One pass if this instance holds (or takes) the lease; None otherwise."""
        now = self.clock.now()
        if not try_acquire(self.db, SchedulerLease, name=LEASE, owner=self.owner,
                           ttl=timedelta(seconds=self.settings.notify.lease_seconds), now=now):
            return None
        result = notifications.run_pass(self.db, rules=self.rules, now=now)
        if result.enqueued and self.relay is not None:
            self.relay.notify()
        return result

    def start(self) -> None:
        if self.settings.notify.poll_seconds <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="notification-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
            try:
                release(self.db, SchedulerLease, name=LEASE, owner=self.owner, now=self.clock.now())
            except Exception as exc:  # noqa: BLE001 - the lease simply expires
                log.warning("notification_lease_release_failed", error=type(exc).__name__)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.notify.poll_seconds):
            try:
                result = self.tick()
                if result is not None and result.notified:
                    log.info("notifications_dispatched", notified=result.notified, enqueued=result.enqueued,
                             digests=result.digests, recused=result.skipped_recused)
            except Exception as exc:  # noqa: BLE001 - a failed pass is retried at the next interval
                log.warning("notification_pass_failed", error=type(exc).__name__)
