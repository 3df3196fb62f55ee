"""feedback_api -> case_api: forwarded reports and the reporter's messages (docs/contracts.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse
from pydantic import Field

from services.case_api.deps import SlaDep
from services.case_api.domain import cases
from services.case_api.domain.models import IdempotencyKey
from shared import idempotency
from shared.api import SessionDep
from shared.auth import Principal, Role
from shared.errors import ValidationFailed, field_error
from shared.schemas.base import OutputModel
from shared.schemas.intake import CaseIntakeReceipt, ReporterMessage, ReportForward
from shared.web import ClockDep, problem_responses, require_roles

router = APIRouter(prefix="/v1/intake", tags=["intake"])
FeedbackService = Annotated[Principal, Depends(require_roles(Role.svc_feedback))]
IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


class MessageReceipt(OutputModel):
    message_id: str
    stored: bool = Field(description="False when this message was already stored (a redelivery).")


def _replayed(body: Any) -> JSONResponse:
    out = dict(body) if isinstance(body, dict) else body
    if isinstance(out, dict) and "created" in out:
        out["created"] = False
    return JSONResponse(out, status_code=200, headers={"Idempotent-Replayed": "true"})


@router.post(
    "/reports", status_code=201, response_model=CaseIntakeReceipt, operation_id="intake_report",
    summary="A violation report forwarded by feedback_api: a new case (201) or attached/replayed (200)",
    responses={200: {"model": CaseIntakeReceipt, "description": "Replay, or attached to the open case for "
                     "the same post"}, **problem_responses(401, 403, 413)},
)
def intake_report(body: ReportForward, session: SessionDep, clock: ClockDep, sla: SlaDep,
                  principal: FeedbackService, idempotency_key: IdemHeader = None) -> Any:
    key = idempotency.validate_key(idempotency_key)
    if key != body.report_id:
        raise ValidationFailed("The Idempotency-Key must be the report_id.",
                               errors=[field_error(["header", "Idempotency-Key"], "must equal report_id")])
    claim = idempotency.begin(session, IdempotencyKey, scope=principal.subject, key=key,
                              body=body.model_dump(mode="json"))
    if claim.replay is not None:
        return _replayed(claim.replay.body)
    case, created = cases.intake_report(session, report=body, actor=principal.subject, now=clock.now(), sla=sla)
    receipt = CaseIntakeReceipt(case_id=case.id, case_reference=case.reference, created=created)
    status = 201 if created else 200
    claim.finish(status=status, body=receipt.model_dump(mode="json"))
    return JSONResponse(receipt.model_dump(mode="json"), status_code=status)


@router.post(
    "/reports/{report_id}/messages", status_code=201, response_model=MessageReceipt,
    operation_id="intake_reporter_message",
    summary="A message the anonymous reporter wrote with their receipt (201 stored, 200 redelivery)",
    responses={200: {"model": MessageReceipt, "description": "Already stored"}, **problem_responses(401, 403, 404)},
)
def intake_reporter_message(
    body: ReporterMessage, session: SessionDep, clock: ClockDep, principal: FeedbackService,
    report_id: Annotated[str, Path(max_length=64)], idempotency_key: IdemHeader = None,
) -> Any:
    key = idempotency.validate_key(idempotency_key)
    claim = idempotency.begin(session, IdempotencyKey, scope=principal.subject, key=f"msg:{key}",
                              body={"report_id": report_id, **body.model_dump(mode="json")})
    if claim.replay is not None:
        return JSONResponse(claim.replay.body, status_code=200, headers={"Idempotent-Replayed": "true"})
    stored = cases.add_reporter_message(session, report_id=report_id, message=body, now=clock.now())
    out = MessageReceipt(message_id=body.message_id, stored=stored).model_dump(mode="json")
    status = 201 if stored else 200
    claim.finish(status=status, body=out)
    return JSONResponse(out, status_code=status)
