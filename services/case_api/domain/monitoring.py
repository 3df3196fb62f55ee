"""Monitoring and review of every official account (R-24-89 §1.A.5).

* ``sync_registry``: the active accounts from policy_api's registry each get a review cycle
  (default every 90 days; per account or per department configurable); a new account gets its
  first review scheduled, an account that is no longer active has its open reviews cancelled.
* ``import_posts``: posts and their comment threads get into reviews by import (JSON, CSV, or an
  archiving service's CSV export), idempotent on the normalised post URL; every row is validated
  and refused rows are reported with their reason; good rows are kept.
* Reviews sample the account's posts; each sampled post gets a finding per checklist item; a
  failed item opens (or attaches to) a case in the normal workflow with the post as evidence.
* ``coverage``: share of active accounts reviewed on schedule over the last 12 months.
"""

from __future__ import annotations

import math
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, cast, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.case_api import clients
from services.case_api.domain import access, audit, cases, checklist, identity, post_import
from services.case_api.domain.models import (
    Case,
    MonitoredAccount,
    MonitoredPost,
    Review,
    ReviewFinding,
)
from services.case_api.domain.paging import Listing, page
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error
from shared.http import ServiceClient
from shared.schemas.metrics import CoverageCell
from shared.schemas.registry import AccountPublic
from shared.timeutil import as_utc


def visible_departments(principal: Principal) -> set[str] | None:
    """Monitors see every department's reviews; staff as for cases (None: every department)."""
    return None if principal.has_any(Role.monitor) else access.visible_departments(principal)

OPEN_REVIEW = ("scheduled", "in_progress")
MAX_IMPORT_ROWS = 5000
CITY_TZ = ZoneInfo("America/Denver")
TOP_SHARE = 0.5  # of a sample: the highest-scored posts; the rest drawn at random from the others
MAX_MISSED_CATCH_UP = 60  # cycles scheduled in one pass for an account long unreviewed


def city_today(now: datetime) -> date:
    """Periods and due dates are days in Albuquerque (America/Denver)."""
    return as_utc(now).astimezone(CITY_TZ).date()


def period_bounds(review: Review) -> tuple[datetime, datetime]:
    """A review covers posts from its first day 00:00 to its end day 00:00 (exclusive), Albuquerque
    time, as UTC instants."""
    lo = datetime.combine(review.period_start, time.min, tzinfo=CITY_TZ).astimezone(UTC)
    hi = datetime.combine(review.period_end, time.min, tzinfo=CITY_TZ).astimezone(UTC)
    return lo, hi


@dataclass(frozen=True)
class Cadence:
    default_days: int = 90
    by_department: dict[str, int] = field(default_factory=dict)
    grace_days: int = 14

    def days_for(self, account: MonitoredAccount) -> int:
        return account.cadence_days or self.by_department.get(account.department) or self.default_days


def _schedule(session: Session, account: MonitoredAccount, *, start: date, cadence: Cadence,
              now: datetime, items: list[dict[str, str]]) -> Review:
    end = start + timedelta(days=cadence.days_for(account))
    review = Review(account_id=account.account_id, department=account.department, period_start=start,
                    period_end=end, due_on=end + timedelta(days=cadence.grace_days), status="scheduled",
                    checklist=items, created_at=now, updated_at=now)
    session.add(review)
    return review


@dataclass
class SyncResult:
    active: int = 0
    added: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    scheduled: int = 0
    cancelled: int = 0
    missed: int = 0


def sync(db: Database, peers: ServiceClient, *, now: datetime, cadence: Cadence, actor: str) -> SyncResult:
    """Read the registry from policy_api (no transaction open), then schedule in one unit of work.
    The same use-case runs for ``POST /v1/monitoring/sync`` and the background scheduler."""
    accounts = clients.active_accounts(peers)
    elements = clients.policy_elements(peers)
    with db.write() as s:
        return sync_registry(s, accounts=accounts, now=now, cadence=cadence, actor=actor, elements=elements)


