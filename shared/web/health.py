"""Liveness, readiness and whoami: the routes every service has."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import Request

from shared import migrations
from shared.errors import PROBLEM_TYPE_BASE
from shared.web.deps import PrincipalDep
from shared.web.problems import DB_RETRY_AFTER_SECONDS, problem_response, problem_responses
from shared.web.routing import APIRouter

log = structlog.get_logger("shared.web")


def health_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", operation_id="healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:  # no I/O: answered on the event loop, no thread hop
        return {"status": "ok"}

    @router.get(
        "/readyz",
        operation_id="readyz",
        tags=["health"],
        summary="Readiness: the database answers and its migrations are current",
        responses=problem_responses(503),
    )
    def readyz(request: Request) -> Any:
        app = request.app
        try:
            app.state.db.ping()
            if not app.state.migrated:
                app.state.migrated = migrations.is_current(app.state.db.reader, app.state.migrations_dir)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            log.warning("not_ready", error=type(exc).__name__)
            return problem_response(
                request, 503, detail="The database is not reachable.", type_=PROBLEM_TYPE_BASE + "not-ready",
                headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
            )
        if not app.state.migrated:
            return problem_response(
                request, 503, detail="The database is not migrated to the current version: run `civicsocial migrate`.",
                type_=PROBLEM_TYPE_BASE + "not-ready", headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
            )
        return {"status": "ready", "database": "ok", "migrations": "current"}

    @router.get(
        "/auth/whoami",
        operation_id="whoami",
        summary="The identity and roles the service reads from your token",
        tags=["auth"],
        responses=problem_responses(401),
    )
    def whoami(principal: PrincipalDep) -> dict[str, Any]:
        return {"subject": principal.subject, "roles": sorted(principal.roles), "department": principal.department}

    return router
