"""For case_api only (token with ``service:case_api``): status/message events back for the receipt
view (a REST callback, idempotent per event id), the reporter's contact, and evidence files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response
from fastapi.responses import JSONResponse

from services.feedback_api.deps import IntakeDep
from services.feedback_api.domain import submissions as svc
from services.feedback_api.domain.models import IdempotencyKey
from services.feedback_api.schemas import ContactOut, EventAccepted
from shared import idempotency
from shared.api import SessionDep
from shared.auth import Principal, Role
from shared.schemas.intake import PublicStatus, ReportEvent
from shared.web import problem_responses, require_roles

router = APIRouter(prefix="/v1/internal", tags=["internal"])
CaseApi = Annotated[Principal, Depends(require_roles(Role.svc_case))]


@router.post("/reports/{report_id}/events", operation_id="report_event",
             summary="case_api tells us a status change or a handler message (idempotent by event)",
             responses=problem_responses(401, 403, 404))
def report_event(
    report_id: str, body: ReportEvent, session: SessionDep, principal: CaseApi,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Any:
    sub = svc.get_report(session, report_id[:64])
    claim = idempotency.begin(session, IdempotencyKey, scope=f"{principal.subject}:events", key=idempotency_key,
                              body={"report_id": report_id, **body.model_dump(mode="json")})
    if claim.replay is not None:
        replayed = dict(claim.replay.body or {})
        replayed["applied"] = False
        return JSONResponse(replayed, status_code=claim.replay.status_code, headers={"Idempotent-Replayed": "true"})
    svc.apply_event(session, sub, body)
    out = EventAccepted(report_id=sub.id, status=PublicStatus(sub.status), applied=True)
    claim.finish(status=200, body=out.model_dump(mode="json"))
    return out


@router.get("/reports/{report_id}/contact", operation_id="report_contact",
            summary="The reporter's email, for staff who need it (case_api audits the read)",
            responses=problem_responses(401, 403, 404))
def report_contact(report_id: str, session: SessionDep, intake: IntakeDep, principal: CaseApi) -> ContactOut:
    return ContactOut(email=svc.read_contact(session, intake, report_id[:64]))


@router.get("/evidence/{evidence_id}", operation_id="evidence_file",
            summary="An evidence file as stored (images re-encoded without metadata)",
            responses={**problem_responses(401, 403, 404), 200: {"content": {"application/octet-stream": {}}}})
def evidence_file(evidence_id: str, session: SessionDep, principal: CaseApi) -> Response:
    ev = svc.get_evidence(session, evidence_id[:64])
    return Response(
        content=ev.content, media_type=ev.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{ev.id}"',
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "X-Content-SHA256": ev.sha256,
        },
    )
