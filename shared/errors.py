"""Domain errors. Plain Python: domain modules raise these, the HTTP layer renders them.

Every error becomes an RFC 9457 ``application/problem+json`` body (see ``shared.app``).
"""

from __future__ import annotations

from typing import Any

PROBLEM_TYPE_BASE = "urn:civicsocial:problem:"


class DomainError(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "Transition not allowed from the current state"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(detail, **kw)


class ValidationFailed(DomainError):
    status, slug, title = 422, "validation-failed", "The request is not valid"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class TooManyRequests(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class HeadersTooLarge(DomainError):
    status, slug, title = 431, "headers-too-large", "Request header fields too large"


class Unavailable(DomainError):
    status, slug, title = 503, "unavailable", "Service temporarily unavailable"


class UpstreamFailed(DomainError):
    status, slug, title = 502, "upstream-failed", "A service this request depends on failed"


def field_error(loc: list[str | int] | tuple[str | int, ...], msg: str, type_: str = "value_error") -> dict[str, Any]:
    """One entry of a problem's ``errors[]`` list, in the same shape as request validation errors."""
    return {"loc": list(loc), "msg": msg, "type": type_}
