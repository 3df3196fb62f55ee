"""Follow-up with the secret receipt alone: status, messages, erasing the contact email.

A wrong receipt gets the same 404 problem whatever exists. Every call counts against
``receipt`` (per client); every wrong receipt also counts against ``receipt_failures`` (per
client and overall), and once that is exhausted the endpoint answers 429 before looking.
"""

from __future__ import annotations

from fastapi import Depends, Request, Response

from services.feedback_api.deps import IntakeDep, LimiterDep, RelayDep, under_receipt_limits
from services.feedback_api.domain import follow_up
from services.feedback_api.schemas import MessageAccepted, ReceiptIn, ReceiptMessageIn, ReceiptStatus, receipt_view
from shared.ratelimit import rate_limit
from shared.web import ClockDep, DatabaseDep, problem_responses
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/receipts", tags=["receipts"], dependencies=[Depends(rate_limit("receipt"))])


@router.post("/status", operation_id="receipt_status", summary="Status and messages of your submission",
             responses=problem_responses(404, 429))
def status(body: ReceiptIn, request: Request, db: DatabaseDep, ctx: IntakeDep, limiter: LimiterDep) -> ReceiptStatus:
    view = under_receipt_limits(request, limiter, lambda: follow_up.receipt_status(
        db, ctx.receipts.hasher, receipt=body.receipt))
    return receipt_view(view)


@router.post("/messages", status_code=201, operation_id="receipt_send_message",
             summary="Send a message to the people handling your report", responses=problem_responses(404, 409, 429))
def send_message(body: ReceiptMessageIn, request: Request, db: DatabaseDep, ctx: IntakeDep, limiter: LimiterDep,
                 clock: ClockDep, relay: RelayDep) -> MessageAccepted:
    msg = under_receipt_limits(request, limiter, lambda: follow_up.send_message(
        db, ctx.receipts.hasher, receipt=body.receipt, body=body.body, now=clock.now()))
    relay.notify()
    return MessageAccepted(on=msg.sent_on)


@router.post("/contact/delete", status_code=204, operation_id="receipt_delete_contact",
             summary="Erase the email you gave (the City can then no longer write to you)",
             responses=problem_responses(404, 429))
def delete_contact(body: ReceiptIn, request: Request, db: DatabaseDep, ctx: IntakeDep,
                   limiter: LimiterDep) -> Response:
    under_receipt_limits(request, limiter, lambda: follow_up.delete_contact(
        db, ctx.receipts.hasher, receipt=body.receipt))
    return Response(status_code=204)
