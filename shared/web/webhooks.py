"""The admin API of webhook subscriptions (issue 17), one factory for every service that emits
notification events: ``router = webhook_router(WebhookSubscription, events=...)``. Admins
subscribe an https endpoint to event types; deliveries are signed per Standard Webhooks and go
through the service's outbox (its dead letters are on /v1/ops/outbox where the service has it).
The secret is shown once, on creation and on rotation. Settings: the service's ``notify``
(``shared.notify_outbox.NotifyConfig``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import Field

from shared import webhooks
from shared.auth import Principal, Role
from shared.notify import EventType
from shared.notify_outbox import NotifyConfig
from shared.schemas.base import InputModel, OutputModel
from shared.schemas.page import Page
from shared.web.deps import ClockDep, DatabaseDep, require_roles
from shared.web.problems import problem_responses
from shared.web.routing import APIRouter

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
SubId = Annotated[str, Path(max_length=36)]


class SubscriptionIn(InputModel):
    url: str = Field(max_length=2000, description="https only; no credentials; not a private address.")
    events: list[EventType] = Field(min_length=1, max_length=len(EventType))
    description: str | None = Field(default=None, max_length=500)


class SubscriptionOut(OutputModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    rotating_until: datetime | None = Field(description="Until then deliveries carry the previous signature too.")
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="whsec_…: shown this once. Verify deliveries with any Standard Webhooks library.")


def _out(row: webhooks.WebhookSubscriptionColumns) -> SubscriptionOut:
    return SubscriptionOut(id=row.id, url=row.url, events=list(row.events), description=row.description,
                           active=row.active, rotating_until=row.previous_until, created_at=row.created_at,
                           updated_at=row.updated_at)


def _notify(request: Request) -> NotifyConfig:
    config: NotifyConfig = request.app.state.settings.notify
    return config


def webhook_router(table: type[webhooks.WebhookSubscriptionColumns], *, events: Sequence[EventType]) -> APIRouter:
    router = APIRouter(prefix="/v1/webhooks/subscriptions", tags=["webhooks"])
    allowed = tuple(events)

    @router.post("", status_code=201, response_model=SubscriptionWithSecret,
                 operation_id="create_webhook_subscription",
                 summary="Subscribe a City system's endpoint to event types",
                 responses=problem_responses(401, 403, 422))
    def create(body: SubscriptionIn, db: DatabaseDep, clock: ClockDep, principal: Admin,
               request: Request) -> SubscriptionWithSecret:
        created = webhooks.create(db, table, url=body.url, events=[e.value for e in body.events], allowed=allowed,
                                  description=body.description, actor=principal.subject, now=clock.now(),
                                  allow_private=_notify(request).allow_private_targets)
        return SubscriptionWithSecret(**_out(created.subscription).model_dump(), secret=created.secret)

    @router.get("", response_model=Page[SubscriptionOut], operation_id="list_webhook_subscriptions",
                responses=problem_responses(401, 403))
    def list_subscriptions(db: DatabaseDep, principal: Admin, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                           offset: Annotated[int, Query(ge=0, le=10_000)] = 0) -> Page[SubscriptionOut]:
        total, rows = webhooks.list_page(db, table, limit=limit, offset=offset)
        return Page[SubscriptionOut].build([_out(r) for r in rows], total=total, limit=limit, offset=offset)

    @router.get("/{subscription_id}", response_model=SubscriptionOut, operation_id="get_webhook_subscription",
                responses=problem_responses(401, 403, 404))
    def get(subscription_id: SubId, db: DatabaseDep, principal: Admin) -> SubscriptionOut:
        return _out(webhooks.get(db, table, subscription_id=subscription_id))

    @router.post("/{subscription_id}/rotate", response_model=SubscriptionWithSecret,
                 operation_id="rotate_webhook_secret", summary="A new secret; the old one keeps signing for a while",
                 responses=problem_responses(401, 403, 404))
    def rotate(subscription_id: SubId, db: DatabaseDep, clock: ClockDep, principal: Admin,
               request: Request) -> SubscriptionWithSecret:
        rotated = webhooks.rotate(db, table, subscription_id=subscription_id,
                                  overlap=timedelta(hours=_notify(request).webhook_rotation_hours), now=clock.now())
        return SubscriptionWithSecret(**_out(rotated.subscription).model_dump(), secret=rotated.secret)

    @router.delete("/{subscription_id}", response_model=SubscriptionOut,
                   operation_id="deactivate_webhook_subscription",
                   summary="Stop deliveries (queued ones are parked dead)", responses=problem_responses(401, 403, 404))
    def deactivate(subscription_id: SubId, db: DatabaseDep, clock: ClockDep, principal: Admin) -> SubscriptionOut:
        return _out(webhooks.deactivate(db, table, subscription_id=subscription_id, now=clock.now()))

    return router
