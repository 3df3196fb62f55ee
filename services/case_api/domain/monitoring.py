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

import csv
import io
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, exists, func, not_, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.case_api import clients
from services.case_api.domain import access, audit, cases, checklist, identity
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
from shared.post_urls import InvalidPostUrl, incident_key, normalise_post_url
from shared.schemas.metrics import CoverageCell
from shared.schemas.registry import AccountPublic
from shared.timeutil import as_utc


def visible_departments(principal: Principal) -> set[str] | None:
    """Monitors see every department's reviews; staff as for cases (None: every department)."""
    return None if principal.has_any(Role.monitor) else access.visible_departments(principal)

OPEN_REVIEW = ("scheduled", "in_progress")
MAX_IMPORT_ROWS = 5000
MAX_TEXT = 10000
MAX_THREAD = 200


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
    today = now.date()
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
            last = session.exec(select(Review).where(Review.account_id == acc.id, Review.status == "completed")
                                .order_by(col(Review.period_end).desc())).first()
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
    audit.append(session, actor=actor, action="monitoring.synced", case_id=None,
                 detail={"active": result.active, "added": result.added, "deactivated": result.deactivated,
                         "scheduled": result.scheduled, "cancelled": result.cancelled}, now=now)
    return result


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

_ALIASES: dict[str, tuple[str, ...]] = {
    "url": ("url", "post url", "post_url", "permalink", "link", "post link"),
    "account": ("account_id", "account", "account name", "handle", "username", "screen name", "page"),
    "posted_at": ("posted_at", "timestamp", "date", "created", "created at", "created_at", "post date",
                  "published", "date posted"),
    "text": ("text", "content", "message", "body", "post text", "post content", "caption"),
    "thread": ("comments", "comment thread", "replies", "thread", "comments_json"),
}


@dataclass
class ImportResult:
    received: int = 0
    imported: int = 0
    duplicates: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)


def _parse_time(value: Any, now: datetime) -> datetime:
    dt: datetime | None = None
    if isinstance(value, datetime):
        dt = value
    else:
        s = str(value or "").strip()
        if not s:
            raise ValueError("missing timestamp")
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y", "%Y-%m-%d %H:%M"):
                try:
                    dt = datetime.strptime(s, fmt)  # archive exports are in UTC
                    break
                except ValueError:
                    continue
        if dt is None:
            raise ValueError(f"unreadable timestamp {s[:40]!r}")
    assert dt is not None
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if dt > now + timedelta(minutes=5):
        raise ValueError("timestamp is in the future")
    return dt


