"""FastAPI glue shared by the three services: the app skeleton, RFC 9457 problem
handlers, the per-request unit of work, authentication dependencies, health checks.

Service code imports its typed dependencies from here (``SessionDep``,
``ClockDep``, ``require_roles``) so every router reads the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from shared import migrations
from shared.auth import Principal, TokenVerifier
from shared.caching import PublicResponseCache
from shared.db import make_engine, ping, writer
from shared.errors import PROBLEM_TYPE_BASE, DomainError, Unauthorized
from shared.logging import configure_logging
from shared.middleware import (
    AdmissionControl,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from shared.schemas.problem import Problem
from shared.settings import ServiceSettings
from shared.timeutil import Clock, SystemClock

log = structlog.get_logger("shared.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
DB_RETRY_AFTER_SECONDS = 5
# Thread tokens beyond max_concurrent_requests: probes (exempt from admission) and slack.
THREAD_HEADROOM = 8

# Use in routers: @router.get(..., responses=problem_responses(404, 409))
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    codes = sorted({400, 422, 500, 503, *statuses})
    return {
        code: {"description": HTTPStatus(code).phrase, "content": _PROBLEM_CONTENT}
        for code in codes
    }


def problem_response(
    request: Request,
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    type_: str = "about:blank",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=type_,
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        errors=errors,
        **(extra or {}),
    )
    return JSONResponse(problem.body(), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            request, exc.status, title=exc.title, detail=exc.detail, type_=exc.type_uri,
            errors=exc.errors, headers=exc.headers, extra=exc.extra,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(request, exc.status_code, detail=detail, headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The offending input is deliberately not echoed: it may be personal data.
        errors = [
            {"loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", [])],
             "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return problem_response(
            request, 422, title="The request is not valid", type_=PROBLEM_TYPE_BASE + "validation-failed",
            detail=f"{len(errors)} field(s) failed validation.", errors=errors,
        )

    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        log.error("database_unavailable", error=type(exc).__name__)
        return problem_response(
            request, 503, title="Service temporarily unavailable", type_=PROBLEM_TYPE_BASE + "unavailable",
            detail="The database is not reachable. Please retry shortly.",
            headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
        )

    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(PoolTimeout, _database_down)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value that passed validation: a NUL character in PostgreSQL
        # text, an integer out of the column's range... The client's input, not our fault.
        log.info("database_refused_value", error=type(exc.orig).__name__)
        return problem_response(
            request, 422, title="The request is not valid", type_=PROBLEM_TYPE_BASE + "unstorable-value",
            detail="A value cannot be stored (for example a NUL character, or a number out of range).",
        )

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _database_down(request, exc)
        return await _unhandled(request, exc)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client went away mid-request (or the body limit cut it off): nobody reads this answer,
        # and it is not a server error. The unit of work has already rolled back.
        log.info("client_disconnected")
        return problem_response(request, 400, detail="The client disconnected before the request was complete.")

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", error=type(exc).__name__, exc_info=exc)
        return problem_response(request, 500, detail="An unexpected error occurred. It has been logged.")


# --- dependencies ----------------------------------------------------------------------


async def _session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: commit once after the endpoint returns, before the
    response is sent (``scope="function"``), or roll back. Writes take SQLite's write lock
    up front (``BEGIN IMMEDIATE``).

    Async on purpose: creating the session does no I/O (connections are checked out at the
    first statement, in the endpoint's thread), so only the end of the unit of work takes a
    thread. A sync generator here cost two thread hops a request instead of one. The end runs
    shielded from cancellation and on its own limiter, as FastAPI does for sync generators, so a
    commit never waits behind the endpoints holding the thread pool's tokens."""
    async with _unit_of_work(request, write=request.method not in ("GET", "HEAD", "OPTIONS")) as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[Session]:
    """For a POST that only reads (a lookup whose key must not travel in a URL, such as a
    receipt): no ``BEGIN IMMEDIATE``, so it never queues behind writers for SQLite's lock."""
    async with _unit_of_work(request, write=False) as session:
        yield session


