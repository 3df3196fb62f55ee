"""Social Media Case Management API: the app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.case_api.relay import build_relay
from services.case_api.routers import ROUTERS
from services.case_api.scheduler import MonitoringScheduler
from services.case_api.settings import CaseSettings
from shared.timeutil import Clock
from shared.web import create_service_app

SETTINGS_CLASS = CaseSettings
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION = "0.1.0"
DESCRIPTION = (
    "Internal case management for R-24-89: triage, investigation, findings, the disciplinary escalation "
    "ladder (§1.A.6), restorative actions (§1.A.7), monitoring reviews (§1.A.5) and a tamper-evident "
    "audit trail."
)



def create_app(settings: CaseSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or CaseSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.relay_enabled:
            app.state.relay.start()
        app.state.scheduler.start()
        try:
            yield
        finally:
            app.state.scheduler.stop()
            app.state.relay.stop()
            for c in app.state.relay_clients:
                c.close()

    app = create_service_app(
        settings=settings,
        title="Social Media Case Management API",
        description=DESCRIPTION,
        version=VERSION,
        migrations_dir=MIGRATIONS_DIR,
        routers=ROUTERS,
        clock=clock,
        lifespan=lifespan,
    )
    app.state.relay, app.state.relay_clients = build_relay(settings, app.state.engine, app.state.clock)
    app.state.scheduler = MonitoringScheduler(settings, app.state.engine, app.state.clock)
    return app
