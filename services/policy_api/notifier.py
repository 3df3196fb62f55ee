"""policy_api's notifications (issue 17): a relay for its outbox (email, team chat, City systems' webhooks) and
the leased scheduler that runs ``domain.notifications`` every ``notify.poll_seconds``. Same
machinery as case_api's (``shared.notify_outbox``, ``shared.notify_scheduler``, ``shared.lease``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.policy_api.domain import notifications
from services.policy_api.domain.notification_models import OutboxMessage, SchedulerLease, WebhookSubscription
from services.policy_api.settings import PolicySettings
from shared.db import Database
from shared.notify_outbox import NotifyStats, handlers, pending_by_channel
from shared.notify_scheduler import LeasedScheduler
from shared.outbox import OutboxRelay
from shared.timeutil import Clock
from shared.webhooks import WEBHOOK
from shared.webhooks import handler as webhook_handler


def build_relay(settings: PolicySettings, db: Database, clock: Clock, stats: NotifyStats) -> OutboxRelay:
    topics = handlers(settings.notify, stats)
    topics[WEBHOOK] = webhook_handler(db, WebhookSubscription, clock=clock,
                                      allow_private=settings.notify.allow_private_targets,
                                      count=lambda ok: stats.count("webhook", ok))
    return OutboxRelay(db, OutboxMessage, topics, clock=clock, lease=timedelta(seconds=60))


class PolicyNotifier(LeasedScheduler):
    def __init__(self, settings: PolicySettings, db: Database, clock: Clock) -> None:
        rules = notifications.Rules(notify=settings.notify, review_to=tuple(settings.notify_review_to),
                                    review_notice_days=settings.notify_review_notice_days)

        def run(now: datetime) -> notifications.PassResult:
            return notifications.run_pass(db, rules=rules, now=now)

        super().__init__(db, SchedulerLease, name="notifications", clock=clock, run=run,
                         interval=settings.notify.poll_seconds, lease_seconds=settings.notify.lease_seconds,
                         enqueued=lambda r: r.enqueued)
        self.stats = NotifyStats(lambda: pending_by_channel(db, OutboxMessage))
