"""The app factory every service uses: one settings object in, a FastAPI app out.

The factory creates the service's ``Database`` (connections are lazy), the token verifier and
the clock on ``app.state``, installs the problem handlers and the kernel middleware (request id
and access log, body limit, security headers, CORS) and the health routes. The lifespan
migrates in dev, runs the service's own background work, and disposes the database.

Concurrency (see docs/architecture.md): endpoints that touch the database are sync ``def``;
the use-case they call opens and closes its unit of work in that same thread. Overload is
bounded by uvicorn (``--limit-concurrency``, ``--backlog``) and by the database pool, whose
timeout answers 503 problem+json with ``Retry-After``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel

from shared import migrations
from shared.auth import TokenVerifier
from shared.db import Database
from shared.logging import configure_logging
from shared.middleware import (
    BodySizeLimitMiddleware,
    HeaderLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from shared.schemas.problem import Problem
from shared.settings import ServiceSettings
from shared.timeutil import Clock, SystemClock
from shared.web.docs import install_docs
from shared.web.health import health_router
from shared.web.metrics import install_metrics
from shared.web.problems import install_problem_handlers
from shared.web.routing import APIRouter, ServiceRoute

log = structlog.get_logger("shared.web")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def freeze_startup_objects(enabled: bool) -> None:
    """Collect once, then ``gc.freeze()`` what is left: the objects of a started service.

    A full (generation 2) collection walks every tracked object. A started case_api tracks about
    184k (modules, Pydantic schemas, routes, SQLAlchemy metadata), and one full collection took
    98-109 ms with them, stopping every request of the process meanwhile; after ``gc.freeze()`` it
    took 0.2 ms (in-process, 600 warm-up requests, ``gc.collect(2)`` timed five times). Frozen
    objects are still freed by reference counting; only a reference cycle among them would never
    be collected, and what a service builds at start lives as long as the process. CPython's docs
    describe the same use of ``gc.freeze`` for pre-fork servers. Off with ``*_GC_FREEZE_AFTER_START=false``
    (the test suite does, since it builds hundreds of apps in one process)."""
    if enabled:
        gc.collect()
        gc.freeze()


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    version: str,
    migrations_dir: Path,
    routers: Sequence[APIRouter],
    lifespan: Lifespan | None = None,
    body_limit_overrides: Sequence[tuple[str, int]] = (),
    security_headers: dict[str, str] | None = None,
    openapi_tags: list[dict[str, Any]] | None = None,
    clock: Clock | None = None,
    public_spec: bool = True,
    extra_schemas: Sequence[type[BaseModel]] = (),
    unlogged_writes: tuple[str, ...] = (),
) -> FastAPI:
    """``public_spec=False``: the OpenAPI document and docs are never served in production, even
    with ``SERVE_DOCS`` (case_api). ``unlogged_writes``: see ``RequestContextMiddleware``."""
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            migrations.upgrade(migrations_dir, settings.database_url)
        log.info("service_started", service=settings.service_name, mode=settings.mode)
        try:
            async with lifespan(app) if lifespan is not None else nullcontext():
                freeze_startup_objects(settings.gc_freeze_after_start)
                yield
        finally:
            app.state.db.dispose()
            log.info("service_stopped", service=settings.service_name)

    serve_docs = settings.mode == "dev" or (settings.serve_docs and public_spec)
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=_lifespan,
        openapi_tags=openapi_tags,
        separate_input_output_schemas=False,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if serve_docs else None,
    )
    app.router.route_class = ServiceRoute  # routes added on the app itself (shared/web/routing.py)
    app.state.settings = settings
    app.state.db = Database(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous, pool_size=settings.db_pool_size
    )
    app.state.verifier = TokenVerifier(settings.auth, settings.mode)
    app.state.clock = clock or SystemClock()
    app.state.migrations_dir = migrations_dir
    app.state.migrated = False

    install_problem_handlers(app)
    app.include_router(health_router())
    install_metrics(app, settings)
    if serve_docs:
        install_docs(app, title=title, openapi_url="/openapi.json")
    for router in routers:
        app.include_router(router)

    # Outermost last: request context wraps everything so even a 413 carries a request id.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "X-Request-ID",
                           "If-None-Match"],
            expose_headers=["ETag"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware, headers=security_headers,
                       hsts=settings.public_base_url.startswith("https://"))
    app.add_middleware(BodySizeLimitMiddleware, default=settings.max_body_bytes, overrides=body_limit_overrides)
    app.add_middleware(HeaderLimitMiddleware, max_bytes=settings.max_header_bytes, max_count=settings.max_header_count)
    app.add_middleware(RequestContextMiddleware, unlogged_writes=unlogged_writes)
    _register_schemas(app, (Problem, *extra_schemas))
    return app


def publish_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Add a Pydantic model (and the models it refers to) to an OpenAPI document's components."""
    body = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, sub in body.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components[model.__name__] = body


def _register_schemas(app: FastAPI, models: Sequence[type[BaseModel]]) -> None:
    """Problem, and any model an endpoint parses by hand, in the OpenAPI components."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        for model in models:
            publish_schema(schema, model)
        schema["components"].setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
