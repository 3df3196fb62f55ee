"""feedback_api -> case_api: what a reporter does after filing (issue 14 item 5): evidence added
later, and a closed report's one request for reconsideration. Idempotent on the sender's key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Path
from fastapi.responses import JSONResponse

from services.case_api.domain import intake, reporter_safety
from shared.auth import Principal, Role
from shared.schemas.reporter import ReconsiderationRequest, ReporterEvidence
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/intake", tags=["intake"])
FeedbackService = Annotated[Principal, Depends(require_roles(Role.svc_feedback))]
IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]
ReportId = Annotated[str, Path(max_length=64)]


def _response(answer: intake.Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


@router.post("/reports/{report_id}/evidence", status_code=201, operation_id="intake_reporter_evidence",
             summary="Evidence the reporter added after filing (201 stored, 200 redelivery)",
             responses=problem_responses(401, 403, 404, 422))
def intake_reporter_evidence(body: ReporterEvidence, report_id: ReportId, db: DatabaseDep, clock: ClockDep,
                             principal: FeedbackService, idempotency_key: IdemHeader = None) -> Any:
    return _response(reporter_safety.add_reporter_evidence(
        db, report_id=report_id, evidence=body, sender=principal.subject, idempotency_key=idempotency_key,
        now=clock.now()))


@router.post("/reports/{report_id}/reconsideration", status_code=201, operation_id="intake_reconsideration",
             summary="A closed report asks once for reconsideration (201 recorded, 200 redelivery or already asked)",
             responses=problem_responses(401, 403, 404))
def intake_reconsideration(body: ReconsiderationRequest, report_id: ReportId, db: DatabaseDep, clock: ClockDep,
                           principal: FeedbackService, idempotency_key: IdemHeader = None) -> Any:
    return _response(reporter_safety.request_reconsideration(
        db, report_id=report_id, request=body, sender=principal.subject, idempotency_key=idempotency_key,
        now=clock.now()))
