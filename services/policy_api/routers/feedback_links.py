"""Residents' feedback in the policy record (issue 20 item 5): link a piece of policy feedback to the
version or review it informed (policy staff), and read those links (the public sees links to public
versions and to reviews, without the feedback's reference or who linked it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Depends, Request, Response
from pydantic import Field

from services.policy_api.domain import feedback_links
from services.policy_api.routers._common import (
    DEFAULT_LIMIT,
    PUBLIC_MAX_AGE,
    CatalogueReady,
    LimitQ,
    OffsetQ,
    OptionalPrincipal,
    is_staff,
    write_ctx,
)
from shared.auth import Principal, Role
from shared.caching import cached_json
from shared.errors import ValidationFailed, field_error
from shared.schemas.base import InputModel, OutputModel
from shared.schemas.page import Page
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["policies (staff)"], dependencies=[CatalogueReady])
PolicyStaff = Annotated[Principal, Depends(require_roles(Role.policy_editor, Role.policy_approver, Role.admin))]


class FeedbackLinkIn(InputModel):
    feedback_reference: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$",
                                    description="feedback_api's public reference of the feedback (F-XXXX-XXXX).")
    version_id: str | None = Field(default=None, max_length=64)
    review_id: str | None = Field(default=None, max_length=64)
    what_changed: str = Field(default="", max_length=feedback_links.MAX_WHAT_CHANGED,
                              description="What changed because of it (empty: it was considered, nothing changed).")


class FeedbackLinkOut(OutputModel):
    id: str
    policy_id: str
    target_type: Literal["version", "review"]
    target_id: str
    version_label: str | None
    reviewed_on: date | None
    what_changed: str
    feedback_received_on: date
    linked_at: datetime
    feedback_reference: str | None = Field(default=None, description="Only for staff callers.")
    linked_by: str | None = Field(default=None, description="Only for staff callers.")


def _out(r: feedback_links.LinkRow, *, staff: bool) -> FeedbackLinkOut:
    link = r.link
    return FeedbackLinkOut(id=link.id, policy_id=link.policy_id, target_type=link.target_type,
                           target_id=link.target_id, version_label=r.version_label, reviewed_on=r.reviewed_on,
                           what_changed=link.what_changed, feedback_received_on=link.feedback_received_on,
                           linked_at=link.linked_at, feedback_reference=link.feedback_reference if staff else None,
                           linked_by=link.linked_by if staff else None)


@router.post("/v1/policies/{policy_id}/feedback-links", operation_id="link_feedback", status_code=201,
             response_model=FeedbackLinkOut, responses=problem_responses(401, 403, 404, 409, 422, 503),
             summary="Link a resident's policy feedback to the version or review it informed (policy staff)")
def link_feedback(request: Request, policy_id: str, body: FeedbackLinkIn, db: DatabaseDep, clock: ClockDep,
                  principal: PolicyStaff) -> FeedbackLinkOut:
    if (body.version_id is None) == (body.review_id is None):
        raise ValidationFailed("Give version_id or review_id (one of them).",
                               errors=[field_error(["body", "version_id"], "give version_id or review_id")])
    target = feedback_links.Target.version if body.version_id else feedback_links.Target.review
    new = feedback_links.NewLink(feedback_reference=body.feedback_reference, target_type=target,
                                 target_id=body.version_id or body.review_id or "", what_changed=body.what_changed)
    row = feedback_links.link_feedback(db, write_ctx(request, principal, clock), policy_id=policy_id, new=new,
                                       lookup=request.app.state.feedback_source.lookup)
    return _out(row, staff=True)


@router.get("/v1/policies/{policy_id}/feedback-links", operation_id="list_feedback_links",
            response_model=Page[FeedbackLinkOut], responses=problem_responses(404),
            summary="Residents' feedback that informed this policy's versions and reviews, newest first")
def list_feedback_links(request: Request, policy_id: str, db: DatabaseDep, principal: OptionalPrincipal,
                        limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> Response:
    staff = is_staff(principal)
    rows, total = feedback_links.list_links(db, policy_id=policy_id, public=not staff, limit=limit, offset=offset)
    page = Page[FeedbackLinkOut].build([_out(r, staff=staff) for r in rows], total=total, limit=limit, offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)
