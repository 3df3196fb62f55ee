"""feedback_api -> case_api: forwarded reports and the reporter's messages (docs/contracts.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Path
from fastapi.responses import JSONResponse
from pydantic import Field

from services.case_api.deps import SlaDep
from services.case_api.domain import intake
from shared.auth import Principal, Role
from shared.schemas.base import OutputModel
from shared.schemas.intake import CaseIntakeReceipt, ReporterMessage, ReportForward
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/intake", tags=["intake"])
FeedbackService = Annotated[Principal, Depends(require_roles(Role.svc_feedback))]
IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


class MessageReceipt(OutputModel):
    message_id: str
    stored: bool = Field(description="False when this message was already stored (a redelivery).")


def _response(answer: intake.Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


@router.post(
    "/reports", status_code=201, response_model=CaseIntakeReceipt, operation_id="intake_report",
    summary="A violation report forwarded by feedback_api: a new case (201) or attached/replayed (200)",
    responses={200: {"model": CaseIntakeReceipt, "description": "Replay, or attached to the open case for "
                     "the same post"}, **problem_responses(401, 403, 413)},
)
def intake_report(body: ReportForward, db: DatabaseDep, clock: ClockDep, sla: SlaDep,
                  principal: FeedbackService, idempotency_key: IdemHeader = None) -> Any:
    return _response(intake.intake_report(db, report=body, sender=principal.subject, idempotency_key=idempotency_key,
                                          now=clock.now(), sla=sla))


@router.post(
    "/reports/{report_id}/messages", status_code=201, response_model=MessageReceipt,
    operation_id="intake_reporter_message",
    summary="A message the anonymous reporter wrote with their receipt (201 stored, 200 redelivery)",
    responses={200: {"model": MessageReceipt, "description": "Already stored"}, **problem_responses(401, 403, 404)},
)
def intake_reporter_message(
    body: ReporterMessage, db: DatabaseDep, clock: ClockDep, principal: FeedbackService,
    report_id: Annotated[str, Path(max_length=64)], idempotency_key: IdemHeader = None,
) -> Any:
    return _response(intake.reporter_message(db, report_id=report_id, message=body, sender=principal.subject,
                                             idempotency_key=idempotency_key, now=clock.now()))