def sync_registry(session: Session, *, accounts: list[AccountPublic], now: datetime, cadence: Cadence,
                  actor: str, elements: set[str] | None = None) -> SyncResult:
    result = SyncResult(active=len(accounts))
    items = checklist.checklist(elements)
    today = city_today(now)
    seen = set()
    for acc in accounts:
        seen.add(acc.id)
        row = session.get(MonitoredAccount, acc.id)
        if row is None:
            row = MonitoredAccount(account_id=acc.id, department=identity.department(acc.department) or acc.department,
                                   platform=acc.platform.value,
                                   handle=acc.handle, status="active", first_seen_at=now, updated_at=now)
            session.add(row)
            result.added.append(acc.id)
        else:
            row.department = identity.department(acc.department) or acc.department
            row.platform, row.handle = acc.platform.value, acc.handle
            row.status = "active"
            row.updated_at = now
            session.add(row)
        session.flush()
        has_open = session.exec(select(Review.id).where(Review.account_id == acc.id,
                                                        col(Review.status).in_(OPEN_REVIEW))).first()
        if has_open is None:
            last = session.exec(select(Review).where(Review.account_id == acc.id, Review.status != "cancelled")
                                .order_by(col(Review.period_end).desc())).first()
            if last is None or last.status == "completed" or last.period_end >= today:
                start = max(last.period_end, today) if last else today
                _schedule(session, row, start=start, cadence=cadence, now=now, items=items)
                result.scheduled += 1
    for row in session.exec(select(MonitoredAccount).where(MonitoredAccount.status == "active")).all():
        if row.account_id in seen:
            continue
        row.status = "inactive"
        row.updated_at = now
        session.add(row)
        result.deactivated.append(row.account_id)
        for review in session.exec(select(Review).where(Review.account_id == row.account_id,
                                                        col(Review.status).in_(OPEN_REVIEW))).all():
            review.status = "cancelled"
            review.updated_at = now
            session.add(review)
            result.cancelled += 1
    session.flush()
    rolled = roll_forward_in(session, now=now, cadence=cadence)
    result.scheduled += rolled.scheduled
    result.missed = rolled.missed
    audit.append(session, actor=actor, action="monitoring.synced", case_id=None,
                 detail={"active": result.active, "added": result.added, "deactivated": result.deactivated,
                         "scheduled": result.scheduled, "cancelled": result.cancelled, "missed": result.missed},
                 now=now)
    return result


@dataclass
class RollForward:
    missed: int = 0
    scheduled: int = 0


def roll_forward(db: Database, *, now: datetime, cadence: Cadence) -> RollForward:
    """Run by the scheduler even when policy_api does not answer: missed cycles are marked and the
    next ones scheduled without the registry."""
    with db.write() as s:
        return roll_forward_in(s, now=now, cadence=cadence)


def roll_forward_in(session: Session, *, now: datetime, cadence: Cadence) -> RollForward:
    """A scheduled review whose due date has passed becomes ``missed`` and stays so (it is never
    completed later; coverage counts it as not done on time). Every active account keeps one review
    still to come: after a missed or late cycle the next period is scheduled, from the end of the
    last one, as many times as needed to reach a period whose due date is not past (each of those
    is missed too). Two statements whatever the number of accounts, plus the writes."""
    out = RollForward()
    today = city_today(now)
    active = {a.account_id: a for a in session.exec(select(MonitoredAccount)
                                                   .where(MonitoredAccount.status == "active")).all()}
    if not active:
        return out
    latest: dict[str, Review] = {}
    for r in session.exec(select(Review).where(col(Review.account_id).in_(sorted(active)),
                                               Review.status != "cancelled")).all():
        if r.status == "scheduled" and r.due_on < today:
            r.status = "missed"
            r.updated_at = now
            session.add(r)
            out.missed += 1
        if r.account_id not in latest or r.period_start > latest[r.account_id].period_start:
            latest[r.account_id] = r
    for account_id, last in latest.items():
        for _ in range(MAX_MISSED_CATCH_UP):
            if last.status in OPEN_REVIEW and last.due_on >= today:
                break
            last = _schedule(session, active[account_id], start=last.period_end, cadence=cadence, now=now,
                             items=last.checklist)
            out.scheduled += 1
            if last.due_on < today:
                last.status = "missed"
                out.missed += 1
    session.flush()
    return out


def set_cadence(db: Database, *, account_id: str, days: int | None, actor: str, now: datetime) -> MonitoredAccount:
    with db.write() as s:
        row = s.get(MonitoredAccount, account_id)
        if row is None:
            raise NotFound("No such monitored account.")
        row.cadence_days = days
        row.updated_at = now
        s.add(row)
        s.flush()
        audit.append(s, actor=actor, action="monitoring.cadence_set", case_id=None,
                     detail={"account_id": account_id, "days": days}, now=now)
        return row


# --- import -------------------------------------------------------------------------------

ImportResult = post_import.ImportResult


def rows_from_csv(text: str) -> list[dict[str, Any]]:
    return post_import.rows_from_csv_text(text)


