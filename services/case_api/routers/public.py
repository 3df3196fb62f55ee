"""Anonymous public endpoints: aggregate case metrics with small cells suppressed."""

from __future__ import annotations

from fastapi import APIRouter

from services.case_api.deps import SettingsDep
from services.case_api.domain import metrics, monitoring
from shared.api import SessionDep
from shared.schemas.metrics import PublicMetrics
from shared.web import ClockDep, problem_responses

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/metrics", response_model=PublicMetrics, operation_id="public_metrics",
            summary="Case figures for the Transparency page (cells under the threshold are null)",
            responses=problem_responses())
def public_metrics(session: SessionDep, clock: ClockDep, settings: SettingsDep) -> PublicMetrics:
    figures = metrics.compute(session, now=clock.now())
    out = metrics.public(figures, settings.suppression_threshold)
    out.monitoring_coverage = monitoring.coverage(session, today=clock.now().date())
    return out
