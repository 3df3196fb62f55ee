"""Public Feedback and Violation Reports API: the app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Gauge

from services.feedback_api.domain.batching import Batching
from services.feedback_api.domain.contact import ContactCipher, decode_key
from services.feedback_api.domain.delivery import FeedbackRelay, make_handlers
from services.feedback_api.domain.directory import PolicyDirectory
from services.feedback_api.domain.evidence import EvidenceLimits
from services.feedback_api.domain.evidence_worker import EvidenceProcessor
from services.feedback_api.domain.models import OutboxMessage
from services.feedback_api.domain.pow import Challenges
from services.feedback_api.domain.receipts import ReceiptHasher, ReceiptPool
from services.feedback_api.domain.reporter_updates import handlers as update_handlers
from services.feedback_api.domain.secrets_store import dev_secret
from services.feedback_api.domain.submissions import IntakeContext
from services.feedback_api.guard import IntakeGuard, LoadMonitor
from services.feedback_api.retention_scheduler import RetentionScheduler
from services.feedback_api.routers import ROUTERS
from services.feedback_api.routers.open311 import key_hashes, open311_keys
from services.feedback_api.schemas import ReportCreate
from services.feedback_api.settings import FeedbackSettings
from shared.auth import Role, ServiceTokenProvider
from shared.http import ServiceClient
from shared.notify_outbox import NOTIFY_PEERS, NotifyStats
from shared.ratelimit import RateLimiter, Rule
from shared.timeutil import Clock, SystemClock
from shared.web import create_service_app
from shared.web.public_pages import install_public_pages

SETTINGS_CLASS = FeedbackSettings
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION = "0.1.0"
DESCRIPTION = (
    "Anonymous public intake of feedback on the City's social media policies and reports of potential "
    "violations (R-24-89 §1.B). Reports are forwarded to case management without loss."
)
# Public responses must never be kept by a browser or a shared cache (a reporter's status view).
PUBLIC_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PUBLIC_PAGES = ("/report", "/widget/", "/privacy")


def _secret(settings: FeedbackSettings, name: str) -> str:
    value = getattr(settings, name)
    if value is not None:
        return str(value.get_secret_value())
    return dev_secret(settings.secrets_dir, name.replace("_", "-"))


def _rules(s: FeedbackSettings) -> list[Rule]:
    return [
        Rule.parse("submit", s.rate_submit_per_client, s.rate_submit_overall),
        Rule.parse("submit_pow", s.rate_submit_pow_per_client, s.rate_submit_overall),
        Rule.parse("submit_slow", s.rate_submit_slow_per_client, s.rate_submit_overall),
        Rule.parse("submit_rejected", s.rate_submit_rejected_per_client),
        Rule.parse("receipt", s.rate_receipt_per_client),
        Rule.parse("receipt_failures", s.rate_receipt_failures_per_client, s.rate_receipt_failures_overall),
        Rule.parse("open311", s.rate_open311_per_client, s.rate_open311_overall),
    ]


def create_app(settings: FeedbackSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay: FeedbackRelay = app.state.relay
        pool: ReceiptPool = app.state.intake.receipts
        if settings.outbox_enabled:
            relay.start()
        pool.start()
        app.state.retention.start()
        app.state.intake.evidence.warm()
        try:
            yield
        finally:
            app.state.retention.stop()
            pool.stop()
            relay.stop()
            app.state.peers.close()

    app = create_service_app(
        settings=settings,
        title="Public Feedback and Violation Reports API",
        description=DESCRIPTION,
        version=VERSION,
        migrations_dir=MIGRATIONS_DIR,
        routers=ROUTERS,
        lifespan=lifespan,
        # the no-JavaScript form at /report uploads evidence too
        body_limit_overrides=[("/v1/reports", settings.upload_body_limit), ("/report", settings.upload_body_limit),
                              ("/v1/receipts/evidence", settings.upload_body_limit)],
        security_headers=PUBLIC_HEADERS,
        clock=clock,
        # POST /v1/reports parses its body itself (JSON or multipart): publish ReportCreate
        extra_schemas=(ReportCreate,),
        # timing privacy: residents' writes leave no access line dated to the second (5xx still do)
        unlogged_writes=("/",),
    )
    # One client for every peer, one service token (cached to near expiry, refreshed once on 401).
    tokens = ServiceTokenProvider(settings.auth, settings.mode, "feedback_api", [Role.svc_feedback])
    app.state.peers = peers = ServiceClient(
        {"policy_api": settings.policy_api_url, "case_api": settings.case_api_url},
        tokens=tokens, timeout=settings.http_timeout_seconds,
    )
    pepper = _secret(settings, "receipt_pepper").encode()
    hasher = ReceiptHasher(pepper, memory_kib=settings.receipt_hash_memory_kib,
                           time_cost=settings.receipt_hash_time_cost)
    app.state.intake = IntakeContext(
        receipts=ReceiptPool(hasher, size=settings.receipt_pool_size),
        cipher=ContactCipher(decode_key(_secret(settings, "contact_encryption_key"))),
        directory=PolicyDirectory(peers, ttl_seconds=settings.directory_cache_seconds,
                                  timeout_seconds=settings.directory_timeout_seconds),
        evidence=EvidenceProcessor(
            EvidenceLimits(max_bytes=settings.max_file_bytes, max_pixels=settings.max_image_pixels,
                           max_report_pixels=settings.max_report_pixels),
            workers=settings.evidence_workers, timeout_seconds=settings.evidence_timeout_seconds,
            memory_bytes=settings.evidence_memory_mib * 1024 * 1024,
        ),
        max_links=settings.max_links,
        max_description=settings.max_description,
    )
    limiter_secret = _secret(settings, "rate_limit_key_secret").encode()
    app.state.ratelimiter = limiter = RateLimiter(
        secret=limiter_secret,
        rules=_rules(settings), storage_uri=settings.redis_url, trusted_proxies=settings.trusted_proxies,
        key_prefix="civicsocial:feedback_api",
    )
    app.state.guard = IntakeGuard(
        limiter,
        Challenges(limiter_secret, bits=settings.pow_difficulty_bits, ttl_seconds=settings.pow_challenge_seconds,
                   min_form_age_seconds=settings.nojs_min_form_seconds),
        LoadMonitor(settings.pow_trigger_clients_per_minute),
    )
    # reporter updates (issue 17): email only to reporters who opted in; the SMTP peer has no /readyz
    app.state.retention = RetentionScheduler(settings, app.state.db, app.state.clock)  # issue 15 item 5
    app.state.notify_stats = NotifyStats()
    updates = update_handlers(app.state.db, app.state.intake.cipher, settings.notify, app.state.notify_stats,
                              receipt_url=f"{settings.public_base_url.rstrip('/')}/report")
    app.state.batching = Batching(window_seconds=settings.forward_batch_window_seconds or 0,
                                  key=_secret(settings, "rate_limit_key_secret").encode())
    app.state.relay = FeedbackRelay(
        app.state.db, OutboxMessage, {**make_handlers(peers), **updates},
        ready=lambda peer: peer not in NOTIFY_PEERS and peers.ready(peer), clock=clock,
        base_backoff=settings.outbox_base_backoff_seconds, max_backoff=settings.outbox_max_backoff_seconds,
        poll_interval=settings.outbox_poll_seconds,
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        hold=app.state.batching.hold, shuffle=app.state.batching.enabled,
    )
    app.state.open311_key_hashes = key_hashes(open311_keys(settings))
    _pool_metrics(app.state.metrics_registry, app.state.intake.receipts)
    install_public_pages(app, prefixes=PUBLIC_PAGES)  # HEAD and gzip for the widget and /report
    return app


def _pool_metrics(registry: CollectorRegistry, pool: ReceiptPool) -> None:
    """How many pre-made receipts are ready, read at scrape time: an operator sees whether the
    next burst will be answered from the pool or wait on argon2id (a count, no receipt)."""
    Gauge("civicsocial_receipt_pool_ready", "Receipts made and hashed ahead of time, not yet handed out",
          registry=registry).set_function(lambda: len(pool))
    Gauge("civicsocial_receipt_pool_size", "The receipt pool's bound (RECEIPT_POOL_SIZE)",
          registry=registry).set(pool.size)
