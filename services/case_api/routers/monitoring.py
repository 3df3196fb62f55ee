"""Monitoring and review of every official account (R-24-89 §1.A.5), from policy_api's registry."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from services.case_api.clients import active_accounts, policy_elements
from services.case_api.deps import CadenceDep, SettingsDep, SlaDep
from services.case_api.domain import access, monitoring
from services.case_api.schemas import (
    CadenceIn,
    ImportIn,
    ImportOut,
    ReviewFindingIn,
    ReviewFindingOut,
    ReviewOut,
    StartReviewIn,
    SyncOut,
)
from shared.api import SessionDep
from shared.auth import Principal, Role
from shared.errors import ValidationFailed
from shared.schemas.metrics import CoverageCell
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from shared.web import ClockDep, problem_responses, require_roles

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])

WRITERS = (Role.monitor, Role.admin)
READERS = (Role.monitor, *access.STAFF)
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Id36 = Annotated[str, Path(max_length=36)]
LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
OffsetQ = Annotated[int, Query(ge=0, le=1_000_000)]


def _deps(principal: Principal) -> set[str] | None:
    return None if principal.has_any(Role.monitor) else access.visible_departments(principal)


def _page(rows: list[Any], total: int, limit: int, offset: int) -> Page[ReviewOut]:
    return Page[ReviewOut].build([ReviewOut.model_validate(r, from_attributes=True) for r in rows], total=total,
                                 limit=limit, offset=offset)


@router.post("/sync", response_model=SyncOut, operation_id="monitoring_sync",
             summary="Read the active accounts from policy_api's registry and schedule their reviews",
             responses=problem_responses(401, 403, 502))
def sync(session: SessionDep, clock: ClockDep, settings: SettingsDep, cadence: CadenceDep,
         principal: Writer) -> SyncOut:
    accounts = active_accounts(settings)  # before the first query: no lock held during the call
    elements = policy_elements(settings)
    result = monitoring.sync_registry(session, accounts=accounts, now=clock.now(), cadence=cadence,
                                      actor=principal.subject, elements=elements)
    return SyncOut.model_validate(result, from_attributes=True)


@router.put("/accounts/{account_id}/cadence", operation_id="monitoring_set_cadence",
            summary="Set an account's review cycle in days (null: department or default)",
            responses=problem_responses(401, 403, 404))
def set_cadence(account_id: Annotated[str, Path(max_length=64)], body: CadenceIn, session: SessionDep,
                clock: ClockDep, principal: Writer) -> dict[str, Any]:
    row = monitoring.set_cadence(session, account_id=account_id, days=body.days, actor=principal.subject,
                                 now=clock.now())
    return {"account_id": row.account_id, "cadence_days": row.cadence_days}


@router.post("/imports", response_model=ImportOut, operation_id="monitoring_import",
             summary="Import posts (JSON, CSV or an archiving service's CSV export); idempotent on post URL",
             responses=problem_responses(401, 403, 413))
def import_posts(body: ImportIn, session: SessionDep, clock: ClockDep, principal: Writer) -> ImportOut:
    if body.format == "json":
        rows = body.posts
    else:
        if body.csv is None:
            raise ValidationFailed("format csv/archivesocial needs the file text in 'csv'.")
        rows = monitoring.rows_from_csv(body.csv)
    result = monitoring.import_posts(session, rows=rows, source=body.format, now=clock.now(), actor=principal.subject,
                                     default_account=body.account_id)
    return ImportOut.model_validate(result, from_attributes=True)


@router.get("/reviews", response_model=Page[ReviewOut], operation_id="monitoring_reviews",
            responses=problem_responses(401, 403))
def reviews(session: SessionDep, principal: Reader, status: Annotated[str | None, Query(max_length=20)] = None,
            limit: LimitQ = DEFAULT_PAGE_SIZE, offset: OffsetQ = 0) -> Page[ReviewOut]:
    rows, total = monitoring.list_reviews(session, departments=_deps(principal), status=[status] if status else None,
                                          limit=limit, offset=offset)
    return _page(rows, total, limit, offset)


@router.get("/reviews/due", response_model=Page[ReviewOut], operation_id="monitoring_reviews_due",
            summary="Open reviews due within the window (days)", responses=problem_responses(401, 403))
def reviews_due(session: SessionDep, clock: ClockDep, principal: Reader,
                within_days: Annotated[int, Query(ge=1, le=366)] = 30, limit: LimitQ = DEFAULT_PAGE_SIZE,
                offset: OffsetQ = 0) -> Page[ReviewOut]:
    today = clock.now().date()
    rows, total = monitoring.list_reviews(session, departments=_deps(principal), status=list(monitoring.OPEN_REVIEW),
                                          due_from=today, due_before=today + timedelta(days=within_days + 1),
                                          limit=limit, offset=offset)
    return _page(rows, total, limit, offset)


@router.get("/reviews/overdue", response_model=Page[ReviewOut], operation_id="monitoring_reviews_overdue",
            summary="Open reviews past their due date", responses=problem_responses(401, 403))
def reviews_overdue(session: SessionDep, clock: ClockDep, principal: Reader, limit: LimitQ = DEFAULT_PAGE_SIZE,
                    offset: OffsetQ = 0) -> Page[ReviewOut]:
    rows, total = monitoring.list_reviews(session, departments=_deps(principal), status=list(monitoring.OPEN_REVIEW),
                                          due_before=clock.now().date(), limit=limit, offset=offset)
    return _page(rows, total, limit, offset)


@router.get("/reviews/{review_id}", response_model=ReviewOut, operation_id="monitoring_review",
            responses=problem_responses(401, 403, 404))
def review(review_id: Id36, session: SessionDep, principal: Reader) -> ReviewOut:
    return ReviewOut.model_validate(monitoring.get_review(session, review_id, _deps(principal)), from_attributes=True)


@router.post("/reviews/{review_id}/start", response_model=ReviewOut, operation_id="monitoring_start_review",
             summary="Take a random sample of the account's imported posts and start the review",
             responses=problem_responses(401, 403, 404, 409))
def start(review_id: Id36, body: StartReviewIn, session: SessionDep, clock: ClockDep, principal: Writer) -> ReviewOut:
    r = monitoring.get_review(session, review_id, None)
    monitoring.start_review(session, review=r, reviewer=body.reviewer or principal.subject,
                            sample_size=body.sample_size, now=clock.now(), actor=principal.subject)
    return ReviewOut.model_validate(r, from_attributes=True)


@router.post("/reviews/{review_id}/findings", status_code=201, response_model=ReviewFindingOut,
             operation_id="monitoring_record_finding",
             summary="A finding for one checklist item of one sampled post; a failure opens or attaches to a case",
             responses=problem_responses(401, 403, 404, 409))
def add_finding(review_id: Id36, body: ReviewFindingIn, session: SessionDep, clock: ClockDep, sla: SlaDep,
                principal: Writer) -> ReviewFindingOut:
    r = monitoring.get_review(session, review_id, None)
    f = monitoring.record_finding(session, review=r, post_id=body.post_id, item_key=body.item_key,
                                  result=body.result, note=body.note, actor=principal.subject, now=clock.now(),
                                  sla=sla)
    return ReviewFindingOut.model_validate(f, from_attributes=True)


@router.get("/reviews/{review_id}/findings", response_model=list[ReviewFindingOut],
            operation_id="monitoring_review_findings", responses=problem_responses(401, 403, 404))
def list_findings(review_id: Id36, session: SessionDep, principal: Reader) -> list[ReviewFindingOut]:
    r = monitoring.get_review(session, review_id, _deps(principal))
    return [ReviewFindingOut.model_validate(f, from_attributes=True) for f in monitoring.findings(session, review=r)]


@router.post("/reviews/{review_id}/complete", response_model=ReviewOut, operation_id="monitoring_complete_review",
             summary="Complete a review (every item of every sampled post has a finding); schedules the next",
             responses=problem_responses(401, 403, 404, 409))
def complete(review_id: Id36, session: SessionDep, clock: ClockDep, cadence: CadenceDep,
             principal: Writer) -> ReviewOut:
    r = monitoring.get_review(session, review_id, None)
    monitoring.complete_review(session, review=r, now=clock.now(), actor=principal.subject, cadence=cadence)
    return ReviewOut.model_validate(r, from_attributes=True)


@router.get("/coverage", response_model=list[CoverageCell], operation_id="monitoring_coverage",
            summary="Share of active accounts reviewed on schedule over the last 12 months, by department",
            responses=problem_responses(401, 403))
def coverage(session: SessionDep, clock: ClockDep, principal: Reader) -> list[CoverageCell]:
    return monitoring.coverage(session, today=clock.now().date(), departments=_deps(principal))


@router.get("/findings-by-element", operation_id="monitoring_findings_by_element",
            summary="Review findings counted by policy element and result", responses=problem_responses(401, 403))
def by_element(session: SessionDep, principal: Reader) -> dict[str, dict[str, int]]:
    return monitoring.findings_by_element(session, departments=_deps(principal))