def _parse_thread(value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        items = value
    else:
        s = str(value).strip()
        if s.startswith("["):
            items = json.loads(s)
            if not isinstance(items, list):
                raise ValueError("comments must be a list")
        else:  # one comment per line, "author: text"
            items = []
            for line in s.splitlines():
                if line.strip():
                    author, sep, text = line.partition(":")
                    items.append({"author": author.strip(), "text": text.strip()} if sep else {"text": line.strip()})
    out = []
    for item in items[:MAX_THREAD]:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            raise ValueError("each comment must be an object or a string")
        out.append({"author": str(item.get("author") or "")[:200] or None, "text": str(item.get("text") or "")[:2000],
                    "at": str(item.get("at") or item.get("timestamp") or "")[:40] or None})
    return out


def _pick(row: dict[str, Any], name: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for alias in _ALIASES[name]:
        if alias in lowered and lowered[alias] not in (None, ""):
            return lowered[alias]
    return None


def _resolve_account(session: Session, value: Any, default_account: str | None,
                     handles: dict[str, str]) -> str:
    raw = str(value).strip() if value not in (None, "") else (default_account or "")
    if not raw:
        raise ValueError("no account (give account_id, or a handle known to the registry)")
    if session.get(MonitoredAccount, raw) is not None:
        return raw
    key = raw.lstrip("@").lower()
    if key in handles:
        return handles[key]
    raise ValueError(f"unknown account {raw[:60]!r}: sync the registry first")


def rows_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return [dict(r) for r in reader]


def import_posts(db: Database, *, rows: list[dict[str, Any]], source: str, now: datetime, actor: str,
                 default_account: str | None = None) -> ImportResult:
    """Import posts (JSON rows, or rows read from CSV with ``rows_from_csv``) in one unit of work."""
    with db.write() as s:
        return _import_posts(s, rows=rows, source=source, now=now, actor=actor, default_account=default_account)


def _import_posts(session: Session, *, rows: list[dict[str, Any]], source: str, now: datetime, actor: str,
                  default_account: str | None = None) -> ImportResult:
    """Validate and store each row on its own (a savepoint per row): a bad row never aborts the
    good ones, and the response lists every refused row with its reason (row numbers from 1)."""
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed(f"At most {MAX_IMPORT_ROWS} rows per import.")
    result = ImportResult(received=len(rows))
    handles = {a.handle.lstrip("@").lower(): a.account_id for a in session.exec(select(MonitoredAccount)).all()}
    for n, row in enumerate(rows, start=1):
        try:
            url = _pick(row, "url")
            if not url:
                raise ValueError("missing post URL")
            url = str(url).strip()
            if len(url) > 2000:
                raise ValueError("URL longer than 2000 characters")
            try:
                key = incident_key(url)
                normalised = normalise_post_url(url)
            except InvalidPostUrl as exc:
                raise ValueError(str(exc)) from exc
            account_id = _resolve_account(session, _pick(row, "account"), default_account, handles)
            posted_at = _parse_time(_pick(row, "posted_at"), now)
            text = str(_pick(row, "text") or "")
            if len(text) > MAX_TEXT:
                raise ValueError(f"text longer than {MAX_TEXT} characters")
            try:
                thread = _parse_thread(_pick(row, "thread"))
            except (ValueError, json.JSONDecodeError) as exc:
                raise ValueError(f"unreadable comment thread: {exc}") from exc
        except ValueError as exc:
            result.refused.append({"row": n, "reason": str(exc)})
            continue
        if session.exec(select(MonitoredPost.id).where(MonitoredPost.url_key == key)).first() is not None:
            result.duplicates += 1
            continue
        try:
            with session.begin_nested():
                session.add(MonitoredPost(url=normalised, url_key=key, account_id=account_id, posted_at=posted_at,
                                          text=text, thread=thread, source=source, imported_at=now))
                session.flush()
        except IntegrityError:
            result.duplicates += 1
            continue
        result.imported += 1
    audit.append(session, actor=actor, action="monitoring.imported", case_id=None,
                 detail={"source": source, "received": result.received, "imported": result.imported,
                         "duplicates": result.duplicates, "refused": len(result.refused)}, now=now)
    return result


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
        posts = list(s.exec(
            select(MonitoredPost.id).where(MonitoredPost.account_id == review.account_id,
                                           col(MonitoredPost.posted_at) < datetime.combine(
                                               review.period_end, datetime.min.time(), tzinfo=UTC))
        ))
        if not posts:
            raise Conflict("No posts of this account have been imported for the period: import them first.",
                           current_state=review.status)
        rng = secrets.SystemRandom()
        review.sample = sorted(rng.sample(posts, min(sample_size, len(posts))))
        review.status = "in_progress"
        review.reviewer = reviewer
        review.updated_at = now
        s.add(review)
        s.flush()
        audit.append(s, actor=actor, action="monitoring.review_started", case_id=None,
                     detail={"review_id": review.id, "reviewer": reviewer, "sample": len(review.sample)}, now=now)
        return review


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
        if account is not None and account.status == "active":
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
    """Per department: active accounts, and those with no review missed or late among the reviews
    due in the last 12 months (an account with nothing due yet counts as on schedule). One
    aggregate statement: a review is missed when it is not cancelled and was completed after its
    due date, or is not completed and its due date has passed."""
    window_start = today - timedelta(days=365)
    dialect = session.get_bind().dialect.name
    completed_day = (func.date(col(Review.completed_at)) if dialect == "sqlite"
                     else cast(col(Review.completed_at), Date))
    completed = and_(col(Review.status) == "completed", col(Review.completed_at).is_not(None))
    missed = exists().where(
        col(Review.account_id) == col(MonitoredAccount.account_id),
        col(Review.due_on) >= window_start, col(Review.due_on) <= today, col(Review.status) != "cancelled",
        or_(and_(completed, completed_day > col(Review.due_on)), and_(not_(completed), col(Review.due_on) < today)),
    )
    q = (sa_select(col(MonitoredAccount.department), func.count(), func.sum(case((~missed, 1), else_=0)))
         .where(col(MonitoredAccount.status) == "active")
         .group_by(col(MonitoredAccount.department)).order_by(col(MonitoredAccount.department)))
    if departments is not None:
        q = q.where(col(MonitoredAccount.department).in_(sorted(departments)))
    return [CoverageCell(department=d, accounts=int(n), reviewed_on_schedule=int(ok or 0),
                         share=round(int(ok or 0) / int(n), 4))
            for d, n, ok in session.execute(q).all()]


def coverage(db: Database, *, today: date, principal: Principal) -> list[CoverageCell]:
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
