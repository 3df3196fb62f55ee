"""Monitoring and review of every official account (R-24-89 §1.A.5), from policy_api's registry."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from services.case_api.deps import CadenceDep, PeersDep, SlaDep
from services.case_api.domain import access, monitoring
from services.case_api.domain.models import Review
from services.case_api.domain.monitoring import ReviewFilter
from services.case_api.domain.paging import Listing
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
from shared.auth import Principal, Role
from shared.errors import ValidationFailed
from shared.schemas.metrics import CoverageCell
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])

WRITERS = (Role.monitor, Role.admin)
READERS = (Role.monitor, *access.STAFF)
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Id36 = Annotated[str, Path(max_length=36)]
LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
OffsetQ = Annotated[int, Query(ge=0, le=1_000_000)]


def _page(listing: Listing[Review], limit: int, offset: int) -> Page[ReviewOut]:
    return Page[ReviewOut](items=[ReviewOut.model_validate(r, from_attributes=True) for r in listing.items],
                           total=listing.total, limit=limit, offset=offset, next_offset=listing.next_offset)


@router.post("/sync", response_model=SyncOut, operation_id="monitoring_sync",
             summary="Read the active accounts from policy_api's registry and schedule their reviews",
             responses=problem_responses(401, 403, 502))
def sync(db: DatabaseDep, peers: PeersDep, clock: ClockDep, cadence: CadenceDep, principal: Writer) -> SyncOut:
    result = monitoring.sync(db, peers, now=clock.now(), cadence=cadence, actor=principal.subject)
    return SyncOut.model_validate(result, from_attributes=True)


@router.put("/accounts/{account_id}/cadence", operation_id="monitoring_set_cadence",
            summary="Set an account's review cycle in days (null: department or default)",
            responses=problem_responses(401, 403, 404))
def set_cadence(account_id: Annotated[str, Path(max_length=64)], body: CadenceIn, db: DatabaseDep,
                clock: ClockDep, principal: Writer) -> dict[str, Any]:
    row = monitoring.set_cadence(db, account_id=account_id, days=body.days, actor=principal.subject,
                                 now=clock.now())
    return {"account_id": row.account_id, "cadence_days": row.cadence_days}


@router.post("/imports", response_model=ImportOut, operation_id="monitoring_import",
             summary="Import posts (JSON, CSV or an archiving service's CSV export); idempotent on post URL",
             responses=problem_responses(401, 403, 413))
def import_posts(body: ImportIn, db: DatabaseDep, clock: ClockDep, principal: Writer) -> ImportOut:
    if body.format == "json":
        rows = body.posts
    else:
        if body.csv is None:
            raise ValidationFailed("format csv/archivesocial needs the file text in 'csv'.")
        rows = monitoring.rows_from_csv(body.csv)
    result = monitoring.import_posts(db, rows=rows, source=body.format, now=clock.now(), actor=principal.subject,
                                     default_account=body.account_id)
    return ImportOut.model_validate(result, from_attributes=True)


@router.get("/reviews", response_model=Page[ReviewOut], operation_id="monitoring_reviews",
            responses=problem_responses(401, 403))
def reviews(db: DatabaseDep, principal: Reader, status: Annotated[str | None, Query(max_length=20)] = None,
            limit: LimitQ = DEFAULT_PAGE_SIZE, offset: OffsetQ = 0) -> Page[ReviewOut]:
    where = ReviewFilter(status=(status,) if status else ())
    return _page(monitoring.list_reviews(db, principal=principal, where=where, limit=limit, offset=offset),
                 limit, offset)


@router.get("/reviews/due", response_model=Page[ReviewOut], operation_id="monitoring_reviews_due",
            summary="Open reviews due within the window (days)", responses=problem_responses(401, 403))
def reviews_due(db: DatabaseDep, clock: ClockDep, principal: Reader,
                within_days: Annotated[int, Query(ge=1, le=366)] = 30, limit: LimitQ = DEFAULT_PAGE_SIZE,
                offset: OffsetQ = 0) -> Page[ReviewOut]:
    today = clock.now().date()
    where = ReviewFilter(status=monitoring.OPEN_REVIEW, due_from=today,
                         due_before=today + timedelta(days=within_days + 1))
    return _page(monitoring.list_reviews(db, principal=principal, where=where, limit=limit, offset=offset),
                 limit, offset)


@router.get("/reviews/overdue", response_model=Page[ReviewOut], operation_id="monitoring_reviews_overdue",
            summary="Open reviews past their due date", responses=problem_responses(401, 403))
def reviews_overdue(db: DatabaseDep, clock: ClockDep, principal: Reader, limit: LimitQ = DEFAULT_PAGE_SIZE,
                    offset: OffsetQ = 0) -> Page[ReviewOut]:
    where = ReviewFilter(status=monitoring.OPEN_REVIEW, due_before=clock.now().date())
    return _page(monitoring.list_reviews(db, principal=principal, where=where, limit=limit, offset=offset),
                 limit, offset)


@router.get("/reviews/{review_id}", response_model=ReviewOut, operation_id="monitoring_review",
            responses=problem_responses(401, 403, 404))
def review(review_id: Id36, db: DatabaseDep, principal: Reader) -> ReviewOut:
    return ReviewOut.model_validate(monitoring.read_review(db, review_id=review_id, principal=principal),
                                    from_attributes=True)


@router.post("/reviews/{review_id}/start", response_model=ReviewOut, operation_id="monitoring_start_review",
             summary="Take a random sample of the account's imported posts and start the review",
             responses=problem_responses(401, 403, 404, 409))
def start(review_id: Id36, body: StartReviewIn, db: DatabaseDep, clock: ClockDep, principal: Writer) -> ReviewOut:
    r = monitoring.start_review(db, review_id=review_id, reviewer=body.reviewer or principal.subject,
                                sample_size=body.sample_size, now=clock.now(), actor=principal.subject)
    return ReviewOut.model_validate(r, from_attributes=True)


@router.post("/reviews/{review_id}/findings", status_code=201, response_model=ReviewFindingOut,
             operation_id="monitoring_record_finding",
             summary="A finding for one checklist item of one sampled post; a failure opens or attaches to a case",
             responses=problem_responses(401, 403, 404, 409))
def add_finding(review_id: Id36, body: ReviewFindingIn, db: DatabaseDep, clock: ClockDep, sla: SlaDep,
                principal: Writer) -> ReviewFindingOut:
    f = monitoring.record_finding(db, review_id=review_id, post_id=body.post_id, item_key=body.item_key,
                                  result=body.result, note=body.note, actor=principal.subject, now=clock.now(),
                                  sla=sla)
    return ReviewFindingOut.model_validate(f, from_attributes=True)


@router.get("/reviews/{review_id}/findings", response_model=list[ReviewFindingOut],
            operation_id="monitoring_review_findings", responses=problem_responses(401, 403, 404))
def list_findings(review_id: Id36, db: DatabaseDep, principal: Reader) -> list[ReviewFindingOut]:
    return [ReviewFindingOut.model_validate(f, from_attributes=True)
            for f in monitoring.list_findings(db, review_id=review_id, principal=principal)]


@router.post("/reviews/{review_id}/complete", response_model=ReviewOut, operation_id="monitoring_complete_review",
             summary="Complete a review (every item of every sampled post has a finding); schedules the next",
             responses=problem_responses(401, 403, 404, 409))
def complete(review_id: Id36, db: DatabaseDep, clock: ClockDep, cadence: CadenceDep,
             principal: Writer) -> ReviewOut:
    r = monitoring.complete_review(db, review_id=review_id, now=clock.now(), actor=principal.subject, cadence=cadence)
    return ReviewOut.model_validate(r, from_attributes=True)


@router.get("/coverage", response_model=list[CoverageCell], operation_id="monitoring_coverage",
            summary="Share of active accounts reviewed on schedule over the last 12 months, by department",
            responses=problem_responses(401, 403))
def coverage(db: DatabaseDep, clock: ClockDep, principal: Reader) -> list[CoverageCell]:
    return monitoring.coverage(db, today=clock.now().date(), principal=principal)


@router.get("/findings-by-element", operation_id="monitoring_findings_by_element",
            summary="Review findings counted by policy element and result", responses=problem_responses(401, 403))
def by_element(db: DatabaseDep, principal: Reader) -> dict[str, dict[str, int]]:
    return monitoring.findings_by_element(db, principal=principal)
