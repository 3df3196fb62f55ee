"""Webhook subscriptions for other City systems (issue 17), shared by every service that emits
notification events: the subscription table's columns, the admin use-cases (create, list,
rotate the secret, deactivate), the fan-out that enqueues one outbox message per subscriber in
the caller's transaction, and the relay handler that signs and sends it.

- Targets are checked when a subscription is created (``shared.notify.check_target``: https,
  no credentials, no private address) and resolved again at every send (``resolve_target``), so
  a name re-pointed at an internal address later is refused. ``allow_private`` (a setting, dev
  only) admits loopback over http.
- Bodies are ``shared.schemas.notifications.WebhookEvent``: an event type, a timestamp and public
  references (a case reference, a department, a policy number), never a name, reporter text or
  evidence; signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature``). ``webhook-id`` is the outbox message's id: stable across retries, so a
  receiver dedupes on it.
- Rotation: ``rotate`` makes a new secret; until ``previous_until`` each delivery carries two
  signatures (new and old, space-separated as the specification allows), so a receiver that
  still has the old secret keeps verifying while it is updated.
- Delivery goes through the outbox: retried with capped backoff while the receiver fails or
  answers 5xx/429, parked dead on any other 4xx (the ops endpoints list and retry it).

The secret is stored as given to the subscriber (it must be, to sign); it is shown once, when
created or rotated, and never listed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as secrets_module
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import Field as PField
from sqlmodel import JSON, Field, Session, SQLModel, col, func, select

from shared.db import Database
from shared.errors import NotFound, ValidationFailed, field_error
from shared.ids import new_id
from shared.notify import EventType, check_target, resolve_target, signed_headers
from shared.outbox import Delivery, OutboxColumns, PermanentFailure, Topic, enqueue
from shared.schemas.base import InputModel
from shared.schemas.notifications import WebhookEvent
from shared.timeutil import Clock, as_utc, utcnow

MAX_SUBSCRIPTIONS = 200


class WebhookSubscriptionColumns(SQLModel):
    """``class WebhookSubscription(Base, WebhookSubscriptionColumns, table=True):
    __tablename__ = "webhook_subscriptions"``."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    url: str = Field(max_length=2000)
    # sa_type, not sa_column: a mixin's Column object would be shared by every service's table
    events: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    description: str | None = Field(default=None, max_length=500)
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_until: datetime | None = None
    active: bool = True
    created_by: str = Field(max_length=100)
    created_at: datetime
    updated_at: datetime


class WebhookDeliveryMessage(InputModel):
    """The outbox message: which subscription, and the body it receives."""

    subscription_id: str = PField(max_length=36)
    event: WebhookEvent


WEBHOOK = Topic("webhook", "webhook", WebhookDeliveryMessage)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets_module.token_bytes(32)).decode()


def _check_events(events: Iterable[str], allowed: Iterable[EventType]) -> list[str]:
    allowed_values = {e.value for e in allowed}
    events = sorted(set(events))
    bad = [e for e in events if e not in allowed_values]
    if bad or not events:
        raise ValidationFailed("Unknown or missing event types.",
                               errors=[field_error(["body", "events"], f"not an event of this service: {e}")
                                       for e in bad] or [field_error(["body", "events"], "at least one")])
    return events


@dataclass(frozen=True)
class Created:
    subscription: WebhookSubscriptionColumns
    secret: str  # shown once


def create(db: Database, table: type[WebhookSubscriptionColumns], *, url: str, events: Iterable[str],
           allowed: Iterable[EventType], description: str | None, actor: str, now: datetime,
           allow_private: bool) -> Created:
    check_target(url, allow_private=allow_private)
    checked = _check_events(events, allowed)
    secret = new_secret()
    with db.write() as s:
        active = s.exec(select(func.count()).select_from(table).where(col(table.active).is_(True))).one()
        if int(active) >= MAX_SUBSCRIPTIONS:
            raise ValidationFailed(f"At most {MAX_SUBSCRIPTIONS} active subscriptions.")
        row = table(url=url, events=checked, description=description, secret=secret, created_by=actor,
                    created_at=now, updated_at=now)
        s.add(row)
        s.flush()
        return Created(subscription=row, secret=secret)


def list_page(db: Database, table: type[WebhookSubscriptionColumns], *, limit: int,
              offset: int) -> tuple[int, list[WebhookSubscriptionColumns]]:
    with db.read() as s:
        rows = s.exec(select(table, func.count().over()).order_by(col(table.created_at), col(table.id))
                      .limit(limit).offset(offset)).all()
        if not rows and offset:
            total = int(s.exec(select(func.count()).select_from(table)).one())
            return total, []
    return (int(rows[0][1]) if rows else 0), [r[0] for r in rows]