def import_posts(db: Database, *, rows: list[dict[str, Any]], source: str, now: datetime, actor: str,
                 default_account: str | None = None, first_row: int = 1) -> ImportResult:
    """Import one request's rows (JSON rows, or rows read from CSV), in batches (domain/post_import.py)."""
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed(f"At most {MAX_IMPORT_ROWS} rows per request: send the file in chunks, or stream "
                               "it to /v1/monitoring/imports/stream.")
    return post_import.import_stream(db, rows=rows, source=source, now=now, actor=actor,
                                     default_account=default_account, first_row=first_row)


# --- reviews ------------------------------------------------------------------------------


def _review(session: Session, review_id: str, departments: set[str] | None) -> Review:
    review = session.get(Review, review_id) if len(review_id) <= 36 else None
    if review is None or (departments is not None and review.department not in departments):
        raise NotFound("No such review.")
    return review


def read_review(db: Database, *, review_id: str, principal: Principal) -> Review:
    with db.read() as s:
        return _review(s, review_id, visible_departments(principal))


@dataclass(frozen=True)
class ReviewFilter:
    status: tuple[str, ...] = ()
    due_before: date | None = None
    due_from: date | None = None


def list_reviews(db: Database, *, principal: Principal, where: ReviewFilter, limit: int,
                 offset: int) -> Listing[Review]:
    """Reviews by due date, filtered and paged in SQL (ix_reviews_due_on_id): two statements."""
    q = select(Review)
    departments = visible_departments(principal)
    if departments is not None:
        q = q.where(col(Review.department).in_(sorted(departments)))
    if where.status:
        q = q.where(col(Review.status).in_(where.status))
    if where.due_before is not None:
        q = q.where(col(Review.due_on) < where.due_before)
    if where.due_from is not None:
        q = q.where(col(Review.due_on) >= where.due_from)
    with db.read() as s:
        return page(s, q, order_by=(col(Review.due_on), col(Review.id)), limit=limit, offset=offset)


def start_review(db: Database, *, review_id: str, reviewer: str, sample_size: int, now: datetime,
                 actor: str) -> Review:
    with db.write() as s:
        review = _review(s, review_id, None)
        if review.status != "scheduled":
            raise Conflict(f"The review is {review.status}.", current_state=review.status)
        _period_closed(review, now)
        top, drawn = _sample(s, review, sample_size)
        if not top and not drawn:
            raise Conflict(f"No posts of this account from {review.period_start} to {review.period_end} have been "
                           "imported: import them first.", current_state=review.status)
        review.sample = top + drawn
        review.sample_top = len(top)
        review.status = "in_progress"
        review.reviewer = reviewer
        review.updated_at = now
        s.add(review)
        s.flush()
        audit.append(s, actor=actor, action="monitoring.review_started", case_id=None,
                     detail={"review_id": review.id, "reviewer": reviewer, "sample": len(review.sample),
                             "top_scored": len(top), "random": len(drawn)}, now=now)
        return review


def _period_closed(review: Review, now: datetime) -> None:
    """A review looks back over a closed period: it can start (and so complete) from the day its
    period ends, never before."""
    if city_today(now) < review.period_end:
        raise Conflict(f"The review covers {review.period_start} to {review.period_end - timedelta(days=1)} and can "
                       f"start on {review.period_end}, once its period has ended.", current_state=review.status,
                       starts_on=review.period_end.isoformat())


def _sample(session: Session, review: Review, size: int) -> tuple[list[str], list[str]]:
    """Risk-ranked sample of the review's own period: the ``TOP_SHARE`` highest-scored posts (score
    above 0, ties by id), then a random draw from all the others, so low scores are checked too."""
    lo, hi = period_bounds(review)
    in_period = (MonitoredPost.account_id == review.account_id, col(MonitoredPost.posted_at) >= lo,
                 col(MonitoredPost.posted_at) < hi)
    top_n = math.ceil(size * TOP_SHARE)
    top = list(session.exec(select(MonitoredPost.id).where(*in_period, col(MonitoredPost.risk_score) > 0)
                            .order_by(col(MonitoredPost.risk_score).desc(), col(MonitoredPost.id)).limit(top_n)))
    chosen = set(top)
    rest = [p for p in session.exec(select(MonitoredPost.id).where(*in_period)) if p not in chosen]
    drawn = sorted(secrets.SystemRandom().sample(rest, min(size - len(top), len(rest))))
    return top, drawn


@dataclass(frozen=True)
class PostView:
    post: MonitoredPost
    account: MonitoredAccount | None
    sampled_because: str | None = None

    @property
    def posted_at_local(self) -> str:
        return as_utc(self.post.posted_at).astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M %Z")


