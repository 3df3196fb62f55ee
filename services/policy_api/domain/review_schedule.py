"""R-24-89 §1.A.8: each policy is reviewed on a schedule.

``next_review_due`` is the review interval after the later of the last recorded review and the
current version's publication. Pure: dates in, dates out."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

DEFAULT_INTERVAL_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ReviewStatus:
    basis: str | None  # "review" | "publication" | None (never published)
    basis_date: date | None
    next_review_due: date | None
    overdue: bool
    days_until_due: int | None

    def due_within(self, days: int) -> bool:
        return self.days_until_due is not None and self.days_until_due <= days


def status(
    *,
    today: date,
    interval_months: int,
    last_review: date | None,
    published_on: date | None,
) -> ReviewStatus:
    candidates = [(d, b) for d, b in ((last_review, "review"), (published_on, "publication")) if d is not None]
    if not candidates:
        return ReviewStatus(basis=None, basis_date=None, next_review_due=None, overdue=False, days_until_due=None)
    # The later date wins; on a tie, a review is the more recent act.
    basis_date, basis = max(candidates, key=lambda c: (c[0], c[1] == "review"))
    due = add_months(basis_date, interval_months)
    days = (due - today).days
    return ReviewStatus(basis=basis, basis_date=basis_date, next_review_due=due, overdue=days < 0,
                        days_until_due=days)
