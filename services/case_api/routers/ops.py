"""Operations: case_api's outbox (report events to feedback_api, revocations to policy_api) and
putting a dead message back in the queue, as feedback_api offers for its own (issue 21 item 11)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from services.case_api.domain.models import OutboxMessage
from shared import outbox
from shared.auth import Principal, Role
from shared.schemas.ops import OutboxDead, OutboxHealth
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["operations"])
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]


@router.get("/v1/ops/outbox", response_model=OutboxHealth, operation_id="outbox_status",
            summary="Delivery backlog to feedback_api and policy_api: pending, oldest pending age, dead messages",
            responses=problem_responses(401, 403))
def outbox_status(db: DatabaseDep, clock: ClockDep, principal: Admin) -> OutboxHealth:
    health = outbox.overview(db, OutboxMessage, now=clock.now())
    return OutboxHealth(pending=health.pending, dead=health.dead,
                        oldest_pending_age_seconds=health.oldest_pending_age_seconds,
                        dead_messages=[OutboxDead(id=d.id, topic=d.topic, attempts=d.attempts, last_error=d.last_error)
                                       for d in health.dead_messages])


@router.post("/v1/ops/outbox/{message_id}/retry", status_code=202, operation_id="outbox_retry",
             summary="Put a dead message back in the queue (after fixing what the receiver refused)",
             responses=problem_responses(401, 403, 404))
def outbox_retry(message_id: Annotated[str, Path(max_length=36, pattern=r"^[0-9A-Za-z-]{1,36}$")], db: DatabaseDep,
                 clock: ClockDep, request: Request, principal: Admin) -> dict[str, str]:
    outbox.retry_dead(db, OutboxMessage, message_id=message_id, now=clock.now())
    request.app.state.relay.notify()
    return {"id": message_id, "status": "queued"}