def _get(s: Session, table: type[WebhookSubscriptionColumns], subscription_id: str) -> WebhookSubscriptionColumns:
    row = s.get(table, subscription_id) if len(subscription_id) <= 36 else None
    if row is None:
        raise NotFound("No such subscription.")
    return row


def get(db: Database, table: type[WebhookSubscriptionColumns], *, subscription_id: str) -> WebhookSubscriptionColumns:
    with db.read() as s:
        return _get(s, table, subscription_id)


def rotate(db: Database, table: type[WebhookSubscriptionColumns], *, subscription_id: str, overlap: timedelta,
           now: datetime) -> Created:
    """A new secret; the old one keeps signing (beside the new) until ``now + overlap``."""
    secret = new_secret()
    with db.write() as s:
        row = _get(s, table, subscription_id)
        row.previous_secret, row.previous_until = row.secret, now + overlap
        row.secret, row.updated_at = secret, now
        s.add(row)
        s.flush()
        return Created(subscription=row, secret=secret)


def deactivate(db: Database, table: type[WebhookSubscriptionColumns], *, subscription_id: str,
               now: datetime) -> WebhookSubscriptionColumns:
    with db.write() as s:
        row = _get(s, table, subscription_id)
        row.active, row.updated_at = False, now
        s.add(row)
        s.flush()
        return row


def fan_out(s: Session, table: type[WebhookSubscriptionColumns], outbox: type[OutboxColumns],
            events: Iterable[tuple[str, WebhookEvent]], *, now: datetime,
            subscriptions: list[WebhookSubscriptionColumns] | None = None) -> int:
    """Enqueue, in the caller's transaction, one message per (event, subscriber of its type).
    ``events``: (occurrence key, body); the key makes the outbox idempotency key, so the same
    occurrence is never enqueued twice for a subscriber. Returns how many were enqueued."""
    subs = subscriptions if subscriptions is not None else list(
        s.exec(select(table).where(col(table.active).is_(True))))
    if not subs:
        return 0
    planned: list[tuple[str, str, WebhookEvent]] = []
    for key, body in events:
        for sub in subs:
            if body.type.value in sub.events:
                idem = "webhook:" + hashlib.sha256(f"{key}|{sub.id}".encode()).hexdigest()
                planned.append((idem, sub.id, body))
    if not planned:
        return 0
    keys = [p[0] for p in planned]
    done: set[str] = set()
    for i in range(0, len(keys), 500):
        done.update(s.exec(select(outbox.idempotency_key).where(col(outbox.idempotency_key).in_(keys[i:i + 500]))))
    n = 0
    for idem, sub_id, body in planned:
        if idem in done:
            continue
        done.add(idem)
        enqueue(s, outbox, WEBHOOK, WebhookDeliveryMessage(subscription_id=sub_id, event=body),
                idempotency_key=idem, now=now)
        n += 1
    return n


def handler(db: Database, table: type[WebhookSubscriptionColumns], *, clock: Clock, allow_private: bool,
            timeout: float = 10.0, count: Callable[[bool], None] | None = None,
            ) -> Callable[[Delivery[Any]], httpx.Response]:
    """The relay's handler for ``WEBHOOK``: the subscription is read at send time (a rotated
    secret or a deactivation applies to messages already queued). The signature's timestamp is
    the wall clock, not the app clock: receivers compare it with their own (5 minutes' tolerance);
    the rotation window is a rule, judged by the app clock."""

    def send(delivery: Delivery[WebhookDeliveryMessage]) -> httpx.Response:
        m = delivery.message
        with db.read() as s:
            sub = s.get(table, m.subscription_id)
            if sub is None or not sub.active:
                raise PermanentFailure("The subscription was removed.")
            url, secret, previous, until = sub.url, sub.secret, sub.previous_secret, sub.previous_until
        try:
            resolve_target(url, allow_private=allow_private)
        except (ValidationFailed, OSError) as exc:
            if count:
                count(False)
            raise PermanentFailure(f"webhook target refused: {type(exc).__name__}") from exc
        now = utcnow()
        payload = m.event.model_dump_json()
        headers = signed_headers(secret, message_id=delivery.id, timestamp=now, payload=payload)
        if previous and until and as_utc(until) > clock.now():
            old = signed_headers(previous, message_id=delivery.id, timestamp=now, payload=payload)
            headers["webhook-signature"] += " " + old["webhook-signature"]
        try:
            resp = httpx.post(url, content=payload.encode(), headers=headers, timeout=timeout, follow_redirects=False)
        except httpx.TransportError:
            if count:
                count(False)
            raise
        if count:
            count(resp.is_success)
        return resp

    return send
