"""Policy notifications (issue 17): who must acknowledge a newly published version, and which
policies are due for their scheduled review (R-24-89 §1.A.8).

One pass (run by the lease holder, ``services/policy_api/notifier.py``):
- **acknowledgement required**: for each policy's current published version, everyone it binds
  (explicit bindings and, where the policy says so, holders of posting privileges on active
  accounts: ``acknowledgements._bound_query``) who has not acknowledged that version hears once
  per version (``ack:<version>|<employee>``);
- **review due**: each policy whose next review falls within ``review_notice_days`` (overdue
  included) is announced once per due date to the records team (``POLICY_API_NOTIFY_REVIEW_TO``)
  and the team chat channel.

The reads come first (no transaction open while deciding), then one write unit records the
ledger rows and enqueues the messages; the ledger's unique key keeps a second pass, or a second
instance, from sending again. A message carries the policy's public identifier and a link, nothing
else. Addresses: an employee id that is an email, else ``<id>@<NOTIFY__EMAIL_DOMAIN>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select

from services.policy_api.domain import acknowledgements, reviews
from services.policy_api.domain.models import Acknowledgement, Policy, PolicyVersion
from services.policy_api.domain.notification_models import OutboxMessage, PolicyNotification, WebhookSubscription
from services.policy_api.domain.policies import PUBLISHED
from shared import webhooks
from shared.db import Database
from shared.notify import EventType
from shared.notify_outbox import NOTIFY_CHAT, NOTIFY_EMAIL, NotifyConfig
from shared.outbox import enqueue
from shared.schemas.notifications import NotificationLine, NotificationMessage, WebhookEvent

TEAM = "#team"
MAX_PER_PASS = 5000
IN_CHUNK = 500


@dataclass(frozen=True)
class Rules:
    notify: NotifyConfig
    review_to: tuple[str, ...] = ()
    review_notice_days: int = 30


@dataclass
class PassResult:
    notified: int = 0
    enqueued: int = 0
    by_event: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Planned:
    key: str
    event: EventType
    recipient: str
    reference: str
    link: str
    occurrence: str = ""  # without the recipient: what a subscribed City system hears once


def _link(rules: Rules, policy_id: str) -> str:
    return f"{rules.notify.console_url.rstrip('/')}/policies/{policy_id}"


def _acknowledgements_due(db: Database, rules: Rules) -> list[_Planned]:
    out: list[_Planned] = []
    with db.read() as s:
        current = s.exec(select(Policy, PolicyVersion).join(PolicyVersion, col(PolicyVersion.policy_id) == Policy.id)
                         .where(col(PolicyVersion.state) == PUBLISHED).order_by(col(Policy.identifier))).all()
        for policy, version in current:
            bound = acknowledgements._bound_query(policy)
            acked = select(Acknowledgement.employee_id).where(Acknowledgement.version_id == version.id)
            missing = bound.having(bound.selected_columns.employee_id.not_in(acked))
            for employee_id, _, _ in s.exec(missing.order_by(bound.selected_columns.employee_id)
                                            .limit(MAX_PER_PASS)).all():
                out.append(_Planned(key=f"ack:{version.id}|{employee_id}", event=EventType.acknowledgement_required,
                                    recipient=employee_id, reference=policy.identifier,
                                    link=_link(rules, policy.id), occurrence=f"ack:{version.id}"))
            if len(out) >= MAX_PER_PASS:
                break
    return out


def _reviews_due(db: Database, rules: Rules, today: date) -> list[_Planned]:
    due = reviews.reviews_due(db, today=today, within_days=rules.review_notice_days, limit=500, offset=0)
    out: list[_Planned] = []
    for row in due.rows:
        status = reviews.status_of(row, today)
        occurrence = f"review:{row.policy.id}:{status.next_review_due.isoformat() if status.next_review_due else ''}"
        for recipient in (*rules.review_to, TEAM):
            out.append(_Planned(key=f"{occurrence}|{recipient}", event=EventType.policy_review_due,
                                recipient=recipient, reference=row.policy.identifier,
                                link=_link(rules, row.policy.id), occurrence=occurrence))
    return out


def _outbox_key(kind: str, key: str) -> str:
    return f"notify:{kind}:" + hashlib.sha256(key.encode()).hexdigest()


def run_pass(db: Database, *, rules: Rules, now: datetime) -> PassResult:
    result = PassResult()
    planned = _acknowledgements_due(db, rules) + _reviews_due(db, rules, now.date())
    if not planned:
        return result
    with db.write() as s:
        # subscribed City systems: once per occurrence (a version to acknowledge, a review due), never per person
        bodies = {p.occurrence: WebhookEvent(type=p.event, timestamp=now, data={
            "reference": p.reference, "link": p.link}) for p in planned}
        result.enqueued += webhooks.fan_out(s, WebhookSubscription, OutboxMessage, bodies.items(), now=now)
        keys = [p.key for p in planned]
        done: set[str] = set()
        for i in range(0, len(keys), IN_CHUNK):
            done.update(s.exec(select(PolicyNotification.key)
                               .where(col(PolicyNotification.key).in_(keys[i:i + IN_CHUNK]))))
        for p in planned:
            if p.key in done:
                continue
            done.add(p.key)
            line = NotificationLine(event=p.event, reference=p.reference, link=p.link)
            sent = False
            if p.recipient == TEAM:
                if rules.notify.chat_on:
                    enqueue(s, OutboxMessage, NOTIFY_CHAT, NotificationMessage(channel="chat", line=line),
                            idempotency_key=_outbox_key("chat", p.key), now=now)
                    sent = True
            else:
                address = rules.notify.address_of(p.recipient)
                if address and rules.notify.email_on:
                    enqueue(s, OutboxMessage, NOTIFY_EMAIL, NotificationMessage(channel="email", to=address, line=line),
                            idempotency_key=_outbox_key("email", p.key), now=now)
                    sent = True
            result.enqueued += int(sent)
            s.add(PolicyNotification(key=p.key, event=p.event.value, recipient=p.recipient[:200],
                                     reference=p.reference, sent=sent, created_at=now))
            result.notified += 1
            result.by_event[p.event.value] = result.by_event.get(p.event.value, 0) + 1
    return result
