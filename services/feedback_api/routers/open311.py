"""Open311 GeoReport v2 (JSON format): City 311 platforms file and track violation reports here.

Errors use the GeoReport v2 format, ``[{"code": 400, "description": "..."}]``, with the same HTTP
status. Filing needs an ``api_key`` (configured per submitting system, compared by SHA-256).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.feedback_api.deps import IntakeDep, LimiterDep, RelayDep
from services.feedback_api.domain import open311 as o311
from services.feedback_api.domain import submissions as intake
from services.feedback_api.domain.text import is_id, text_problem
from services.feedback_api.schemas import _http_url
from shared.errors import DomainError, TooManyRequests
from shared.post_urls import InvalidPostUrl, normalise_post_url
from shared.schemas.registry import Platform
from shared.web import ClockDep, DatabaseDep

router = APIRouter(prefix="/open311/v2", tags=["open311"])

MAX_FIELDS = 40
MAX_VALUE = 5000
MAX_IDS = 50
_ERROR_SCHEMA = {"type": "array", "items": {"type": "object", "properties": {
    "code": {"type": "integer"}, "description": {"type": "string"}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": "GeoReport v2 error", "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
    for code in (400, 403, 404, 429)
}


class GeoReportError(Exception):
    def __init__(self, code: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse([{"code": self.code, "description": self.description}], status_code=self.code,
                            headers=self.headers)


def georeport(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Render domain errors and GeoReport errors in the GeoReport v2 error format."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GeoReportError as exc:
            return exc.response()
        except TooManyRequests as exc:
            return GeoReportError(429, exc.detail, exc.headers).response()
        except DomainError as exc:
            detail = exc.detail
            if exc.errors:
                detail += " " + "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors)
            return GeoReportError(400 if exc.status == 422 else exc.status, detail).response()

    return wrapper


def key_hashes(configured: list[str]) -> frozenset[str]:
    out = set()
    for value in configured:
        value = value.strip()
        if value.startswith("sha256:"):
            out.add(value[len("sha256:"):].lower())
        elif value:
            out.add(hashlib.sha256(value.encode()).hexdigest())
    return frozenset(out)


def _api_key_ok(request: Request, given: str | None) -> bool:
    if not given:
        return False
    digest = hashlib.sha256(given.encode()).hexdigest()
    ok = False
    for known in request.app.state.open311_key_hashes:
        ok |= hmac.compare_digest(known, digest)
    return ok


@router.get("/services.json", operation_id="open311_services", summary="GeoReport v2: service list",
            responses=ERRORS)
async def services(jurisdiction_id: Annotated[str | None, Query(max_length=100)] = None) -> list[dict[str, Any]]:
    return o311.services()


@router.get("/services/{service_code}.json", operation_id="open311_service_definition",
            summary="GeoReport v2: service definition (attributes)", responses=ERRORS)
async def service_definition(service_code: str,
                             jurisdiction_id: Annotated[str | None, Query(max_length=100)] = None) -> Any:
    found = o311.definition(service_code[:100])
    if found is None:
        return GeoReportError(404, "service_code not found").response()
    return found


async def open311_form(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {"__error__": "Send the request form-encoded (application/x-www-form-urlencoded)."}
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except Exception:  # noqa: BLE001 - any parse failure is the client's
        return {"__error__": "The form could not be read (too many fields, or files)."}
    values: dict[str, Any] = {"attributes": {}}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        value = value[:MAX_VALUE]
        if text_problem(value):
            values["__error__"] = f"{key[:50]}: control characters are not allowed"
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute["):-1].removesuffix("][")
            values["attributes"].setdefault(code[:50], []).append(value)
        else:
            values.setdefault(key[:50], value)
    await form.close()
    return values


@router.post("/requests.json", operation_id="open311_create_request",
             summary="GeoReport v2: file a violation report (form-encoded, api_key required)", responses=ERRORS)
@georeport
def create_request(
    request: Request, form: Annotated[dict[str, Any], Depends(open311_form)], db: DatabaseDep,
    ctx: IntakeDep, clock: ClockDep, limiter: LimiterDep, relay: RelayDep,
) -> Any:
    limiter.hit("open311", request)
    if "__error__" in form:
        raise GeoReportError(400, form["__error__"])
    if not _api_key_ok(request, form.get("api_key")):
        raise GeoReportError(403, "api_key was not provided or is not valid")
    code = form.get("service_code")
    if not code:
        raise GeoReportError(400, "service_code was not provided")
    category = o311.CODES.get(code)
    if category is None:
        raise GeoReportError(404, "service_code not found")
    attrs: dict[str, list[str]] = form["attributes"]
    platform = (attrs.get("platform") or [""])[0]
    if platform not in {p.value for p in Platform}:
        raise GeoReportError(400, "attribute[platform] is required and must be one of the listed values")
    post_url = (attrs.get("post_url") or [""])[0].strip()
    links = []
    try:
        links.append(_http_url(post_url)[:2048])
        normalise_post_url(post_url)
    except (ValueError, InvalidPostUrl):
        raise GeoReportError(400, "attribute[post_url] is required and must be an http(s) link") from None
    media_url = (form.get("media_url") or "").strip()
    if media_url:
        try:
            links.append(_http_url(media_url)[:2048])
        except ValueError:
            raise GeoReportError(400, "media_url must be an http(s) link") from None
    seen_on: date | None = None
    if attrs.get("seen_on") and attrs["seen_on"][0].strip():
        try:
            seen_on = o311.parse_day(attrs["seen_on"][0])
        except ValueError:
            raise GeoReportError(400, "attribute[seen_on] must be an ISO 8601 date or date-time") from None
    account = (attrs.get("account") or [""])[0].strip()[:300]
    description = (form.get("description") or "").strip()[:ctx.max_description]
    # lat/long/address, names, phone, device_id and account_id are accepted but never stored.
    report = intake.ReportInput(
        platform=Platform(platform), categories=(category,), description=description or "(no description given)",
        account_text=account or "(not given; filed through Open311)", links=tuple(links), seen_on=seen_on,
        contact_email=(form.get("email") or "").strip()[:254] or None,
    )
    created = intake.file_report(db, ctx, report=report, channel="open311", with_receipt=False, now=clock.now())
    relay.notify()
    return [{
        "service_request_id": created.reference,
        "service_notice": "Thank you. Quote this reference if you contact the City.",
        "account_id": None,
    }]


@router.get("/requests/{service_request_id}.json", operation_id="open311_get_request",
            summary="GeoReport v2: one service request", responses=ERRORS)
@georeport
def get_request(service_request_id: str, db: DatabaseDep,
                jurisdiction_id: Annotated[str | None, Query(max_length=100)] = None) -> Any:
    sub = o311.request_by_reference(db, reference=service_request_id[:32])
    if sub is None:
        raise GeoReportError(404, "service_request_id not found")
    return [o311.as_service_request(sub)]


@router.get("/requests.json", operation_id="open311_list_requests",
            summary="GeoReport v2: service requests by id, or by code/status/dates (last 90 days by default)",
            responses=ERRORS)
@georeport
def list_requests(
    db: DatabaseDep, clock: ClockDep,
    service_request_id: Annotated[str | None, Query(max_length=MAX_IDS * 33)] = None,
    service_code: Annotated[str | None, Query(max_length=100)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    jurisdiction_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if is_id(i.strip())][:MAX_IDS]
        return [o311.as_service_request(s) for s in o311.requests_by_reference(db, references=ids)]
    try:
        end = o311.parse_day(end_date) if end_date else clock.now().date()
        start = o311.parse_day(start_date) if start_date else end - timedelta(days=90)
    except ValueError:
        raise GeoReportError(400, "start_date and end_date must be ISO 8601 dates") from None
    wanted_status = frozenset(s.strip() for s in status.split(",")) if status else None
    if wanted_status and not wanted_status <= {"open", "closed"}:
        raise GeoReportError(400, "status must be open or closed")
    codes: list[str] | None = None
    if service_code:
        codes = [c.strip() for c in service_code.split(",")]
        if any(c not in o311.CODES for c in codes):
            raise GeoReportError(404, "service_code not found")
    rows = o311.search_requests(db, start=start, end=end, statuses=wanted_status, codes=codes)
    return [o311.as_service_request(s) for s in rows]


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def not_supported(rest: str) -> JSONResponse:
    """Anything else under the GeoReport root answers in the GeoReport error format."""
    if rest.endswith(".xml"):
        return GeoReportError(400, "Only the JSON format is supported: use .json").response()
    return GeoReportError(404, "Not found").response()
