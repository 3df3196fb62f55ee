"""Policy staff triage residents' policy feedback (issue 20 item 5): list (by policy and state), one
piece with its messages and history, transitions, replies through the receipt. Policy staff only
(``policy_editor``, ``policy_approver``, ``admin``): policy feedback reaches the people who write
policy, never any contact. policy_api reads a reference and the counts with its service token."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Path, Query
from pydantic import Field

from services.feedback_api.domain import feedback_triage, policy_feedback
from services.feedback_api.domain.models import Submission
from services.feedback_api.schemas import ID_PATTERN, FeedbackStaffView
from shared.auth import Principal, Role
from shared.schemas.base import InputModel, OutputModel
from shared.schemas.page import DEFAULT_PAGE_SIZE, Limit, Offset, Page
from shared.schemas.policy_feedback import PolicyFeedbackCount, PolicyFeedbackCounts, PolicyFeedbackRef
from shared.timeutil import as_utc
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["staff"])
PolicyStaff = Annotated[Principal, Depends(require_roles(Role.policy_editor, Role.policy_approver, Role.admin))]
PolicyApi = Annotated[Principal, Depends(require_roles(Role.svc_policy))]
Reference = Annotated[str, Path(description="The public reference (F-XXXX-XXXX); an odd one is 404.")]
StateName = Literal["received", "considered", "answered", "closed"]


class FeedbackItem(FeedbackStaffView):
    state: StateName


class TriageMessageOut(OutputModel):
    from_: Literal["reporter", "city"] = Field(serialization_alias="from", validation_alias="from_")
    body: str
    on: date


class TriageEventOut(OutputModel):
    seq: int
    action: str
    from_state: str
    to_state: str
    actor: str
    at: str
    note: str | None = None


class FeedbackDetailOut(FeedbackItem):
    allowed_actions: list[str]
    outcome_summary: str | None = None
    messages: list[TriageMessageOut] = Field(description="What the resident reads with their receipt.")
    history: list[TriageEventOut]


class TransitionIn(InputModel):
    action: Literal["consider", "close", "reopen"]
    note: str | None = Field(default=None, max_length=feedback_triage.MAX_NOTE,
                             description="For staff; never shown to the resident.")
    outcome: str | None = Field(default=None, max_length=feedback_triage.MAX_NOTE,
                                description="On close: shown to the resident on the status page.")


class ReplyIn(InputModel):
    body: str = Field(min_length=1, max_length=feedback_triage.MAX_REPLY,
                      description="The answer the resident reads with their receipt.")
    note: str | None = Field(default=None, max_length=feedback_triage.MAX_NOTE)


def _item(sub: Submission) -> FeedbackItem:
    return FeedbackItem(reference=sub.reference, policy_id=sub.policy_id, version_id=sub.version_id,
                        section_id=sub.section_id, text=sub.text, rating=sub.rating, received_on=sub.received_on,
                        reference_check=sub.reference_check, state=policy_feedback.state_of(sub))


def _detail(d: policy_feedback.FeedbackDetail) -> FeedbackDetailOut:
    base = _item(d.submission)
    return FeedbackDetailOut(
        **base.model_dump(), allowed_actions=feedback_triage.allowed(d.state),
        outcome_summary=d.submission.outcome_summary,
        messages=[TriageMessageOut(from_=m.sender, body=m.body, on=m.sent_on) for m in d.messages],
        history=[TriageEventOut(seq=e.seq, action=e.action, from_state=e.from_state, to_state=e.to_state,
                                actor=e.actor, at=as_utc(e.at).isoformat(), note=e.note) for e in d.events],
    )


@router.get("/v1/staff/feedback", operation_id="staff_feedback",
            summary="Policy feedback from the public, newest day first, by policy and triage state (no contact)",
            responses=problem_responses(401, 403))
def staff_feedback(
    db: DatabaseDep, principal: PolicyStaff,
    policy_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
    state: Annotated[StateName | None, Query()] = None,
    limit: Annotated[Limit, Query()] = DEFAULT_PAGE_SIZE,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[FeedbackItem]:
    rows, total = policy_feedback.list_feedback(db, policy_id=policy_id, state=state, limit=limit, offset=offset)
    return Page[FeedbackItem].build([_item(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/v1/staff/feedback/{reference}", operation_id="staff_feedback_detail",
            summary="One piece of policy feedback: its messages with the resident and its triage history",
            responses=problem_responses(401, 403, 404))
def staff_feedback_detail(reference: Reference, db: DatabaseDep, principal: PolicyStaff) -> FeedbackDetailOut:
    return _detail(policy_feedback.feedback_detail(db, reference=reference))


@router.post("/v1/staff/feedback/{reference}/transitions", operation_id="staff_feedback_transition",
             summary="Consider, close (with an outcome the resident sees) or reopen a piece of policy feedback",
             responses=problem_responses(401, 403, 404, 409, 422))
def staff_feedback_transition(reference: Reference, body: TransitionIn, db: DatabaseDep, clock: ClockDep,
                              principal: PolicyStaff) -> FeedbackDetailOut:
    return _detail(policy_feedback.transition(db, reference=reference, action=body.action, actor=principal.subject,
                                              now=clock.now(), note=body.note, outcome=body.outcome))


@router.post("/v1/staff/feedback/{reference}/replies", operation_id="staff_feedback_reply", status_code=201,
             summary="Answer the resident through their receipt (they read it on the status page)",
             responses=problem_responses(401, 403, 404, 409, 422))
def staff_feedback_reply(reference: Reference, body: ReplyIn, db: DatabaseDep, clock: ClockDep,
                         principal: PolicyStaff) -> FeedbackDetailOut:
    return _detail(policy_feedback.reply(db, reference=reference, body=body.body, actor=principal.subject,
                                         now=clock.now(), note=body.note))


@router.get("/v1/internal/policy-feedback/counts", operation_id="policy_feedback_counts",
            summary="For policy_api: feedback received per policy and triage state",
            responses=problem_responses(401, 403), tags=["internal"])
def policy_feedback_counts(db: DatabaseDep, principal: PolicyApi) -> PolicyFeedbackCounts:
    return PolicyFeedbackCounts(items=[PolicyFeedbackCount(policy_id=c.policy_id, state=c.state, count=c.count)
                                       for c in policy_feedback.counts(db)])


@router.get("/v1/internal/policy-feedback/{reference}", operation_id="policy_feedback_ref",
            summary="For policy_api: one piece of policy feedback by reference (no text, no contact)",
            responses=problem_responses(401, 403, 404), tags=["internal"])
def policy_feedback_ref(reference: Reference, db: DatabaseDep, principal: PolicyApi) -> PolicyFeedbackRef:
    sub = policy_feedback.feedback_ref(db, reference=reference)
    return PolicyFeedbackRef(reference=sub.reference, policy_id=sub.policy_id, version_id=sub.version_id,
                             state=policy_feedback.state_of(sub), received_on=sub.received_on)