def review_posts(db: Database, *, review_id: str, principal: Principal) -> list[PostView]:
    """The sampled posts of a review, in sample order (top-scored first), each with its account:
    three statements whatever the sample's size."""
    with db.read() as s:
        review = _review(s, review_id, visible_departments(principal))
        if not review.sample:
            return []
        posts = {p.id: p for p in s.exec(select(MonitoredPost).where(col(MonitoredPost.id).in_(review.sample)))}
        account = s.get(MonitoredAccount, review.account_id)
        out = []
        for pid in review.sample:
            p = posts.get(pid)
            if p is None:
                continue
            top = review.sample.index(pid) < review.sample_top
            out.append(PostView(p, account, "top_score" if top else "random"))
        return out


def read_post(db: Database, *, post_id: str, principal: Principal) -> PostView:
    with db.read() as s:
        post = s.get(MonitoredPost, post_id) if len(post_id) <= 36 else None
        account = s.get(MonitoredAccount, post.account_id) if post is not None else None
        departments = visible_departments(principal)
        if post is None or (departments is not None and (account is None or account.department not in departments)):
            raise NotFound("No such post.")
        return PostView(post, account)


def record_finding(db: Database, *, review_id: str, post_id: str, item_key: str, result: str,
                   note: str | None, actor: str, now: datetime, sla: cases.Sla) -> ReviewFinding:
    """One checklist item of one sampled post; a failure opens (or attaches to) a case."""
    with db.write() as s:
        review = _review(s, review_id, None)
        if review.status != "in_progress":
            raise Conflict(f"The review is {review.status}.", current_state=review.status)
        if post_id not in review.sample:
            raise ValidationFailed("That post is not in this review's sample.",
                                   errors=[field_error(["body", "post_id"], "not in the sample")])
        item = checklist.BY_KEY.get(item_key)
        if item is None or item_key not in {i["key"] for i in review.checklist}:
            raise ValidationFailed("Unknown checklist item.", errors=[field_error(["body", "item_key"], "unknown")])
        exists_ = s.exec(select(ReviewFinding.id).where(ReviewFinding.review_id == review.id,
                                                        ReviewFinding.post_id == post_id,
                                                        ReviewFinding.item_key == item_key)).first()
        if exists_ is not None:
            raise Conflict("This item already has a finding for this post.")
        post = s.get(MonitoredPost, post_id)
        assert post is not None
        finding = ReviewFinding(review_id=review.id, post_id=post_id, item_key=item_key, element=item.element,
                                result=result, note=note, created_at=now)
        if result == "fail":
            finding.case_id = _case_for_failure(s, review=review, post=post, item=item, note=note, actor=actor,
                                                now=now, sla=sla).id
        s.add(finding)
        s.flush()
        audit.append(s, actor=actor, action="monitoring.finding", case_id=finding.case_id,
                     detail={"review_id": review.id, "post_id": post_id, "item": item_key, "result": result},
                     now=now)
        return finding


def _case_for_failure(session: Session, *, review: Review, post: MonitoredPost, item: checklist.Item,
                      note: str | None, actor: str, now: datetime, sla: cases.Sla) -> Case:
    case = cases.open_case_for_incident(session, post.url_key)
    evidence = {"kind": "monitored_post", "post_id": post.id, "url": post.url, "review_id": review.id}
    if case is not None:
        case.categories = sorted(set(case.categories) | {item.category.value})
        if post.url not in case.links:
            case.links = [*case.links, post.url][:50]
        if evidence not in case.evidence:
            case.evidence = [*case.evidence, evidence][:100]
        case.updated_at = now
        session.add(case)
        session.flush()
        audit.append(session, actor=actor, action="case.monitoring_finding_attached", case_id=case.id,
                     detail={"review_id": review.id, "item": item.key}, now=now, seal=[case])
        return case
    account = session.get(MonitoredAccount, review.account_id)
    summary = f"Monitoring review: failed '{item.text}'." + (f" {note}" if note else "")
    return cases.new_case(
        session, actor=actor, now=now, sla=sla, department=review.department, summary=summary[:5000],
        categories=[item.category.value], account_id=review.account_id,
        platform=account.platform if account else None, links=[post.url], seen_on=as_utc(post.posted_at).date(),
        source="monitoring", incident_key=post.url_key, evidence=[evidence],
    )


