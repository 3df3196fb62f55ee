"""Social Media Case Management API: the app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.case_api.checkpointer import Checkpointer
from services.case_api.notifier import NotificationScheduler
from services.case_api.relay import build_relay
from services.case_api.retention_scheduler import RetentionScheduler
from services.case_api.routers import ROUTERS, drafts
from services.case_api.routers import notifications as notification_routes
from services.case_api.routers import webhooks as webhook_routes
from services.case_api.scheduler import MonitoringScheduler
from services.case_api.settings import CaseSettings
from shared.auth import Role, ServiceTokenProvider
from shared.http import ServiceClient
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
        app.state.checkpointer.start()
        app.state.retention.start()
        app.state.notifier.start()
        try:
            yield
        finally:
            app.state.notifier.stop()
            app.state.retention.stop()
            app.state.scheduler.stop()
            app.state.checkpointer.stop()
            app.state.relay.stop()
            app.state.peers.close()

    app = create_service_app(
        settings=settings,
        title="Social Media Case Management API",
        description=DESCRIPTION,
        version=VERSION,
        migrations_dir=MIGRATIONS_DIR,
        routers=[*ROUTERS, notification_routes.router, webhook_routes.router, drafts.router],  # drafts: issue 18
        clock=clock,
        lifespan=lifespan,
        public_spec=False,  # personnel cases: no docs or OpenAPI document in production, whatever SERVE_DOCS says
        body_limit_overrides=[("/v1/monitoring/imports/stream", 64 * 1024 * 1024)],  # streamed post imports
        unlogged_writes=("/v1/intake",),  # timing privacy: a forwarded report is not dated in the access log
    )
    # One client and one service token for every peer call: reads (acknowledgement check, registry,
    # contact, evidence) and the outbox relay. Per-call timeouts where a read must stay short.
    app.state.peers = ServiceClient(
        {"policy_api": settings.policy_api_url, "feedback_api": settings.feedback_api_url},
        tokens=ServiceTokenProvider(settings.auth, settings.mode, "case_api", [Role.svc_case]),
        timeout=settings.http_timeout_seconds, retries=settings.http_retries)
    app.state.notifier = NotificationScheduler(settings, app.state.db, app.state.clock)
    app.state.notify_stats = app.state.notifier.stats
    app.state.relay = build_relay(settings, app.state.db, app.state.peers, app.state.clock, app.state.notify_stats)
    app.state.notifier.relay = app.state.relay
    app.state.scheduler = MonitoringScheduler(settings, app.state.db, app.state.peers, app.state.clock)
    app.state.checkpointer = Checkpointer(settings, app.state.db, app.state.clock)  # issue 15: chain head signed
    app.state.retention = RetentionScheduler(settings, app.state.db, app.state.clock)  # issue 15 item 5
    return app
