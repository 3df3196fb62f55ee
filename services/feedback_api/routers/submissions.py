"""Filing a violation report (JSON, or multipart with evidence files) or policy feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from services.feedback_api.deps import IntakeDep, RelayDep
from services.feedback_api.domain import submissions as intake
from services.feedback_api.guard import SubmissionGate, submission_gate
from services.feedback_api.schemas import (
    FeedbackCreate,
    ReportCreate,
    SubmissionReceipt,
    feedback_input,
    report_input,
)
from shared.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed, field_error
from shared.schemas.intake import PublicStatus
from shared.web import ClockDep, DatabaseDep, problem_responses
from shared.web.routing import APIRouter

router = APIRouter(tags=["submissions"])


@dataclass
class ReportUpload:
    report: ReportCreate
    files: list[bytes]


def _validation_error(exc: ValidationError, prefix: list[str | int]) -> RequestValidationError:
    errors = []
    for e in exc.errors(include_url=False, include_input=False):
        errors.append({**e, "loc": (*prefix, *e.get("loc", ()))})
    return RequestValidationError(errors)


async def report_upload(request: Request) -> ReportUpload:
    """Parse ``POST /v1/reports``: a JSON body, or multipart with a ``report`` field (JSON) and up to
    ``max_files`` ``evidence`` files. The body size is already bounded by the kernel middleware."""
    settings = request.app.state.settings
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        raw = await request.body()
        try:
            return ReportUpload(ReportCreate.model_validate_json(raw or b"null"), [])
        except ValidationError as exc:
            raise _validation_error(exc, ["body"]) from exc
    if ctype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise UnsupportedMediaType("Send application/json, or multipart/form-data with a 'report' field.")
    form = await request.form(max_files=settings.max_files + 1, max_fields=5)
    try:
        unknown = sorted({k for k in form if k not in ("report", "evidence")})
        if unknown:
            raise ValidationFailed(
                "Unknown form fields.",
                errors=[field_error(["body", k[:50]], "extra fields not permitted", "extra_forbidden")
                        for k in unknown],
            )
        reports = form.getlist("report")
        if len(reports) != 1 or not isinstance(reports[0], str):
            raise ValidationFailed("Send exactly one 'report' field holding the report as JSON.",
                                   errors=[field_error(["body", "report"], "exactly one JSON text field")])
        try:
            report = ReportCreate.model_validate_json(reports[0])
        except ValidationError as exc:
            raise _validation_error(exc, ["body", "report"]) from exc
        uploads = form.getlist("evidence")
        if len(uploads) > settings.max_files:
            raise ValidationFailed(f"At most {settings.max_files} evidence files.",
                                   errors=[field_error(["body", "evidence"], f"at most {settings.max_files} files")])
        files: list[bytes] = []
        for i, up in enumerate(uploads):
            if not isinstance(up, UploadFile):
                raise ValidationFailed("Evidence must be sent as files.",
                                       errors=[field_error(["body", "evidence", i], "not a file")])
            data = await up.read(settings.max_file_bytes + 1)
            if len(data) > settings.max_file_bytes:
                raise PayloadTooLarge(f"Evidence file {i + 1} is larger than {settings.max_file_bytes} bytes.")
            files.append(data)
        return ReportUpload(report, files)
    finally:
        await form.close()


def _report_request_body() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/ReportCreate"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ref},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["report"],
                        "properties": {
                            "report": {"type": "string", "description": "ReportCreate as JSON text."},
                            "evidence": {"type": "array", "items": {"type": "string", "format": "binary"},
                                         "description": "JPEG, PNG, WebP, GIF or PDF; checked by content."},
                        },
                    }
                },
            },
        }
    }


def _created(created: intake.Created) -> SubmissionReceipt:
    return SubmissionReceipt(reference=created.reference, receipt=created.receipt or "",
                             kind=created.kind, status=PublicStatus.received)


GateDep = Annotated[SubmissionGate, Depends(submission_gate)]
PROOF_DOC = (" Under abnormal load, or past a client's own budget, the answer is 428 with a `challenge` and "
             "its `bits`: send again with `Proof-Of-Work: <challenge>:<nonce>`, where SHA-256 of "
             "`<challenge>:<nonce>` starts with `bits` zero bits.")


# ``gate`` comes first: admission is decided before the body is read.
@router.post(
    "/v1/reports", status_code=201, operation_id="create_report",
    summary="Report a potential violation (anonymous; returns a reference and a one-time receipt)",
    description="JSON, or multipart with evidence files." + PROOF_DOC,
    responses=problem_responses(413, 415, 428, 429), openapi_extra=_report_request_body(),
)
def create_report(gate: GateDep, upload: Annotated[ReportUpload, Depends(report_upload)], db: DatabaseDep,
                  ctx: IntakeDep, clock: ClockDep, relay: RelayDep) -> SubmissionReceipt:
    created = gate.run(lambda claim: intake.file_report(db, ctx, report=report_input(upload.report),
                                                        files=upload.files, decoy_allowed=gate.decoy_allowed(),
                                                        claim=claim, now=clock.now()))
    relay.notify()  # committed: wake the relay
    return _created(created)


@router.post(
    "/v1/feedback", status_code=201, operation_id="create_feedback",
    summary="Give feedback on a published policy (anonymous; returns a reference and a one-time receipt)",
    description=PROOF_DOC.strip(), responses=problem_responses(428, 429),
)
def create_feedback(gate: GateDep, body: FeedbackCreate, db: DatabaseDep, ctx: IntakeDep,
                    clock: ClockDep) -> SubmissionReceipt:
    return _created(gate.run(lambda claim: intake.file_feedback(db, ctx, feedback=feedback_input(body),
                                                                decoy_allowed=gate.decoy_allowed(), claim=claim,
                                                                now=clock.now())))