def complete_review(db: Database, *, review_id: str, now: datetime, actor: str, cadence: Cadence) -> Review:
    with db.write() as s:
        review = _review(s, review_id, None)
        if review.status != "in_progress":
            raise Conflict(f"The review is {review.status}.", current_state=review.status)
        _period_closed(review, now)
        done = {(f.post_id, f.item_key) for f in s.exec(select(ReviewFinding)
                                                        .where(ReviewFinding.review_id == review.id))}
        missing = [(p, i["key"]) for p in review.sample for i in review.checklist if (p, i["key"]) not in done]
        if missing:
            raise Conflict(f"{len(missing)} checklist item(s) still need a finding.", missing=len(missing))
        review.status = "completed"
        review.completed_at = now
        review.updated_at = now
        s.add(review)
        account = s.get(MonitoredAccount, review.account_id)
        successor = s.exec(select(Review.id).where(Review.account_id == review.account_id,
                                                   Review.period_start == review.period_end)).first()
        if account is not None and account.status == "active" and successor is None:
            _schedule(s, account, start=review.period_end, cadence=cadence, now=now, items=review.checklist)
        s.flush()
        audit.append(s, actor=actor, action="monitoring.review_completed", case_id=None,
                     detail={"review_id": review.id}, now=now)
        return review


def list_findings(db: Database, *, review_id: str, principal: Principal) -> list[ReviewFinding]:
    with db.read() as s:
        review = _review(s, review_id, visible_departments(principal))
        return list(s.exec(select(ReviewFinding).where(ReviewFinding.review_id == review.id)
                           .order_by(col(ReviewFinding.created_at), col(ReviewFinding.id))))


# --- reporting ----------------------------------------------------------------------------


def coverage_in(session: Session, *, today: date, departments: set[str] | None = None) -> list[CoverageCell]:
    """Per department, among active accounts: an account is **covered** when its last review that
    has come due (due date passed, or already completed) was completed on or before its due date;
    **not covered** when that review was missed, is still open past its due date, or was completed
    late; **new** (not counted either way) when no review of it has come due yet. ``share`` is
    covered / counted, null when nothing is counted. One statement: the last due review of every
    account is picked by a correlated subquery."""
    dialect = session.get_bind().dialect.name
    completed_day = (func.date(col(Review.completed_at)) if dialect == "sqlite"
                     else cast(col(Review.completed_at), Date))
    on_time = case((and_(col(Review.status) == "completed", col(Review.completed_at).is_not(None),
                         completed_day <= col(Review.due_on)), 1), else_=0)
    come_due = or_(col(Review.due_on) < today, col(Review.status) == "completed")
    last_due = (sa_select(on_time)
                .where(col(Review.account_id) == col(MonitoredAccount.account_id),
                       col(Review.status) != "cancelled", come_due)
                .order_by(col(Review.due_on).desc(), col(Review.id).desc())
                .limit(1).correlate(MonitoredAccount).scalar_subquery())
    q = (sa_select(col(MonitoredAccount.department), last_due)
         .where(col(MonitoredAccount.status) == "active")
         .order_by(col(MonitoredAccount.department)))
    if departments is not None:
        q = q.where(col(MonitoredAccount.department).in_(sorted(departments)))
    cells: dict[str, list[int]] = {}
    for department, flag in session.execute(q).all():
        cell = cells.setdefault(department, [0, 0, 0])  # counted, covered, new
        if flag is None:
            cell[2] += 1
        else:
            cell[0] += 1
            cell[1] += int(flag)
    return [CoverageCell(department=d, accounts=n, reviewed_on_schedule=ok, new_accounts=new,
                         share=round(ok / n, 4) if n else None)
            for d, (n, ok, new) in cells.items()]


def coverage(db: Database, *, today: date, principal: Principal) -> list[CoverageCell]:
    """``today``: the day in Albuquerque (``city_today``)."""
    with db.read() as s:
        return coverage_in(s, today=today, departments=visible_departments(principal))


def findings_by_element(db: Database, *, principal: Principal) -> dict[str, dict[str, int]]:
    """Review findings counted by policy element and result, in SQL."""
    departments = visible_departments(principal)
    q = (sa_select(col(ReviewFinding.element), col(ReviewFinding.result), func.count())
         .join(Review, col(Review.id) == col(ReviewFinding.review_id))
         .group_by(col(ReviewFinding.element), col(ReviewFinding.result)))
    if departments is not None:
        q = q.where(col(Review.department).in_(sorted(departments)))
    out: dict[str, dict[str, int]] = defaultdict(dict)
    with db.read() as s:
        for element, result, n in s.execute(q).all():
            out[element][result] = int(n)
    return dict(out)
