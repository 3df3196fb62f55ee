"""RFC 9457 problem+json: the handlers every service installs, and helpers for routers.

Every error a client sees is a ``Problem`` (``shared.schemas.problem``): domain errors
(``shared.errors.DomainError``), validation errors (the submitted value is never echoed),
database outages (503 with ``Retry-After``), and anything unexpected (500, logged).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from shared.errors import PROBLEM_TYPE_BASE, DomainError
from shared.schemas.problem import Problem

log = structlog.get_logger("shared.web")

PROBLEM_MEDIA_TYPE = "application/problem+json"
DB_RETRY_AFTER_SECONDS = 5

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


