"""``reviews_due`` filters, orders and pages in SQL: the SQL due date must be the pure rule's
(review_schedule.status) to the day, month ends and leap years included, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.policy_api.domain import review_schedule, reviews
from services.policy_api.domain.models import Policy, PolicyReview, PolicyVersion

# (published at, last review or None, interval in months)
CASES = [
    (datetime(2024, 1, 31, 12, tzinfo=UTC), None, 1),       # 2024-02-29 (leap)
    (datetime(2023, 1, 31, 12, tzinfo=UTC), None, 1),       # 2023-02-28
    (datetime(2025, 8, 31, 9, tzinfo=UTC), None, 6),        # 2026-02-28
    (datetime(2024, 2, 29, 9, tzinfo=UTC), None, 12),       # 2025-02-28
    (datetime(2024, 2, 29, 9, tzinfo=UTC), None, 48),       # 2028-02-29
    (datetime(2025, 3, 1, 15, tzinfo=UTC), date(2025, 6, 30), 3),   # review basis: 2025-09-30
    (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), None, 2),  # the UTC day counts: 2026-02-28
    (datetime(2025, 5, 15, 8, tzinfo=UTC), date(2025, 5, 15), 12),  # a tie: the review is the basis
    (datetime(2000, 1, 31, 8, tzinfo=UTC), None, 1),        # 2000-02-29 (divisible by 400)
    (datetime(2100, 1, 31, 8, tzinfo=UTC), None, 1),        # 2100-02-28 (divisible by 100 only)
    (datetime(2025, 1, 10, 8, tzinfo=UTC), date(2025, 10, 31), 4),  # 2026-02-28
    (datetime(2025, 7, 31, 8, tzinfo=UTC), None, 60),       # 2030-07-31
]


def _seed(db) -> list[tuple[str, date]]:
    expected = []
    with db.write() as s:
        for i, (published_at, reviewed_on, interval) in enumerate(CASES):
            p = Policy(kind="other", identifier=f"P-{i:02d}", title="t", department="d",
                       review_interval_months=interval, created_by="x", created_at=published_at,
                       updated_at=published_at)
            s.add(p)
            s.flush()
            v = PolicyVersion(policy_id=p.id, number=1, label="1", state="published", author_id="x",
                              contributors=["x"], published_at=published_at, published_on=published_at.date(),
                              effective_date=published_at.date(),
                              created_at=published_at, updated_at=published_at)
            s.add(v)
            if reviewed_on:
                s.add(PolicyReview(policy_id=p.id, version_id=None, reviewed_on=reviewed_on, outcome="reaffirmed",
                                   reviewer="x", recorded_at=published_at))
            st = review_schedule.status(today=date(2025, 1, 1), interval_months=interval, last_review=reviewed_on,
                                        published_on=published_at.date())
            assert st.next_review_due is not None
            expected.append((p.id, st.next_review_due))
    return expected


@pytest.mark.usefixtures("databases")
def test_sql_due_dates_are_the_rules(app):
    db = app.state.db
    expected = _seed(db)
    far = reviews.reviews_due(db, today=date(2200, 1, 1), within_days=0, limit=100, offset=0)
    by_rule = sorted(expected, key=lambda e: (e[1], next(r.policy.identifier for r in far.rows if r.policy.id == e[0])))
    assert [r.policy.id for r in far.rows] == [pid for pid, _ in by_rule]
    assert far.total == len(CASES)
    # At each due date and the day before, exactly the policies due by then are listed.
    for _pid, due in expected:
        for horizon in (due, due - timedelta(days=1)):
            page = reviews.reviews_due(db, today=horizon, within_days=0, limit=100, offset=0)
            assert {r.policy.id for r in page.rows} == {p for p, d in expected if d <= horizon}, horizon
            assert page.total == len(page.rows)
    # Paging is SQL's: the second page continues the first.
    first = reviews.reviews_due(db, today=date(2200, 1, 1), within_days=0, limit=5, offset=0)
    second = reviews.reviews_due(db, today=date(2200, 1, 1), within_days=0, limit=5, offset=5)
    assert [r.policy.id for r in first.rows + second.rows] == [pid for pid, _ in by_rule][:10]
    # And the status each row carries is the rule's.
    for row in far.rows:
        assert reviews.status_of(row, date(2025, 1, 1)).next_review_due == dict(expected)[row.policy.id]
