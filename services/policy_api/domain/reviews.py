"""The review schedule of R-24-89 §1.A.8 as stored data: recorded reviews, each policy's review
status, the policies due for review (computed in SQL) and a policy's public history.

``review_schedule.py`` is the pure rule; ``due_date_key`` below is the same rule written as a SQL
expression so that ``reviews_due`` filters, orders and pages in the database (a test compares the
two on both databases)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Integer, and_, case, cast, extract, func, literal
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog, review_schedule
from services.policy_api.domain.context import WriteContext
from services.policy_api.domain.models import Policy, PolicyReview, PolicyVersion
from services.policy_api.domain.policies import (
    PUBLIC,
    PUBLISHED,
    PolicyRow,
    current_version,
    get_policy,
    last_reviewed_subquery,
)
from shared.db import Database
from shared.errors import Conflict, ValidationFailed, field_error
from shared.schemas.policy_feedback import PolicyFeedbackCounts
from shared.timeutil import as_utc


def status_of(row: PolicyRow, today: date) -> review_schedule.ReviewStatus:
    """The review status of a policy row (pure: no query)."""
    current = row.current
    if current is None:
        return review_schedule.status(today=today, interval_months=row.policy.review_interval_months,
                                      last_review=None, published_on=None)
    published_on = current.published_on or (as_utc(current.published_at).date() if current.published_at else None)
    return review_schedule.status(today=today, interval_months=row.policy.review_interval_months,
                                  last_review=row.last_reviewed_on, published_on=published_on)


# --- recorded reviews ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewReview:
    outcome: str  # reaffirmed | revision_started
    notes: str = ""
    reviewed_on: date | None = None  # default: today


def record_review(db: Database, ctx: WriteContext, *, policy_id: str, review: NewReview,
                  feedback: Callable[[], PolicyFeedbackCounts | None] = lambda: None) -> PolicyReview:
    """``feedback`` reads feedback_api's counts (no transaction open yet): the review records the residents'
    feedback on this policy received by then, by triage state (None when feedback_api did not answer)."""
    counts = feedback()
    at_review = None if counts is None else {
        state: sum(c.count for c in counts.items if c.policy_id == policy_id and c.state == state)
        for state in ("received", "considered", "answered", "closed")}
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        current = current_version(s, policy.id)
        if current is None:
            raise Conflict("Only a policy with a published version can be reviewed.")
        reviewed_on = review.reviewed_on or ctx.now.date()
        if reviewed_on > ctx.now.date():
            raise ValidationFailed("A review cannot be recorded for a future date.",
                                   errors=[field_error(["body", "reviewed_on"], "In the future.")])
        row = PolicyReview(policy_id=policy.id, version_id=current.id, reviewed_on=reviewed_on,
                           outcome=review.outcome, notes=review.notes or "", reviewer=ctx.actor, recorded_at=ctx.now,
                           feedback_at_review=at_review)
        s.add(row)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="policy.reviewed", entity_type="policy", entity_id=policy.id,
                         at=ctx.now, after=changelog.snapshot(row), request_id=ctx.request_id)
        return row


def reviews_page(session: Session, policy_id: str, *, limit: int, offset: int) -> tuple[list[PolicyReview], int]:
    query = select(PolicyReview).where(PolicyReview.policy_id == policy_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(PolicyReview.reviewed_on).desc(), col(PolicyReview.recorded_at).desc())
        .offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


def list_reviews(
    db: Database, *, policy_id: str, public: bool, limit: int, offset: int
) -> tuple[list[PolicyReview], int]:
    """Three statements: the visibility check, the count, the page."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=public)
        return reviews_page(s, policy.id, limit=limit, offset=offset)


# --- due for review: the rule in SQL ----------------------------------------------------------


def _ymd_key(day: Any) -> Any:
    """``YYYYMMDD`` as an integer, from a DATE or TIMESTAMP expression (both databases)."""
    return (cast(extract("year", day), Integer) * 10000 + cast(extract("month", day), Integer) * 100
            + cast(extract("day", day), Integer))


