"""Anonymous public endpoints: aggregate case metrics with small cells suppressed."""

from __future__ import annotations

from services.case_api.deps import SettingsDep
from services.case_api.domain import metrics
from shared.schemas.metrics import PublicMetrics
from shared.web import ClockDep, DatabaseDep, problem_responses
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/metrics", response_model=PublicMetrics, operation_id="public_metrics",
            summary="Case figures for the Transparency page (cells under the threshold are null)",
            responses=problem_responses())
def public_metrics(db: DatabaseDep, clock: ClockDep, settings: SettingsDep) -> PublicMetrics:
    return metrics.public_metrics(db, now=clock.now(), threshold=settings.suppression_threshold)
