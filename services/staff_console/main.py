"""The staff console's app factory: server-rendered pages over the three APIs, no database.

Kernel pieces reused: request id and access log, header and body limits, security headers
(``shared.middleware``), structured logs, and ``shared.http.ServiceClient`` (one per app) to call
the APIs with the signed-in user's token. ``shared.web.create_service_app`` is not used because it
always creates a database (the console has none)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.staff_console import routes_auth, routes_cases, routes_monitoring, routes_policies, routes_registry
from services.staff_console.oidc import Oidc
from services.staff_console.sessions import SessionMiddleware, Sessions, Store, build_store
from services.staff_console.settings import ConsoleSettings
from services.staff_console.upstream import ApiProblem
from services.staff_console.web import HERE, CsrfFailed, NotSignedIn, login_url, redirect, render, session_of
from shared.auth import issue_dev_token
from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.logging import configure_logging
from shared.middleware import (
    BodySizeLimitMiddleware,
    HeaderLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from shared.web.routing import ServiceRoute

SETTINGS_CLASS = ConsoleSettings
VERSION = "0.1.0"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
log = structlog.get_logger("staff_console")


class Tokens:
    """Keeps the session's access token usable: refreshed (OIDC refresh token) or re-signed (dev)
    shortly before it expires; when neither is possible the user signs in again."""

    def __init__(self, settings: ConsoleSettings, oidc: Oidc) -> None:
        self.settings = settings
        self.oidc = oidc

    def dev_token(self, user: dict[str, Any]) -> tuple[str, float]:
        ttl = int(self.settings.session_absolute_hours * 3600) + 60
        token = issue_dev_token(self.settings.auth, "dev", subject=user["subject"], roles=list(user["roles"]),
                                department=user.get("department"), name=user.get("name"), ttl_seconds=ttl)
        return token, time.time() + ttl

    def ensure_fresh(self, session: Any) -> None:
        if session.token_expires is None or session.token_expires - time.time() > 60:
            return
        if self.settings.mode == "dev" and session.user:
            session.access_token, session.token_expires = self.dev_token(session.user)
            return
        if session.refresh_token:
            try:
                token = self.oidc.refresh(session.refresh_token)
            except Exception as exc:  # noqa: BLE001 - any refusal or outage means: sign in again
                log.info("refresh_failed", error=type(exc).__name__)
            else:
                self.store(session, token)
                return
        session.user = session.access_token = session.refresh_token = None
        raise NotSignedIn("/", expired=True)

    @staticmethod
    def store(session: Any, token: dict[str, Any]) -> None:
        session.access_token = token["access_token"]
        session.refresh_token = token.get("refresh_token") or session.refresh_token
        expires_at = token.get("expires_at") or (time.time() + float(token.get("expires_in") or 300))
        session.token_expires = float(expires_at)


def create_app(settings: ConsoleSettings | None = None, *, store: Store | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("service_started", service=settings.service_name, mode=settings.mode)
        try:
            yield
        finally:
            app.state.peers.close()

    app = FastAPI(title="Staff console", version=VERSION, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json" if settings.docs_on else None)
    app.router.route_class = ServiceRoute  # one thread hop per def endpoint (shared/web/routing.py)
    app.state.settings = settings
    app.state.peers = ServiceClient(
        {"policy_api": settings.policy_api_url, "feedback_api": settings.feedback_api_url,
         "case_api": settings.case_api_url},
        tokens=None, timeout=settings.http_timeout_seconds, retries=settings.http_retries)
    app.state.oidc = Oidc(settings)
    app.state.tokens = Tokens(settings, app.state.oidc)
    sessions = Sessions(settings, store or build_store(settings))
    app.state.sessions = sessions

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (routes_auth, routes_cases, routes_monitoring, routes_policies, routes_registry):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}  # nothing of its own to wait for: the APIs report their own readiness

    if settings.docs_on:
        @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
        async def docs(request: Request) -> Response:
            pages = sorted((path, ", ".join(m.upper() for m in ops)) for path, ops in app.openapi()["paths"].items())
            return render(request, "docs.html", pages=pages)

    _install_handlers(app)
    app.add_middleware(SessionMiddleware, sessions=sessions)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.https,
                       headers={"content-security-policy": CSP, "cache-control": "no-store",
                                "cross-origin-opener-policy": "same-origin",
                                "permissions-policy": "camera=(), microphone=(), geolocation=()"})
    app.add_middleware(BodySizeLimitMiddleware, default=settings.max_body_bytes)
    app.add_middleware(HeaderLimitMiddleware, max_bytes=settings.max_header_bytes,
                       max_count=settings.max_header_count)
    app.add_middleware(RequestContextMiddleware)
    return app


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if exc.expired:
            session_of(request).add_flash("", "expired")
        return redirect(login_url(exc.next_path))

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return render(request, "error.html", status_code=400, title_key="error.csrf.title",
                      detail_key="error.csrf.detail")

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, exc: ApiProblem) -> Response:
        session = session_of(request)
        if exc.status == 401:
            session.user = session.access_token = session.refresh_token = None
            session.add_flash("", "expired")
            return redirect(login_url(request.url.path))
        if exc.status == 404:
            return render(request, "error.html", status_code=404, title_key="error.notfound.title",
                          detail_key="error.notfound.detail")
        if exc.status == 403:
            return render(request, "error.html", status_code=403, title_key="error.forbidden.title",
                          detail=exc.detail)
        return render(request, "error.html", status_code=502 if exc.status >= 500 else exc.status,
                      title_key="error.api.title", detail=exc.detail)

    @app.exception_handler(UpstreamFailed)
    async def _upstream(request: Request, exc: UpstreamFailed) -> Response:
        return render(request, "error.html", status_code=503, title_key="error.unavailable.title",
                      detail_key="error.unavailable.detail")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/static/"):
            return PlainTextResponse("Not found", status_code=exc.status_code)
        key = "error.notfound" if exc.status_code == 404 else "error.api"
        return render(request, "error.html", status_code=exc.status_code, title_key=f"{key}.title",
                      detail_key="error.notfound.detail" if exc.status_code == 404 else None,
                      detail=None if exc.status_code == 404 else str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", error=type(exc).__name__)
        if not hasattr(request.state, "session"):
            return JSONResponse({"title": "Internal Server Error", "status": 500}, status_code=500)
        return render(request, "error.html", status_code=500, title_key="error.internal.title",
                      detail_key="error.internal.detail")
