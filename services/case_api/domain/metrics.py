"""Case metrics for Council and the public (figures computed from the case table).

Public figures suppress any cell under the threshold (default 5) so that no small group of
cases — and so no employee or reporter — can be singled out. Where the cells of a dimension
add up to the published total (department, state, outcome) and exactly one cell is suppressed,
the next smallest cell is suppressed as well, so the hidden one cannot be recovered by subtraction.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from services.case_api.domain.models import Case, RestorativeAction
from services.case_api.domain.state_machine import TERMINAL, State
from shared.schemas.metrics import MetricCell, PublicMetrics
from shared.timeutil import as_utc

UNASSIGNED = "unassigned"


@dataclass
class Figures:
    generated_at: datetime
    cases_total: int
    by_category: dict[str, int]
    by_department: dict[str, int]
    by_outcome: dict[str, int]
    by_state: dict[str, int]
    resolved: int
    median_days_to_resolution: float | None
    p90_days_to_resolution: float | None
    restorative_actions_due: int
    restorative_actions_on_time: int
    restorative_actions_on_time_share: float | None
    overdue_cases: int


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in [0, 1]); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def outcome_of(case: Case) -> str | None:
    if case.state == State.dismissed.value:
        return "dismissed"
    if case.state == State.closed.value:
        return case.finding or "closed"
    return None


def compute(session: Session, *, now: datetime, departments: set[str] | None = None) -> Figures:
    q = select(Case)
    if departments is not None:
        q = q.where(col(Case.department).in_(sorted(departments)))
    cases = list(session.exec(q))
    by_category: Counter[str] = Counter()
    by_department: Counter[str] = Counter()
    by_outcome: Counter[str] = Counter()
    by_state: Counter[str] = Counter()
    days: list[float] = []
    overdue = 0
    for c in cases:
        by_category.update(set(c.categories))
        by_department[c.department or UNASSIGNED] += 1
        by_state[c.state] += 1
        outcome = outcome_of(c)
        if outcome:
            by_outcome[outcome] += 1
        if c.state in {s.value for s in TERMINAL} and c.closed_at is not None:
            days.append((as_utc(c.closed_at) - as_utc(c.created_at)).total_seconds() / 86400)
        if c.due_at is not None and as_utc(c.due_at) < now and c.state not in {s.value for s in TERMINAL}:
            overdue += 1
    ids = [c.id for c in cases]
    actions = (list(session.exec(select(RestorativeAction).where(col(RestorativeAction.case_id).in_(ids))))
               if ids else [])
    today = now.date()
    due, on_time = _on_time(actions, today)
    median = percentile(days, 0.5)
    p90 = percentile(days, 0.9)
    return Figures(
        generated_at=now, cases_total=len(cases), by_category=dict(by_category), by_department=dict(by_department),
        by_outcome=dict(by_outcome), by_state=dict(by_state), resolved=len(days),
        median_days_to_resolution=round(median, 2) if median is not None else None,
        p90_days_to_resolution=round(p90, 2) if p90 is not None else None,
        restorative_actions_due=due, restorative_actions_on_time=on_time,
        restorative_actions_on_time_share=round(on_time / due, 4) if due else None, overdue_cases=overdue,
    )


def _on_time(actions: list[RestorativeAction], today: date) -> tuple[int, int]:
    """Actions that have come due (completed, or past their due date): how many were completed on time."""
    due = on_time = 0
    for a in actions:
        if a.status == "cancelled":
            continue
        if a.status == "completed" and a.completed_at is not None:
            due += 1
            if as_utc(a.completed_at).date() <= a.due_on:
                on_time += 1
        elif a.due_on < today:
            due += 1
    return due, on_time


def suppress(counts: dict[str, int], threshold: int, *, partition: bool) -> list[MetricCell]:
    hidden = {k for k, v in counts.items() if v < threshold}
    if partition and len(hidden) == 1 and len(counts) > 1:
        visible = sorted((v, k) for k, v in counts.items() if k not in hidden)
        hidden.add(visible[0][1])
    return [MetricCell(key=k, count=None if k in hidden else v) for k, v in sorted(counts.items())]


def public(figures: Figures, threshold: int) -> PublicMetrics:
    enough_resolved = figures.resolved >= threshold
    enough_actions = figures.restorative_actions_due >= threshold
    return PublicMetrics(
        generated_at=figures.generated_at,
        suppression_threshold=threshold,
        cases_total=figures.cases_total if figures.cases_total >= threshold else None,
        by_category=suppress(figures.by_category, threshold, partition=False),
        by_department=suppress(figures.by_department, threshold, partition=True),
        by_outcome=suppress(figures.by_outcome, threshold, partition=True),
        by_state=suppress(figures.by_state, threshold, partition=True),
        median_days_to_resolution=figures.median_days_to_resolution if enough_resolved else None,
        p90_days_to_resolution=figures.p90_days_to_resolution if enough_resolved else None,
        restorative_actions_on_time_share=figures.restorative_actions_on_time_share if enough_actions else None,
    )


def rows(figures: Figures) -> list[tuple[str, str, str]]:
    """Flat (dimension, key, value) rows for CSV export."""
    out: list[tuple[str, str, str]] = [("total", "cases", str(figures.cases_total))]
    for dim, counts in (("category", figures.by_category), ("department", figures.by_department),
                        ("outcome", figures.by_outcome), ("state", figures.by_state)):
        out.extend((dim, k, str(v)) for k, v in sorted(counts.items()))
    for name in ("resolved", "median_days_to_resolution", "p90_days_to_resolution", "restorative_actions_due",
                 "restorative_actions_on_time", "restorative_actions_on_time_share", "overdue_cases"):
        value = getattr(figures, name)
        out.append(("summary", name, "" if value is None else str(value)))
    return out
