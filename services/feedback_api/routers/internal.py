"""For case_api only (token with ``service:case_api``): status/message events back for the receipt
view (a REST callback, idempotent per event id), the reporter's contact, and evidence files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Response
from fastapi.responses import JSONResponse

from services.feedback_api.deps import IntakeDep
from services.feedback_api.domain import handling
from services.feedback_api.schemas import ContactOut, EventAccepted
from shared.auth import Principal, Role
from shared.schemas.intake import ReportEvent
from shared.web import DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/internal", tags=["internal"])
CaseApi = Annotated[Principal, Depends(require_roles(Role.svc_case))]


@router.post("/reports/{report_id}/events", operation_id="report_event", response_model=EventAccepted,
             summary="case_api tells us a status change or a handler message (idempotent by event)",
             responses=problem_responses(401, 403, 404))
def report_event(
    report_id: str, body: ReportEvent, db: DatabaseDep, principal: CaseApi,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Any:
    result = handling.record_event(db, report_id=report_id[:64], event=body, scope=f"{principal.subject}:events",
                                   idempotency_key=idempotency_key)
    if result.replayed:
        return JSONResponse({**result.body, "applied": False}, status_code=result.status_code,
                            headers={"Idempotent-Replayed": "true"})
    return EventAccepted.model_validate(result.body)


@router.get("/reports/{report_id}/contact", operation_id="report_contact",
            summary="The reporter's email, for staff who need it (case_api audits the read)",
            responses=problem_responses(401, 403, 404))
def report_contact(report_id: str, db: DatabaseDep, ctx: IntakeDep, principal: CaseApi) -> ContactOut:
    return ContactOut(email=handling.reporter_contact(db, ctx.cipher, report_id=report_id[:64]))


@router.get("/evidence/{evidence_id}", operation_id="evidence_file",
            summary="An evidence file as stored (images re-encoded without metadata)",
            responses={**problem_responses(401, 403, 404), 200: {"content": {"application/octet-stream": {}}}})
def evidence_file(evidence_id: str, db: DatabaseDep, principal: CaseApi) -> Response:
    ev = handling.evidence_file(db, evidence_id=evidence_id[:64])
    return Response(
        content=ev.content, media_type=ev.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{ev.id}"',
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "X-Content-SHA256": ev.sha256,
        },
    )
