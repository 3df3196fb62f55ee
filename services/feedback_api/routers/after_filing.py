"""After filing, with the receipt (issue 14 item 5): add evidence to an open report
(``POST /v1/receipts/evidence``, multipart: one ``receipt`` field and ``evidence`` files, checked by
the same real parsers as at filing), and ask once for a closed report to be reconsidered
(``POST /v1/receipts/reconsideration``). Same receipt rate limits and wrong-receipt answer as the
other receipt calls."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from services.feedback_api.deps import IntakeDep, LimiterDep, RelayDep, under_receipt_limits
from services.feedback_api.domain import after_filing
from services.feedback_api.schemas import PublicInput
from shared.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed, field_error
from shared.ratelimit import rate_limit
from shared.schemas.base import OutputModel
from shared.schemas.reporter import MAX_RECONSIDERATION_REASON
from shared.web import ClockDep, DatabaseDep, problem_responses
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/receipts", tags=["receipts"], dependencies=[Depends(rate_limit("receipt"))])


class EvidenceAdded(OutputModel):
    added: int
    on: date


class ReconsiderationIn(PublicInput):
    receipt: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=MAX_RECONSIDERATION_REASON,
                        description="Why the outcome should be looked at again.")


class ReconsiderationAccepted(OutputModel):
    on: date


async def _upload(request: Request) -> tuple[str, list[bytes]]:
    settings = request.app.state.settings
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedMediaType("Send multipart/form-data with a 'receipt' field and 'evidence' files.")
    form = await request.form(max_files=settings.max_files + 1, max_fields=3)
    try:
        unknown = sorted({k for k in form if k not in ("receipt", "evidence")})
        if unknown:
            raise ValidationFailed("Unknown form fields.", errors=[
                field_error(["body", k[:50]], "extra fields not permitted", "extra_forbidden") for k in unknown])
        receipts = form.getlist("receipt")
        if len(receipts) != 1 or not isinstance(receipts[0], str) or not 0 < len(receipts[0]) <= 40:
            raise ValidationFailed("Send exactly one 'receipt' field.",
                                   errors=[field_error(["body", "receipt"], "exactly one text field")])
        uploads = form.getlist("evidence")
        if len(uploads) > settings.max_files:
            raise ValidationFailed(f"At most {settings.max_files} evidence files at a time.",
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
        return str(receipts[0]), files
    finally:
        await form.close()


@router.post("/evidence", status_code=201, operation_id="receipt_add_evidence",
             summary="Add evidence files to your open report (multipart: receipt, evidence[])",
             responses=problem_responses(404, 409, 413, 415, 422, 429))
async def add_evidence(request: Request, db: DatabaseDep, ctx: IntakeDep, limiter: LimiterDep, clock: ClockDep,
                       relay: RelayDep) -> EvidenceAdded:
    receipt, files = await _upload(request)
    now = clock.now()
    added = await run_in_threadpool(under_receipt_limits, request, limiter, lambda: after_filing.add_evidence(
        db, ctx.receipts.hasher, ctx.evidence, receipt=receipt, files=files, now=now))
    relay.notify()
    return EvidenceAdded(added=added, on=now.date())


@router.post("/reconsideration", status_code=201, operation_id="receipt_request_reconsideration",
             summary="Ask, once, for your closed report to be reconsidered, with a reason",
             responses=problem_responses(404, 409, 422, 429))
def request_reconsideration(body: ReconsiderationIn, request: Request, db: DatabaseDep, ctx: IntakeDep,
                            limiter: LimiterDep, clock: ClockDep, relay: RelayDep) -> ReconsiderationAccepted:
    now = clock.now()
    under_receipt_limits(request, limiter, lambda: after_filing.request_reconsideration(
        db, ctx.receipts.hasher, receipt=body.receipt, reason=body.reason, now=now))
    relay.notify()
    return ReconsiderationAccepted(on=now.date())
