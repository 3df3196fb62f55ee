"""Staff and operations: policy feedback for policy staff, and the outbox's health for admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select, update

from services.feedback_api.deps import LimiterDep, RelayDep
from services.feedback_api.domain import submissions as svc
from services.feedback_api.domain.models import OutboxMessage
from services.feedback_api.domain.text import is_id
from services.feedback_api.schemas import ID_PATTERN, FeedbackStaffView, OutboxDead, OutboxStatus
from shared.api import SessionDep
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.schemas.page import DEFAULT_PAGE_SIZE, Limit, Offset, Page
from shared.web import ClockDep, problem_responses, require_roles

router = APIRouter(tags=["staff"])
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
PolicyStaff = Annotated[Principal, Depends(require_roles(Role.policy_editor, Role.policy_approver, Role.admin))]


@router.get("/v1/ops/outbox", operation_id="outbox_status",
            summary="Delivery backlog to case_api: pending, oldest pending age, dead messages",
            responses=problem_responses(401, 403))
def outbox_status(session: SessionDep, relay: RelayDep, limiter: LimiterDep, principal: Admin) -> OutboxStatus:
    stats = relay.stats()
    m: Any = OutboxMessage
    dead = session.execute(
        select(m.id, m.topic, m.attempts, m.last_error).where(m.dead.is_(True)).order_by(m.id).limit(100)
    ).all()
    return OutboxStatus(
        pending=stats.pending, dead=stats.dead, oldest_pending_age_seconds=stats.oldest_pending_age_seconds,
        dead_messages=[OutboxDead(id=r[0], topic=r[1], attempts=r[2], last_error=r[3]) for r in dead],
        ratelimit_backend=limiter.backend,
    )


@router.post("/v1/ops/outbox/{message_id}/retry", status_code=202, operation_id="outbox_retry",
             summary="Put a dead message back in the queue (after fixing what the receiver refused)",
             responses=problem_responses(401, 403, 404))
def outbox_retry(message_id: str, session: SessionDep, clock: ClockDep, relay: RelayDep,
                 principal: Admin) -> dict[str, str]:
    m: Any = OutboxMessage
    if not is_id(message_id):
        raise NotFound("No dead message with this id.")
    result = session.execute(
        update(m).where(m.id == message_id[:36], m.dead.is_(True))
        .values(dead=False, next_attempt_at=clock.now(), last_error=None)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("No dead message with this id.")
    relay.notify()
    return {"id": message_id, "status": "queued"}


@router.get("/v1/staff/feedback", operation_id="staff_feedback",
            summary="Policy feedback from the public, newest day first (no contact details)",
            responses=problem_responses(401, 403))
def staff_feedback(
    session: SessionDep, principal: PolicyStaff,
    policy_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
    limit: Annotated[Limit, Query()] = DEFAULT_PAGE_SIZE,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[FeedbackStaffView]:
    rows, total = svc.list_feedback(session, policy_id=policy_id, limit=limit, offset=offset)
    return Page[FeedbackStaffView].build([FeedbackStaffView.model_validate(r) for r in rows],
                                         total=total, limit=limit, offset=offset)
