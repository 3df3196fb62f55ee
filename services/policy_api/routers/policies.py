"""Policies and their versions: public reads (published only; staff tokens see drafts too),
staff writes through the version lifecycle. Each endpoint parses, authorises and calls one use-case."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query, Request, Response

from services.policy_api import views
from services.policy_api.domain import policies, reviews, versions
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
    OptionalPrincipal,
    is_staff,
    write_ctx,
)
from services.policy_api.schemas import (
    ApproveIn,
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
    RetireIn,
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
from shared.auth import Principal
from shared.caching import cached_json
from shared.errors import Forbidden, Unauthorized
from shared.schemas.page import Page
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["policies"], dependencies=[CatalogueReady])
staff_router = APIRouter(tags=["policies (staff)"], dependencies=[CatalogueReady])

# A published version never changes: caches may keep it longer.
IMMUTABLE_MAX_AGE = 3600


def _enum(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _section(s: SectionIn) -> versions.SectionDraft:
    return versions.SectionDraft(heading=s.heading, body_markdown=s.body_markdown, key=s.key,
                                 elements=tuple(s.elements))


# --- public reads -------------------------------------------------------------------------


@router.get("/v1/policies", operation_id="list_policies", response_model=Page[PolicySummary],
            responses=problem_responses(401, 403),
            summary="Published policies with their current version and review status (public)")
def list_policies(
    request: Request, db: DatabaseDep, clock: ClockDep, principal: OptionalPrincipal,
    kind: PolicyKind | None = None, limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
    include_unpublished: bool = Query(default=False, description="Staff only: also policies never published."),
) -> Response:
    if include_unpublished and not is_staff(principal):
        raise Unauthorized("Unpublished policies are for staff.") if principal is None else Forbidden()
    page = policies.list_policies(db, public=not include_unpublished, kind=_enum(kind), limit=limit, offset=offset)
    today = clock.now().date()
    out = Page[PolicySummary].build([views.policy_summary(r, today) for r in page.rows], total=page.total,
                                    limit=limit, offset=offset)
    return cached_json(request, out, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}", operation_id="get_policy", response_model=PolicyOut,
            responses=problem_responses(404), summary="A policy, its current version, versions and review status")
def get_policy(request: Request, policy_id: str, db: DatabaseDep, clock: ClockDep,
               principal: OptionalPrincipal) -> Response:
    item = policies.policy_detail(db, policy_id=policy_id, staff=is_staff(principal))
    return cached_json(request, views.policy_out(item, clock.now().date()), max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/versions", operation_id="list_versions", response_model=Page[VersionSummary],
            responses=problem_responses(404), summary="The policy's versions, newest first")
def list_versions(request: Request, policy_id: str, db: DatabaseDep, principal: OptionalPrincipal,
                  limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> Response:
    rows, total = versions.list_versions(db, policy_id=policy_id, public=not is_staff(principal), limit=limit,
                                         offset=offset)
    page = Page[VersionSummary].build([views.version_summary(v) for v in rows], total=total, limit=limit,
                                      offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/versions/{version_id}", operation_id="get_version",
            response_model=VersionOut, responses=problem_responses(404),
            summary="One version with its sections (Markdown and sanitised HTML)")
def get_version(request: Request, policy_id: str, version_id: str, db: DatabaseDep,
                principal: OptionalPrincipal) -> Response:
    staff = is_staff(principal)
    item = versions.version_detail(db, policy_id=policy_id, version_id=version_id, public=not staff)
    max_age = IMMUTABLE_MAX_AGE if item.version.state in policies.PUBLIC else 0
    return cached_json(request, views.version_out(item, staff=staff), max_age=max_age)


@router.get("/v1/policies/{policy_id}/versions/{version_id}/completeness", operation_id="get_completeness",
            response_model=CompletenessOut, responses=problem_responses(404),
            summary="The R-24-89 checklist: which sections cover each required element")
def get_completeness(request: Request, policy_id: str, version_id: str, db: DatabaseDep,
                     principal: OptionalPrincipal) -> Response:
    item = versions.version_checklist(db, policy_id=policy_id, version_id=version_id,
                                      public=not is_staff(principal))
    return cached_json(request, views.completeness_out(item.policy, item.version, item.checklist),
                       max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/diff", operation_id="diff_versions", response_model=DiffOut,
            responses=problem_responses(404),
            summary="Section-by-section differences between two versions, with unified text diffs")
def diff_versions(
    request: Request, policy_id: str, db: DatabaseDep, principal: OptionalPrincipal,
    from_version: str = Query(alias="from", max_length=64), to_version: str = Query(alias="to", max_length=64),
) -> Response:
    item = versions.version_diff(db, policy_id=policy_id, from_id=from_version, to_id=to_version,
                                 public=not is_staff(principal))
    return cached_json(request, views.diff_out(item), max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/review", operation_id="get_review_status", response_model=ReviewStatusOut,
            responses=problem_responses(404), summary="When the policy is next due for review, and whether overdue")
def get_review_status(request: Request, policy_id: str, db: DatabaseDep, clock: ClockDep,
                      principal: OptionalPrincipal) -> Response:
    row = policies.policy_row(db, policy_id=policy_id, staff=is_staff(principal))
    return cached_json(request, views.review_status_out(row, clock.now().date()), max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/reviews", operation_id="list_reviews", response_model=Page[ReviewOut],
            responses=problem_responses(404), summary="Recorded reviews, newest first")
def list_reviews(request: Request, policy_id: str, db: DatabaseDep, principal: OptionalPrincipal,
                 limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> Response:
    staff = is_staff(principal)
    rows, total = reviews.list_reviews(db, policy_id=policy_id, public=not staff, limit=limit, offset=offset)
    page = Page[ReviewOut].build([views.review_out(r, staff=staff) for r in rows], total=total, limit=limit,
                                 offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/policies/{policy_id}/history", operation_id="get_history", response_model=Page[HistoryEvent],
            responses=problem_responses(404),
            summary="Publications, supersessions, retirements and reviews, newest first")
def get_history(request: Request, policy_id: str, db: DatabaseDep, principal: OptionalPrincipal,
                limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0) -> Response:
    events = reviews.history(db, policy_id=policy_id, public=not is_staff(principal))
    page = Page[HistoryEvent].build([views.history_event(e) for e in events[offset:offset + limit]],
                                    total=len(events), limit=limit, offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


# --- staff writes ---------------------------------------------------------------------------


@staff_router.post("/v1/policies", operation_id="create_policy", status_code=201, response_model=PolicyOut,
                   responses=problem_responses(401, 403, 409), summary="Create a policy (editors)")
def create_policy(request: Request, body: PolicyCreate, db: DatabaseDep, clock: ClockDep,
                  principal: Principal = Depends(require_roles(*EDITORS))) -> PolicyOut:
    interval = body.review_interval_months or request.app.state.settings.review_interval_months
    new = policies.NewPolicy(kind=_enum(body.kind), identifier=body.identifier, title=body.title,
                             department=body.department, review_interval_months=interval,
                             binds_account_holders=body.binds_account_holders, citywide=body.citywide)
    item = policies.create_policy(db, write_ctx(request, principal, clock), new=new)
    return views.policy_out(item, clock.now().date())


@staff_router.patch("/v1/policies/{policy_id}", operation_id="update_policy", response_model=PolicyOut,
                    responses=problem_responses(401, 403, 404, 409),
                    summary="Change a policy's metadata (editors; the review interval: approvers)")
def update_policy(request: Request, policy_id: str, body: PolicyUpdate, db: DatabaseDep, clock: ClockDep,
                  principal: Principal = Depends(require_roles(*EDITORS))) -> PolicyOut:
    changes = policies.PolicyChanges(
        kind=_enum(body.kind), identifier=body.identifier, title=body.title, department=body.department,
        review_interval_months=body.review_interval_months, binds_account_holders=body.binds_account_holders,
        citywide=body.citywide,
    )
    item = policies.update_policy(db, write_ctx(request, principal, clock), policy_id=policy_id, changes=changes,
                                  approver=principal.has_any(*APPROVERS))
    return views.policy_out(item, clock.now().date())


@staff_router.post("/v1/policies/{policy_id}/versions", operation_id="create_version", status_code=201,
                   response_model=VersionOut, responses=problem_responses(401, 403, 404, 409),
                   summary="Start a new draft version (from the latest version's sections unless given)")
def create_version(request: Request, policy_id: str, body: VersionCreate, db: DatabaseDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*EDITORS))) -> VersionOut:
    new = versions.NewVersion(
        label=body.label, effective_date=body.effective_date, change_summary=body.change_summary,
        sections=[_section(s) for s in body.sections] if body.sections is not None else None,
    )
    item = versions.create_version(db, write_ctx(request, principal, clock), policy_id=policy_id, new=new)
    return views.version_out(item, staff=True)


@staff_router.patch("/v1/policies/{policy_id}/versions/{version_id}", operation_id="update_version",
                    response_model=VersionOut, responses=problem_responses(401, 403, 404, 409),
                    summary="Change a draft's label, effective date or change summary")
def update_version(request: Request, policy_id: str, version_id: str, body: VersionUpdate, db: DatabaseDep,
                   clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> VersionOut:
    changes = versions.VersionChanges(fields=frozenset(body.model_fields_set), label=body.label,
                                      effective_date=body.effective_date, change_summary=body.change_summary)
    item = versions.update_version(db, write_ctx(request, principal, clock), policy_id=policy_id,
                                   version_id=version_id, changes=changes)
    return views.version_out(item, staff=True)


@staff_router.put("/v1/policies/{policy_id}/versions/{version_id}/sections", operation_id="replace_sections",
                  response_model=list[SectionOut], responses=problem_responses(401, 403, 404, 409),
                  summary="Replace all sections of a draft")
def replace_sections(request: Request, policy_id: str, version_id: str, body: list[SectionIn], db: DatabaseDep,
                     clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> list[SectionOut]:
    rows = versions.replace_sections(db, write_ctx(request, principal, clock), policy_id=policy_id,
                                     version_id=version_id, items=[_section(s) for s in body])
    return [SectionOut.model_validate(s) for s in rows]


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/sections", operation_id="add_section",
                   status_code=201, response_model=SectionOut, responses=problem_responses(401, 403, 404, 409),
                   summary="Add a section to a draft")
def add_section(request: Request, policy_id: str, version_id: str, body: SectionAdd, db: DatabaseDep,
                clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> SectionOut:
    row = versions.add_section(db, write_ctx(request, principal, clock), policy_id=policy_id, version_id=version_id,
                               item=_section(body), position=body.position)
    return SectionOut.model_validate(row)


@staff_router.patch("/v1/policies/{policy_id}/versions/{version_id}/sections/{section_id}",
                    operation_id="update_section", response_model=SectionOut,
                    responses=problem_responses(401, 403, 404, 409), summary="Change a section of a draft")
def update_section(request: Request, policy_id: str, version_id: str, section_id: str, body: SectionUpdate,
                   db: DatabaseDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*EDITORS))) -> SectionOut:
    changes = versions.SectionChanges(heading=body.heading, body_markdown=body.body_markdown,
                                      elements=tuple(body.elements) if body.elements is not None else None)
    row = versions.update_section(db, write_ctx(request, principal, clock), policy_id=policy_id,
                                  version_id=version_id, section_id=section_id, changes=changes)
    return SectionOut.model_validate(row)


@staff_router.delete("/v1/policies/{policy_id}/versions/{version_id}/sections/{section_id}",
                     operation_id="delete_section", status_code=204,
                     responses=problem_responses(401, 403, 404, 409), summary="Remove a section from a draft")
def delete_section(request: Request, policy_id: str, version_id: str, section_id: str, db: DatabaseDep,
                   clock: ClockDep, principal: Principal = Depends(require_roles(*EDITORS))) -> Response:
    versions.delete_section(db, write_ctx(request, principal, clock), policy_id=policy_id, version_id=version_id,
                            section_id=section_id)
    return Response(status_code=204)


def _transition(request: Request, db: Any, clock: Any, principal: Principal, policy_id: str, version_id: str,
                action: Action, body: TransitionIn | PublishIn | ApproveIn | None) -> VersionOut:
    item = versions.transition(
        db, write_ctx(request, principal, clock), policy_id=policy_id, version_id=version_id, action=action,
        effective_date=getattr(body, "effective_date", None), note=body.note if body else None,
        published_on=getattr(body, "published_on", None),
        attested_elements=tuple(getattr(body, "attested_elements", ())),
    )
    return views.version_out(item, staff=True)


_T_RESPONSES = problem_responses(401, 403, 404, 409)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/submit", operation_id="submit_version",
                   response_model=VersionOut, responses=_T_RESPONSES, summary="draft -> in_review (editors)")
def submit_version(request: Request, policy_id: str, version_id: str, db: DatabaseDep, clock: ClockDep,
                   body: TransitionIn | None = None,
                   principal: Principal = Depends(require_roles(*EDITORS))) -> VersionOut:
    return _transition(request, db, clock, principal, policy_id, version_id, Action.submit, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/return", operation_id="return_version",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="in_review or approved -> draft, for changes (approvers)")
def return_version(request: Request, policy_id: str, version_id: str, db: DatabaseDep, clock: ClockDep,
                   body: TransitionIn | None = None,
                   principal: Principal = Depends(require_roles(*APPROVERS))) -> VersionOut:
    return _transition(request, db, clock, principal, policy_id, version_id, Action.return_to_draft, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/approve", operation_id="approve_version",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="in_review -> approved: two-person rule, completeness and the approver's attestation "
                           "of each element (approvers)")
def approve_version(request: Request, policy_id: str, version_id: str, db: DatabaseDep, clock: ClockDep,
                    body: ApproveIn | None = None,
                    principal: Principal = Depends(require_roles(*APPROVERS))) -> VersionOut:
    return _transition(request, db, clock, principal, policy_id, version_id, Action.approve, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/publish", operation_id="publish_version",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="approved -> published; the previous published version is superseded")
def publish_version(request: Request, policy_id: str, version_id: str, db: DatabaseDep, clock: ClockDep,
                    body: PublishIn | None = None,
                    principal: Principal = Depends(require_roles(*PUBLISHERS))) -> VersionOut:
    return _transition(request, db, clock, principal, policy_id, version_id, Action.publish, body)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/retire", operation_id="request_retirement",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="Request retirement of a published version (withdrawn without a successor); it stays in "
                           "force until a different approver confirms (approvers, records staff)")
def request_retirement(request: Request, policy_id: str, version_id: str, body: RetireIn, db: DatabaseDep,
                       clock: ClockDep, principal: Principal = Depends(require_roles(*PUBLISHERS))) -> VersionOut:
    item = versions.request_retirement(db, write_ctx(request, principal, clock), policy_id=policy_id,
                                       version_id=version_id, reason=body.reason)
    return views.version_out(item, staff=True)


@staff_router.post("/v1/policies/{policy_id}/versions/{version_id}/retire/confirm", operation_id="confirm_retirement",
                   response_model=VersionOut, responses=_T_RESPONSES,
                   summary="published -> retired: a second person, an approver, confirms the requested retirement")
def confirm_retirement(request: Request, policy_id: str, version_id: str, db: DatabaseDep, clock: ClockDep,
                       body: TransitionIn | None = None,
                       principal: Principal = Depends(require_roles(*APPROVERS))) -> VersionOut:
    return _transition(request, db, clock, principal, policy_id, version_id, Action.retire, body)


@staff_router.post("/v1/policies/{policy_id}/reviews", operation_id="record_review", status_code=201,
                   response_model=ReviewOut, responses=problem_responses(401, 403, 404, 409),
                   summary="Record a scheduled review: reaffirmed, or revision started (approvers, records staff)")
def record_review(request: Request, policy_id: str, body: ReviewIn, db: DatabaseDep, clock: ClockDep,
                  principal: Principal = Depends(require_roles(*REVIEWERS))) -> ReviewOut:
    new = reviews.NewReview(outcome=_enum(body.outcome), notes=body.notes, reviewed_on=body.reviewed_on)
    review = reviews.record_review(db, write_ctx(request, principal, clock), policy_id=policy_id, review=new,
                                   feedback=request.app.state.feedback_source.counts)
    return views.review_out(review, staff=True)


@staff_router.get("/v1/reviews/due", operation_id="reviews_due", response_model=Page[DueReview],
                  responses=problem_responses(401, 403),
                  summary="Policies overdue for review and those due within N days (staff)")
def reviews_due(db: DatabaseDep, clock: ClockDep, within_days: int = Query(default=30, ge=0, le=730),
                limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
                principal: Principal = Depends(require_roles(*STAFF))) -> Page[DueReview]:
    today = clock.now().date()
    page = reviews.reviews_due(db, today=today, within_days=within_days, limit=limit, offset=offset)
    items = [DueReview(policy_id=r.policy.id, identifier=r.policy.identifier, title=r.policy.title,
                       current_version_id=r.current.id if r.current else "",
                       review_status=views.review_status_out(r, today))
             for r in page.rows]
    return Page[DueReview].build(items, total=page.total, limit=limit, offset=offset)
