"""Operations: the outbox's health for admins (policy feedback for policy staff: routers/policy_feedback.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.feedback_api.deps import LimiterDep, RelayDep
from services.feedback_api.domain import ops
from services.feedback_api.schemas import OutboxStatus
from shared.auth import Principal, Role
from shared.schemas.ops import OutboxDead
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["staff"])
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]


@router.get("/v1/ops/outbox", operation_id="outbox_status",
            summary="Delivery backlog to case_api: pending, oldest pending age, dead messages",
            responses=problem_responses(401, 403))
def outbox_status(db: DatabaseDep, clock: ClockDep, limiter: LimiterDep, principal: Admin) -> OutboxStatus:
    overview = ops.outbox_overview(db, now=clock.now())
    return OutboxStatus(
        pending=overview.pending, dead=overview.dead, oldest_pending_age_seconds=overview.oldest_pending_age_seconds,
        dead_messages=[OutboxDead(id=d.id, topic=d.topic, attempts=d.attempts, last_error=d.last_error)
                       for d in overview.dead_messages],
        ratelimit_backend=limiter.backend,
    )


@router.post("/v1/ops/outbox/{message_id}/retry", status_code=202, operation_id="outbox_retry",
             summary="Put a dead message back in the queue (after fixing what the receiver refused)",
             responses=problem_responses(401, 403, 404))
def outbox_retry(message_id: str, db: DatabaseDep, clock: ClockDep, relay: RelayDep,
                 principal: Admin) -> dict[str, str]:
    ops.retry_dead(db, message_id=message_id, now=clock.now())
    relay.notify()
    return {"id": message_id, "status": "queued"}


# GET /v1/staff/feedback and the triage of policy feedback: routers/policy_feedback.py (issue 20 item 5)
