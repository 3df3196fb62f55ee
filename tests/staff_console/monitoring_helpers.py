"""Test set-up for the monitoring screens: a review looks back over a closed period, so a test
running today moves the account's review back to a period that ended last week (case_api's own
database, through its Database: the same as a review scheduled 97 days ago)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from services.case_api.domain.models import Review
from services.case_api.domain.monitoring import city_today
from shared.timeutil import utcnow


def period_ended_last_week(case_app: Any, account_id: str) -> None:
    today = city_today(utcnow())
    with case_app.state.db.write() as s:
        for r in s.exec(select(Review).where(Review.account_id == account_id)).all():
            r.period_start, r.period_end = today - timedelta(days=97), today - timedelta(days=7)
            r.due_on = today + timedelta(days=7)
            s.add(r)
