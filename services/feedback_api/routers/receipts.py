"""Follow-up with the secret receipt alone: status, messages, erasing the contact email.

A wrong receipt gets the same 404 problem whatever exists. Every call counts against
``receipt`` (per client); every wrong receipt also counts against ``receipt_failures`` (per
client and overall), and once that is exhausted the endpoint answers 429 before looking.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from sqlmodel import Session

from services.feedback_api.deps import IntakeDep, LimiterDep, RelayDep
from services.feedback_api.domain import submissions as svc
from services.feedback_api.domain.models import Submission
from services.feedback_api.domain.submissions import IntakeContext
from services.feedback_api.schemas import MessageAccepted, MessageOut, ReceiptIn, ReceiptMessageIn, ReceiptStatus
from shared.api import ReadSessionDep, SessionDep
from shared.errors import NotFound
from shared.ratelimit import RateLimiter, rate_limit
from shared.schemas.intake import PublicStatus
from shared.web import problem_responses

router = APIRouter(prefix="/v1/receipts", tags=["receipts"], dependencies=[Depends(rate_limit("receipt"))])

WRONG_RECEIPT = "No submission matches this receipt. Check the 16 digits and try again."


def _lookup(
    request: Request, session: Session, intake: IntakeContext, limiter: RateLimiter, receipt: str
) -> Submission:
    limiter.check("receipt_failures", request)
    sub = svc.find_by_receipt(session, intake, receipt)
    if sub is None:
        limiter.hit("receipt_failures", request)
        raise NotFound(WRONG_RECEIPT)
    return sub


@router.post("/status", operation_id="receipt_status", summary="Status and messages of your submission",
             responses=problem_responses(404, 429))
def status(body: ReceiptIn, request: Request, session: ReadSessionDep, intake: IntakeDep,
           limiter: LimiterDep) -> ReceiptStatus:
    sub = _lookup(request, session, intake, limiter, body.receipt)
    return ReceiptStatus(
        reference=sub.reference, kind=sub.kind, status=PublicStatus(sub.status),
        outcome_summary=sub.outcome_summary if sub.status == PublicStatus.closed else None,
        messages=[MessageOut(from_=m.sender, body=m.body, on=m.sent_on)
                  for m in svc.messages_of(session, sub.id)],
        has_contact=svc.has_contact(session, sub.id),
    )


@router.post("/messages", status_code=201, operation_id="receipt_send_message",
             summary="Send a message to the people handling your report", responses=problem_responses(404, 409, 429))
def send_message(body: ReceiptMessageIn, request: Request, session: SessionDep, intake: IntakeDep,
                 limiter: LimiterDep, relay: RelayDep, background: BackgroundTasks) -> MessageAccepted:
    sub = _lookup(request, session, intake, limiter, body.receipt)
    msg = svc.add_reporter_message(session, intake, sub, body.body)
    background.add_task(relay.notify)
    return MessageAccepted(on=msg.sent_on)


@router.post("/contact/delete", status_code=204, operation_id="receipt_delete_contact",
             summary="Erase the email you gave (the City can then no longer write to you)",
             responses=problem_responses(404, 429))
def delete_contact(body: ReceiptIn, request: Request, session: SessionDep, intake: IntakeDep,
                   limiter: LimiterDep) -> Response:
    sub = _lookup(request, session, intake, limiter, body.receipt)
    svc.delete_contact(session, sub)
    return Response(status_code=204)