@asynccontextmanager
async def _unit_of_work(request: Request, *, write: bool) -> AsyncIterator[Session]:
    engine: Engine = request.app.state.engine
    session = Session(writer(engine) if write else engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_discard, session, limiter=anyio.CapacityLimiter(1))
        raise
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit, session, limiter=anyio.CapacityLimiter(1))


def _commit(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(_read_session, scope="function")]


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(_clock)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    return token.strip()


def optional_principal(request: Request) -> Principal | None:
    token = _bearer(request)
    if token is None:
        return None
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(token)


def current_principal(request: Request) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        raise Unauthorized("This endpoint needs a staff or service token.")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that authenticates and checks function-level authorisation."""

    async def dependency(principal: PrincipalDep) -> Principal:  # no I/O: no thread hop
        return principal.require(*roles)

    return dependency


# --- the app skeleton ---------------------------------------------------------------------

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


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
    public_cache_prefixes: tuple[str, ...] = (),
) -> FastAPI:
    """Build a service app. The engine is created here (connections are lazy) so tests can
    use the app without running its lifespan; the lifespan migrates in dev, runs the
    service's own background work, and disposes the engine."""
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            migrations.upgrade(migrations_dir, settings.database_url)
        # Every admitted request must be able to get its next thread token (AdmissionControl).
        threads = anyio.to_thread.current_default_thread_limiter()
        threads.total_tokens = max(threads.total_tokens, settings.max_concurrent_requests + THREAD_HEADROOM)
        log.info("service_started", service=settings.service_name, mode=settings.mode)
        try:
            if lifespan is not None:
                async with lifespan(app):
                    yield
            else:
                yield
        finally:
            app.state.engine.dispose()
            log.info("service_stopped", service=settings.service_name)

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=_lifespan,
        openapi_tags=openapi_tags,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.engine = make_engine(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous, pool_size=settings.db_pool_size
    )
    app.state.verifier = TokenVerifier(settings.auth, settings.mode)
    app.state.clock = clock or SystemClock()
    app.state.migrations_dir = migrations_dir
    app.state.migrated = False

    install_problem_handlers(app)
    app.include_router(_health_router())
    for router in routers:
        app.include_router(router)

    # Outermost last: request context wraps everything so even a 413 carries a request id.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "X-Request-ID"],
            allow_credentials=False,
            max_age=600,
        )
    # innermost: cache hits and refusals above never wait for a slot
    app.add_middleware(AdmissionControl, limit=settings.max_concurrent_requests,
                       timeout=settings.admission_timeout_seconds)
    if public_cache_prefixes:
        # inside the rest: cached responses get fresh security headers and request ids on the way out
        app.add_middleware(PublicResponseCache, prefixes=public_cache_prefixes, ttl=settings.public_cache_seconds)
    app.add_middleware(SecurityHeadersMiddleware, headers=security_headers)
    app.add_middleware(BodySizeLimitMiddleware, default=settings.max_body_bytes, overrides=body_limit_overrides)
    app.add_middleware(RequestContextMiddleware)
    _register_problem_schema(app)
    return app


def publish_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Add a Pydantic model (and the models it refers to) to an OpenAPI document's components."""
    body = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, sub in body.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components[model.__name__] = body


def _register_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        publish_schema(schema, Problem)
        schema["components"].setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", operation_id="healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:  # no I/O: answered on the event loop, no thread hop
        return {"status": "ok"}

    @router.get(
        "/readyz",
        operation_id="readyz",
        summary="Readiness: the database answers and its migrations are current",
        responses=problem_responses(503),
    )
    def readyz(request: Request) -> Any:
        app = request.app
        try:
            ping(app.state.engine)
            if not app.state.migrated:
                app.state.migrated = migrations.is_current(app.state.engine, app.state.migrations_dir)
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
