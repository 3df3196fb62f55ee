"""Policies and their versions: public reads (published only; staff tokens see drafts too),
staff writes through the version lifecycle."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from services.policy_api import views
from services.policy_api.domain import policies
from services.policy_api.domain.state_machine import Action
from services.policy_api.routers._common import (
    APPROVERS,
    DEFAULT_LIMIT,
    EDITORS,
    PUBLIC_MAX_AGE,
    PUBLISHERS,
    REVIEWERS,
    STAFF,
    CatalogueReady,
    LimitQ,
    OffsetQ,
    is_staff,
    write_ctx,
)
from services.policy_api.schemas import (
    CompletenessOut,
    DiffOut,
    DueReview,
    HistoryEvent,
    PolicyCreate,
    PolicyKind,
    PolicyOut,
    PolicySummary,
    PolicyUpdate,
    PublishIn,
    ReviewIn,
    ReviewOut,
    ReviewStatusOut,
    SectionAdd,
    SectionIn,
    SectionOut,
    SectionUpdate,
    TransitionIn,
    VersionCreate,
    VersionOut,
    VersionSummary,
    VersionUpdate,
)
from shared.api import SessionDep
from shared.auth import Principal
from shared.caching import cached_json
from shared.errors import Forbidden, Unauthorized
from shared.schemas.page import Page
from shared.web import ClockDep, OptionalPrincipalDep, problem_responses, require_roles

router = APIRouter(tags=["policies"], dependencies=[CatalogueReady])
staff_router = APIRouter(tags=["policies (staff)"], dependencies=[CatalogueReady])


def _enum(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


# --- public reads -------------------------------------------------------------------------


@router.get("/v1/policies", operation_id="list_policies", response_model=Page[PolicySummary],
            responses=problem_responses(401, 403),
            summary="Published policies with their current version and review status (public)")
def list_policies(
    request: Request, session: SessionDep, clock: ClockDep, principal: OptionalPrincipalDep,
    kind: PolicyKind | None = None, limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
    include_unpublished: bool = Query(default=False, description="Staff only: also policies never published."),
) -> Response:
    if include_unpublished and not is_staff(principal):
        raise Unauthorized("Unpublished policies are for staff.") if principal is None else Forbidden()
    rows, total = policies.list_policies(session, public=not include_unpublished, kind=_enum(kind), limit=limit,
                                         offset=offset)
    today = clock.now().date()
    page = Page[PolicySummary].build([views.policy_summary(session, p, today) for p in rows], total=total,
                                     limit=limit, offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}", operation_id="get_policy", response_model=PolicyOut,
            responses=problem_responses(404), summary="A policy, its current version, versions and review status")
def get_policy(request: Request, policy_id: str, session: SessionDep, clock: ClockDep,
               principal: OptionalPrincipalDep) -> Response:
    staff = is_staff(principal)
    policy = policies.get_policy(session, policy_id, public=not staff)
    return cached_json(request, views.policy_out(session, policy, clock.now().date(), staff=staff),
                       max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/versions", operation_id="list_versions", response_model=Page[VersionSummary],
            responses=problem_responses(404), summary="The policy's versions, newest first")
def list_versions(request: Request, policy_id: str, session: SessionDep, principal: OptionalPrincipalDep,
                  limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> Response:
    staff = is_staff(principal)
    policy = policies.get_policy(session, policy_id, public=not staff)
    rows, total = policies.list_versions(session, policy.id, public=not staff, limit=limit, offset=offset)
    page = Page[VersionSummary].build([views.version_summary(v) for v in rows], total=total, limit=limit,
                                      offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/versions/{version_id}", operation_id="get_version",
            response_model=VersionOut, responses=problem_responses(404),
            summary="One version with its sections (Markdown and sanitised HTML)")
def get_version(request: Request, policy_id: str, version_id: str, session: SessionDep,
                principal: OptionalPrincipalDep) -> Response:
    staff = is_staff(principal)
    version = policies.get_version(session, policy_id, version_id, public=not staff)
    # A published version never changes: caches may keep it longer.
    max_age = 3600 if version.state in ("published", "superseded", "retired") else 0
    return cached_json(request, views.version_out(session, version, staff=staff), max_age=max_age)


@router.get("/v1/policies/{policy_id}/versions/{version_id}/completeness", operation_id="get_completeness",
            response_model=CompletenessOut, responses=problem_responses(404),
            summary="The R-24-89 checklist: which sections cover each required element")
def get_completeness(request: Request, policy_id: str, version_id: str, session: SessionDep,
                     principal: OptionalPrincipalDep) -> Response:
    staff = is_staff(principal)
    policy = policies.get_policy(session, policy_id, public=not staff)
    version = policies.get_version(session, policy.id, version_id, public=not staff)
    return cached_json(request, views.completeness_out(session, policy, version), max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/diff", operation_id="diff_versions", response_model=DiffOut,
            responses=problem_responses(404),
            summary="Section-by-section differences between two versions, with unified text diffs")
def diff_versions(
    request: Request, policy_id: str, session: SessionDep, principal: OptionalPrincipalDep,
    from_version: str = Query(alias="from", max_length=64), to_version: str = Query(alias="to", max_length=64),
) -> Response:
    staff = is_staff(principal)
    policies.get_policy(session, policy_id, public=not staff)
    out = views.diff_out(session, policy_id, from_version, to_version, public=not staff)
    return cached_json(request, out, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/review", operation_id="get_review_status", response_model=ReviewStatusOut,
            responses=problem_responses(404), summary="When the policy is next due for review, and whether overdue")
def get_review_status(request: Request, policy_id: str, session: SessionDep, clock: ClockDep,
                      principal: OptionalPrincipalDep) -> Response:
    policy = policies.get_policy(session, policy_id, public=not is_staff(principal))
    out = views.review_status_out(session, policy, clock.now().date(), policies.current_version(session, policy.id))
    return cached_json(request, out, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/reviews", operation_id="list_reviews", response_model=Page[ReviewOut],
            responses=problem_responses(404), summary="Recorded reviews, newest first")
def list_reviews(request: Request, policy_id: str, session: SessionDep, principal: OptionalPrincipalDep,
                 limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> Response:
    staff = is_staff(principal)
    policy = policies.get_policy(session, policy_id, public=not staff)
    rows, total = policies.list_reviews(session, policy.id, limit=limit, offset=offset)
    page = Page[ReviewOut].build([views.review_out(r, staff=staff) for r in rows], total=total, limit=limit,
                                 offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/history", operation_id="get_history", response_model=Page[HistoryEvent],
            responses=problem_responses(404),
            summary="Publications, supersessions, retirements and reviews, newest first")
def get_history(request: Request, policy_id: str, session: SessionDep, principal: OptionalPrincipalDep,
                limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> Response:
    policy = policies.get_policy(session, policy_id, public=not is_staff(principal))
    events = views.history(session, policy.id)
    page = Page[HistoryEvent].build(events[offset:offset + limit], total=len(events), limit=limit, offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


# --- staff writes ---------------------------------------------------------------------------


@staff_router.post("/v1/policies", operation_id="create_policy", status_code=201, response_model=PolicyOut,
                   responses=problem_responses(401, 403, 409), summary="Create a policy (editors)")
def create_policy(request: Request, body: PolicyCreate, session: SessionDep, clock: ClockDep,
                  principal: Principal = Depends(require_roles(*EDITORS))) -> PolicyOut:
    data = body.model_dump()
    data["kind"] = _enum(body.kind)
    if data.get("review_interval_months") is None:
        data["review_interval_months"] = request.app.state.settings.review_interval_months
    policy = policies.create_policy(session, write_ctx(request, principal, clock), data)
    return views.policy_out(session, policy, clock.now().date(), staff=True)


@staff_router.patch("/v1/policies/{policy_id}", operation_id="update_policy", response_model=PolicyOut,
                    responses=problem_responses(401, 403, 404, 409), summary="Change a policy's metadata (editors)")
def update_policy(request: Request, policy_id: str, body: PolicyUpdate, session: SessionDep, clock: ClockDep,
                  principal: Principal = Depends(require_roles(*EDITORS))) -> PolicyOut:
    changes = {k: _enum(v) for k, v in body.model_dump(exclude_unset=True).items()}
    policy = policies.update_policy(session, write_ctx(request, principal, clock), policy_id, changes)
    return views.policy_out(session, policy, clock.now().date(), staff=True)


@staff_router.post("/v1/policies/{policy_id}/versions", operation_id="create_version", status_code=201,
                   response_model=VersionOut, responses=problem_responses(401, 403, 404, 409),
                   summary="Start a new draft version (from the latest version's sections unless given)")
def create_version(request: Request, policy_id: str, body: VersionCreate, session: SessionDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*EDITORS))) -> VersionOut:
    data = body.model_dump(exclude_unset=True)
    if body.sections is not None:
        data["sections"] = [s.model_dump() for s in body.sections]
    version = policies.create_version(session, write_ctx(request, principal, clock), policy_id, data)
    return views.version_out(session, version, staff=True)


@staff_router.patch("/v1/policies/{policy_id}/versions/{version_id}", operation_id="update_version",
                    response_model=VersionOut, responses=problem_responses(401, 403, 404, 409),
                    summary="Change a draft's label, effective date or change summary")
def update_version(request: Request, policy_id: str, version_id: str, body: VersionUpdate, session: SessionDep,
                   clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> VersionOut:
    version = policies.update_version(session, write_ctx(request, principal, clock), policy_id, version_id,
                                      body.model_dump(exclude_unset=True))
    return views.version_out(session, version, staff=True)


@staff_router.put("/v1/policies/{policy_id}/versions/{version_id}/sections", operation_id="replace_sections",
                  response_model=list[SectionOut], responses=problem_responses(401, 403, 404, 409),
                  summary="Replace all sections of a draft")
def replace_sections(request: Request, policy_id: str, version_id: str, body: list[SectionIn], session: SessionDep,
                     clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> list[SectionOut]:
    rows = policies.replace_sections(session, write_ctx(request, principal, clock), policy_id, version_id,
                                     [s.model_dump() for s in body])
    return [SectionOut.model_validate(s) for s in rows]


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/sections", operation_id="add_section",
                   status_code=201, response_model=SectionOut, responses=problem_responses(401, 403, 404, 409),
                   summary="Add a section to a draft")
def add_section(request: Request, policy_id: str, version_id: str, body: SectionAdd, session: SessionDep,
                clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> SectionOut:
    row = policies.add_section(session, write_ctx(request, principal, clock), policy_id, version_id,
                               body.model_dump())
    return SectionOut.model_validate(row)


@staff_router.patch("/v1/policies/{policy_id}/versions/{version_id}/sections/{section_id}",
                    operation_id="update_section", response_model=SectionOut,
                    responses=problem_responses(401, 403, 404, 409), summary="Change a section of a draft")
def update_section(request: Request, policy_id: str, version_id: str, section_id: str, body: SectionUpdate,
                   session: SessionDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*EDITORS))) -> SectionOut:
    row = policies.update_section(session, write_ctx(request, principal, clock), policy_id, version_id, section_id,
                                  body.model_dump(exclude_unset=True))
    return SectionOut.model_validate(row)


@staff_router.delete("/v1/policies/{policy_id}/versions/{version_id}/sections/{section_id}",
                     operation_id="delete_section", status_code=204,
                     responses=problem_responses(401, 403, 404, 409), summary="Remove a section from a draft")
def delete_section(request: Request, policy_id: str, version_id: str, section_id: str, session: SessionDep,
                   clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> Response:
    policies.delete_section(session, write_ctx(request, principal, clock), policy_id, version_id, section_id)
    return Response(status_code=204)


def _transition(request: Request, session: Any, clock: Any, principal: Principal, policy_id: str, version_id: str,
                action: Action, body: TransitionIn | PublishIn | None) -> VersionOut:
    version = policies.transition(
        session, write_ctx(request, principal, clock), policy_id, version_id, action.value,
        effective_date=getattr(body, "effective_date", None), note=body.note if body else None,
    )
    return views.version_out(session, version, staff=True)


_T_RESPONSES = problem_responses(401, 403, 404, 409)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/submit", operation_id="submit_version",
                   response_model=VersionOut, responses=_T_RESPONSES, summary="draft -> in_review (editors)")
def submit_version(request: Request, policy_id: str, version_id: str, session: SessionDep, clock: ClockDep,
                   body: TransitionIn | None = None,
                   principal: Principal = Depends(require_roles(*EDITORS))) -> VersionOut:
    return _transition(request, session, clock, principal, policy_id, version_id, Action.submit, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/return", operation_id="return_version",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="in_review or approved -> draft, for changes (approvers)")
def return_version(request: Request, policy_id: str, version_id: str, session: SessionDep, clock: ClockDep,
                   body: TransitionIn | None = None,
                   principal: Principal = Depends(require_roles(*APPROVERS))) -> VersionOut:
    return _transition(request, session, clock, principal, policy_id, version_id, Action.return_to_draft, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/approve", operation_id="approve_version",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="in_review -> approved: two-person rule and completeness (approvers)")
def approve_version(request: Request, policy_id: str, version_id: str, session: SessionDep, clock: ClockDep,
                    body: TransitionIn | None = None,
                    principal: Principal = Depends(require_roles(*APPROVERS))) -> VersionOut:
    return _transition(request, session, clock, principal, policy_id, version_id, Action.approve, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/publish", operation_id="publish_version",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="approved -> published; the previous published version is superseded")
def publish_version(request: Request, policy_id: str, version_id: str, session: SessionDep, clock: ClockDep,
                    body: PublishIn | None = None,
                    principal: Principal = Depends(require_roles(*PUBLISHERS))) -> VersionOut:
    return _transition(request, session, clock, principal, policy_id, version_id, Action.publish, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/retire", operation_id="retire_version",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="published -> retired: the policy is withdrawn without a successor")
def retire_version(request: Request, policy_id: str, version_id: str, session: SessionDep, clock: ClockDep,
                   body: TransitionIn | None = None,
                   principal: Principal = Depends(require_roles(*PUBLISHERS))) -> VersionOut:
    return _transition(request, session, clock, principal, policy_id, version_id, Action.retire, body)


@staff_router.post("/v1/policies/{policy_id}/reviews", operation_id="record_review", status_code=201,
                   response_model=ReviewOut, responses=problem_responses(401, 403, 404, 409),
                   summary="Record a scheduled review: reaffirmed, or revision started (approvers, records staff)")
def record_review(request: Request, policy_id: str, body: ReviewIn, session: SessionDep, clock: ClockDep,
                  principal: Principal = Depends(require_roles(*REVIEWERS))) -> ReviewOut:
    data = body.model_dump()
    data["outcome"] = _enum(body.outcome)
    review = policies.record_review(session, write_ctx(request, principal, clock), policy_id, data)
    return views.review_out(review, staff=True)


@staff_router.get("/v1/reviews/due", operation_id="reviews_due", response_model=Page[DueReview],
                  responses=problem_responses(401, 403),
                  summary="Policies overdue for review and those due within N days (staff)")
def reviews_due(session: SessionDep, clock: ClockDep, within_days: int = Query(default=30, ge=0, le=730),
                limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
                principal: Principal = Depends(require_roles(*STAFF))) -> Page[DueReview]:
    today = clock.now().date()
    rows = policies.reviews_due(session, today, within_days)
    items = [DueReview(policy_id=p.id, identifier=p.identifier, title=p.title, current_version_id=v.id,
                       review_status=views.review_status_out(session, p, today, v))
             for p, v, _ in rows[offset:offset + limit]]
    return Page[DueReview].build(items, total=len(rows), limit=limit, offset=offset)