def due_date_key(dialect: str, *, interval_months: Any, published_on: Any, last_reviewed_on: Any) -> Any:
    """``review_schedule.status(...).next_review_due`` as a ``YYYYMMDD`` integer expression: the
    interval in calendar months after the later of the last review and the (real) publication date,
    the day clamped to the month's last day. ``dialect`` is kept for callers; both dates are DATEs."""
    published = _ymd_key(published_on)
    reviewed = _ymd_key(last_reviewed_on)
    basis = case((and_(last_reviewed_on.is_not(None), reviewed >= published), reviewed), else_=published)
    # month index (year * 12 + month - 1) of the due date, then its year, month and clamped day
    index = (basis // 10000) * 12 + (basis // 100) % 100 - 1 + interval_months
    year, month, day = index // 12, index % 12 + 1, basis % 100
    leap = case((and_(year % 4 == 0, year % 100 != 0), 1), (year % 400 == 0, 1), else_=0)
    month_days = case((month == 2, 28 + leap), (month.in_([4, 6, 9, 11]), 30), else_=31)
    clamped = case((day > month_days, month_days), else_=day)
    return year * 10000 + month * 100 + clamped


@dataclass(frozen=True)
class DuePage:
    rows: list[PolicyRow]
    total: int


def reviews_due(db: Database, *, today: date, within_days: int, limit: int, offset: int) -> DuePage:
    """Policies with a published version whose next review is due by ``today + within_days`` (overdue
    ones included), soonest first, then by identifier. Two statements: count and page."""
    horizon = today + timedelta(days=within_days)
    horizon_key = horizon.year * 10000 + horizon.month * 100 + horizon.day
    last = last_reviewed_subquery()
    current = aliased(PolicyVersion)
    due = due_date_key(db.dialect, interval_months=col(Policy.review_interval_months),
                       published_on=col(current.published_on), last_reviewed_on=last.c.last_reviewed_on)
    base = (
        select(Policy, current, last.c.last_reviewed_on)
        .join(current, and_(col(current.policy_id) == col(Policy.id), col(current.state) == PUBLISHED))
        .outerjoin(last, last.c.policy_id == col(Policy.id))
        .where(col(current.published_on).is_not(None), due <= literal(horizon_key))
    )
    with db.read() as s:
        total = s.exec(select(func.count()).select_from(base.subquery())).one()
        rows = s.exec(base.order_by(due, col(Policy.identifier)).offset(offset).limit(limit)).all()
        return DuePage(rows=[PolicyRow(policy=p, current=v, last_reviewed_on=d) for p, v, d in rows],
                       total=int(total))


# --- history -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    event: Literal["published", "superseded", "retired", "reviewed"]
    version_id: str | None
    version_label: str | None
    detail: str | None = None


def history(db: Database, *, policy_id: str, public: bool) -> list[HistoryEntry]:
    """Publications, supersessions, retirements and reviews, newest first. Three statements."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=public)
        versions = s.exec(
            select(PolicyVersion).where(PolicyVersion.policy_id == policy.id, col(PolicyVersion.state).in_(PUBLIC))
        ).all()
        reviews = s.exec(select(PolicyReview).where(PolicyReview.policy_id == policy.id)).all()
    events: list[HistoryEntry] = []
    labels = {v.id: v.label for v in versions}
    for v in versions:
        if v.published_at:
            events.append(HistoryEntry(at=as_utc(v.published_at), event="published", version_id=v.id,
                                       version_label=v.label, detail=v.change_summary or None))
        if v.superseded_at:
            events.append(HistoryEntry(at=as_utc(v.superseded_at), event="superseded", version_id=v.id,
                                       version_label=v.label))
        if v.retired_at:
            events.append(HistoryEntry(at=as_utc(v.retired_at), event="retired", version_id=v.id,
                                       version_label=v.label))
    for r in reviews:
        at = datetime.combine(r.reviewed_on, datetime.min.time(), tzinfo=UTC)
        events.append(HistoryEntry(at=at, event="reviewed", version_id=r.version_id,
                                   version_label=labels.get(r.version_id or ""),
                                   detail=r.outcome + (f": {r.notes}" if r.notes else "")))
    # Newest first; a publication at the same instant as the supersession it causes comes first.
    rank = {"published": 3, "retired": 2, "superseded": 1, "reviewed": 0}
    events.sort(key=lambda e: (e.at, rank[e.event]), reverse=True)
    return events
