"""Monitoring and review of every official account (R-24-89 §1.A.5), from policy_api's registry."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import timedelta
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, Path, Query, Request

from services.case_api.deps import CadenceDep, PeersDep, SlaDep
from services.case_api.domain import access, monitoring, post_import
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
from services.case_api.schemas_monitoring import PostOut, StreamImportOut
from shared.auth import Principal, Role
from shared.errors import PayloadTooLarge, ValidationFailed
from shared.schemas.metrics import CoverageCell
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])

WRITERS = (Role.monitor, Role.admin)
READERS = (Role.monitor, *access.STAFF)
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Id36 = Annotated[str, Path(max_length=36)]
LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
OffsetQ = Annotated[int, Query(ge=0, le=1_000_000)]


MAX_STREAM_BYTES = 64 * 1024 * 1024  # also the body limit of the path (main.py)
SPOOL_IN_MEMORY = 1024 * 1024


def _post_out(v: monitoring.PostView) -> PostOut:
    p = v.post
    return PostOut(id=p.id, account_id=p.account_id, account_handle=v.account.handle if v.account else None,
                   platform=v.account.platform if v.account else None, url=p.url, original_url=p.original_url,
                   posted_at=p.posted_at, posted_at_local=v.posted_at_local, text=p.text, thread=p.thread,
                   screenshot_url=p.screenshot_url, risk_score=p.risk_score, risk_rules=list(p.risk_rules or []),
                   sampled_because=v.sampled_because)


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


@router.post("/imports/stream", response_model=StreamImportOut, operation_id="monitoring_import_stream",
             summary="Import a large file streamed as the request body (CSV, archiving service's CSV, JSON Lines)",
             description="The body is the file itself (up to 64 MiB), read as it arrives and stored in batches of "
                         "500 rows, one transaction each. Row numbers in `refused` count data rows from 1 "
                         "(or from `first_row` when a file is sent in several parts). Idempotent on the post URL.",
             responses=problem_responses(401, 403, 413, 422))
async def import_stream(request: Request, db: DatabaseDep, clock: ClockDep, principal: Writer,
                        format: Annotated[Literal["csv", "archivesocial", "json"], Query()] = "csv",
                        account_id: Annotated[str | None, Query(max_length=64)] = None,
                        first_row: Annotated[int, Query(ge=1, le=10_000_000)] = 1) -> StreamImportOut:
    # async only to read the body as it arrives (spooled to disk past 1 MiB); the import itself
    # runs in a worker thread, where each batch's unit of work begins and ends (docs/architecture.md)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b")
    try:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_STREAM_BYTES:
                raise PayloadTooLarge(f"At most {MAX_STREAM_BYTES} bytes per upload: send the file in parts "
                                      "(first_row numbers the rows of each part).")
            spool.write(chunk)
        spool.seek(0)
        now, actor = clock.now(), principal.subject

        def run() -> post_import.ImportResult:
            text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
            try:
                return post_import.import_stream(db, rows=post_import.iter_rows(text, format), source=format,
                                                 now=now, actor=actor, default_account=account_id,
                                                 first_row=first_row)
            except UnicodeDecodeError as exc:
                raise ValidationFailed("The file is not UTF-8 text (rows before the bad byte were imported).") \
                    from exc
            except (csv.Error, ValueError) as exc:
                raise ValidationFailed(f"The file could not be read: {exc}") from exc
            finally:
                text.detach()

        result = await anyio.to_thread.run_sync(run)
    finally:
        spool.close()
    return StreamImportOut.model_validate(result, from_attributes=True)


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
    today = monitoring.city_today(clock.now())
    where = ReviewFilter(status=monitoring.OPEN_REVIEW, due_from=today,
                         due_before=today + timedelta(days=within_days + 1))
    return _page(monitoring.list_reviews(db, principal=principal, where=where, limit=limit, offset=offset),
                 limit, offset)


@router.get("/reviews/overdue", response_model=Page[ReviewOut], operation_id="monitoring_reviews_overdue",
            summary="Open reviews past their due date", responses=problem_responses(401, 403))
def reviews_overdue(db: DatabaseDep, clock: ClockDep, principal: Reader, limit: LimitQ = DEFAULT_PAGE_SIZE,
                    offset: OffsetQ = 0) -> Page[ReviewOut]:
    where = ReviewFilter(status=monitoring.OPEN_REVIEW, due_before=monitoring.city_today(clock.now()))
    return _page(monitoring.list_reviews(db, principal=principal, where=where, limit=limit, offset=offset),
                 limit, offset)


@router.get("/reviews/{review_id}", response_model=ReviewOut, operation_id="monitoring_review",
            responses=problem_responses(401, 403, 404))
def review(review_id: Id36, db: DatabaseDep, principal: Reader) -> ReviewOut:
    return ReviewOut.model_validate(monitoring.read_review(db, review_id=review_id, principal=principal),
                                    from_attributes=True)


@router.get("/reviews/{review_id}/posts", response_model=list[PostOut], operation_id="monitoring_review_posts",
            summary="The review's sampled posts: text, links, Albuquerque time, account, thread, screenshot, score",
            responses=problem_responses(401, 403, 404))
def review_posts(review_id: Id36, db: DatabaseDep, principal: Reader) -> list[PostOut]:
    return [_post_out(v) for v in monitoring.review_posts(db, review_id=review_id, principal=principal)]


@router.get("/posts/{post_id}", response_model=PostOut, operation_id="monitoring_post",
            summary="One imported post", responses=problem_responses(401, 403, 404))
def post(post_id: Id36, db: DatabaseDep, principal: Reader) -> PostOut:
    return _post_out(monitoring.read_post(db, post_id=post_id, principal=principal))


@router.post("/reviews/{review_id}/start", response_model=ReviewOut, operation_id="monitoring_start_review",
             summary="Sample the period's posts (the highest-scored plus a random share) and start the review; "
                     "from the day the period ends",
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
            summary="Per department: accounts whose last due review was done on time, of those with one due; "
                     "new accounts shown apart",
            responses=problem_responses(401, 403))
def coverage(db: DatabaseDep, clock: ClockDep, principal: Reader) -> list[CoverageCell]:
    return monitoring.coverage(db, today=monitoring.city_today(clock.now()), principal=principal)


@router.get("/findings-by-element", operation_id="monitoring_findings_by_element",
            summary="Review findings counted by policy element and result", responses=problem_responses(401, 403))
def by_element(db: DatabaseDep, principal: Reader) -> dict[str, dict[str, int]]:
    return monitoring.findings_by_element(db, principal=principal)
