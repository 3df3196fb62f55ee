"""Social Media Policy API: the app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.policy_api.council_report_render import TRANSPARENCY_PEER
from services.policy_api.feedback_client import PEER as FEEDBACK_PEER
from services.policy_api.feedback_client import FeedbackSource
from services.policy_api.metrics_client import MetricsSource
from services.policy_api.notifier import PolicyNotifier, build_relay
from services.policy_api.routers import ROUTERS
from services.policy_api.routers import webhooks as webhook_routes
from services.policy_api.settings import PolicySettings
from shared.auth import Role, ServiceTokenProvider
from shared.http import ServiceClient
from shared.timeutil import Clock
from shared.web import create_service_app
from shared.web.public_pages import install_public_pages

SETTINGS_CLASS = PolicySettings
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION = "0.1.0"
DESCRIPTION = (
    "Publishes the City of Albuquerque's social media policies (R-24-89 §1.A and §1.B), their review "
    "schedule and the registry of official accounts. Public reads, staff writes. The Transparency page "
    "is at /transparency."
)
OPENAPI_TAGS = [
    {"name": "policies", "description": "Published policies, versions, diffs, completeness, review status (public)."},
    {"name": "policies (staff)", "description": "Drafting, the version lifecycle and reviews (staff roles)."},
    {"name": "accounts", "description": "The registry of official accounts and posting privileges."},
    {"name": "elements", "description": "The R-24-89 §1.A element catalogue."},
    {"name": "acknowledgements", "description": "Staff acknowledgements and who is bound by a policy."},
    {"name": "feed", "description": "Atom feed of publications and reviews."},
    {"name": "change log", "description": "The append-only record of every write."},
    {"name": "council report", "description": "The Executive Communication to Council (R-24-89 §2), HTML and PDF."},
    {"name": "transparency", "description": "The server-rendered Transparency page (HTML)."},
]
# JSON answers never need to load anything; HTML pages set their own, stricter-for-their-needs CSP.
API_SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"}


def create_app(settings: PolicySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or PolicySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.relay.start()
        app.state.notifier.start()
        try:
            yield
        finally:
            app.state.notifier.stop()
            app.state.relay.stop()
            app.state.peers.close()

    app = create_service_app(
        settings=settings,
        title="Social Media Policy API",
        description=DESCRIPTION,
        version=VERSION,
        migrations_dir=MIGRATIONS_DIR,
        routers=[*ROUTERS, webhook_routes.router],
        lifespan=lifespan,
        security_headers=API_SECURITY_HEADERS,
        openapi_tags=OPENAPI_TAGS,
        clock=clock,
    )
    # The one client for peers: case_api's public metrics (no token).
    # The Council report also reads the Transparency page at its public URL, as residents get it.
    # feedback_api (issue 20 item 5): policy feedback by reference and its counts, with policy_api's service token.
    app.state.peers = ServiceClient({"case_api": settings.case_api_url, TRANSPARENCY_PEER: settings.public_base_url,
                                     FEEDBACK_PEER: settings.feedback_api_url},
                                    tokens=ServiceTokenProvider(settings.auth, settings.mode, "policy_api",
                                                                [Role.svc_policy]),
                                    timeout=settings.metrics_timeout_seconds, retries=0)
    app.state.feedback_source = FeedbackSource(app.state.peers, timeout=max(2.0, settings.metrics_timeout_seconds))
    app.state.metrics_source = MetricsSource(app.state.peers, timeout=settings.metrics_timeout_seconds,
                                             cache_seconds=settings.metrics_cache_seconds)
    # notifications (issue 17): acknowledgements required and reviews due, through its own outbox
    app.state.notifier = PolicyNotifier(settings, app.state.db, app.state.clock)
    app.state.notify_stats = app.state.notifier.stats
    app.state.relay = build_relay(settings, app.state.db, app.state.clock, app.state.notify_stats)
    app.state.notifier.relay = app.state.relay
    install_public_pages(app, prefixes=("/transparency",))  # HEAD and gzip for residents' pages
    return app
