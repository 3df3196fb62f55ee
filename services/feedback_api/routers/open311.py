"""Open311 GeoReport v2, JSON and XML: City 311 platforms file and track violation reports here.

Errors use the GeoReport v2 format, ``[{"code": 400, "description": "..."}]`` or its XML
``<errors><error>``, with the same HTTP status, on every Open311 route. Filing and **listing**
need an ``api_key`` (configured per submitting system, compared by SHA-256): a listing would give
exact counts per category that the public metrics suppress below 5. A request looked up by its
``service_request_id`` (the filer's own reference) stays public.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from services.feedback_api.deps import IntakeDep, LimiterDep, RelayDep
from services.feedback_api.domain import open311 as o311
from services.feedback_api.domain import submissions as intake
from services.feedback_api.domain.text import is_id, text_problem
from services.feedback_api.routers import open311_format as fmt311
from services.feedback_api.schemas import _http_url
from shared.errors import DomainError, TooManyRequests
from shared.post_urls import InvalidPostUrl, normalise_post_url
from shared.schemas.registry import Platform
from shared.web import ClockDep, DatabaseDep
from shared.web.routing import APIRouter

router = APIRouter(prefix="/open311/v2", tags=["open311"])

MAX_FIELDS = 40
MAX_VALUE = 5000
MAX_IDS = 50
_ERROR_SCHEMA = {"type": "array", "items": {"type": "object", "properties": {
    "code": {"type": "integer"}, "description": {"type": "string"}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": "GeoReport v2 error (JSON, or <errors><error> in XML)",
           "content": {"application/json": {"schema": _ERROR_SCHEMA}, "text/xml": {"schema": {"type": "string"}}}}
    for code in (400, 403, 404, 429)
}


class GeoReportError(Exception):
    def __init__(self, code: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.headers = headers or {}

    def response(self, fmt: str = "json") -> Response:
        return fmt311.error(fmt, self.code, self.description, self.headers)


def georeport(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Render domain errors and GeoReport errors in the GeoReport v2 error format, in the format
    the path asked for (``.json`` or ``.xml``)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fmt = kwargs.get("fmt", "json")
        try:
            if fmt not in fmt311.FORMATS:
                raise GeoReportError(400, "Use .json or .xml")
            return fn(*args, **kwargs)
        except GeoReportError as exc:
            return exc.response(fmt)
        except TooManyRequests as exc:
            return GeoReportError(429, exc.detail, exc.headers).response(fmt)
        except DomainError as exc:
            detail = exc.detail
            if exc.errors:
                detail += " " + "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors)
            return GeoReportError(400 if exc.status == 422 else exc.status, detail, exc.headers).response(fmt)

    return wrapper


def _param(request: Request, name: str, max_length: int) -> str | None:
    """A query parameter, bounded by hand: FastAPI's validation would answer problem+json, and
    Open311 routes answer in Open311's error format."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if len(value) > max_length:
        raise GeoReportError(400, f"{name} is longer than {max_length} characters")
    return value  # odd characters: ids are filtered by is_id, dates, codes and statuses refused below


def _params_doc(*names: str) -> dict[str, Any]:
    return {"parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                           for n in names]}


DEV_OPEN311_KEY = "dev-open311-key"  # dev mode only, like the dev signing key


def open311_keys(settings: Any) -> list[str]:
    """The configured keys; in dev mode with none configured, the well-known ``DEV_OPEN311_KEY``
    (so ``civicsocial dev`` and its demo loader can list). Production never accepts it."""
    configured = [k.get_secret_value() for k in settings.open311_api_keys]
    if not configured and settings.mode == "dev":
        return [DEV_OPEN311_KEY]
    return configured


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
    """``given`` compared by SHA-256 with every configured key (constant time each)."""
    if not given:
        return False
    digest = hashlib.sha256(given.encode()).hexdigest()
    ok = False
    for known in request.app.state.open311_key_hashes:
        ok |= hmac.compare_digest(known, digest)
    return ok


@router.get("/discovery.{fmt}", operation_id="open311_discovery", summary="GeoReport v2: discovery document",
            responses=ERRORS)
@georeport
def discovery(request: Request, fmt: str) -> Any:
    return fmt311.answer(fmt, o311.discovery(request.app.state.settings.public_base_url), root="discovery")


@router.get("/services.{fmt}", operation_id="open311_services", summary="GeoReport v2: service list",
            responses=ERRORS, openapi_extra=_params_doc("jurisdiction_id"))
@georeport
def services(request: Request, fmt: str) -> Any:
    _param(request, "jurisdiction_id", 100)
    return fmt311.answer(fmt, o311.services(), root="services", item="service")


@router.get("/services/{service_code}.{fmt}", operation_id="open311_service_definition",
            summary="GeoReport v2: service definition (attributes)", responses=ERRORS,
            openapi_extra=_params_doc("jurisdiction_id"))
@georeport
def service_definition(request: Request, service_code: str, fmt: str) -> Any:
    _param(request, "jurisdiction_id", 100)
    found = o311.definition(service_code[:100])
    if found is None:
        raise GeoReportError(404, "service_code not found")
    return fmt311.answer(fmt, found, root="service_definition")


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


@router.post("/requests.{fmt}", operation_id="open311_create_request",
             summary="GeoReport v2: file a violation report (form-encoded, api_key required)", responses=ERRORS)
@georeport
def create_request(
    request: Request, fmt: str, form: Annotated[dict[str, Any], Depends(open311_form)], db: DatabaseDep,
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
    return fmt311.answer(fmt, [{
        "service_request_id": created.reference,
        "service_notice": "Thank you. Quote this reference if you contact the City.",
        "account_id": None,
    }], root="service_requests", item="request")


@router.get("/requests/{service_request_id}.{fmt}", operation_id="open311_get_request",
            summary="GeoReport v2: one service request (public: the reference is the filer's own)",
            responses=ERRORS, openapi_extra=_params_doc("jurisdiction_id"))
@georeport
def get_request(request: Request, service_request_id: str, fmt: str, db: DatabaseDep) -> Any:
    _param(request, "jurisdiction_id", 100)
    sub = o311.request_by_reference(db, reference=service_request_id[:32])
    if sub is None:
        raise GeoReportError(404, "service_request_id not found")
    return fmt311.answer(fmt, [o311.as_service_request(sub)], root="service_requests", item="request")


@router.get("/requests.{fmt}", operation_id="open311_list_requests",
            summary="GeoReport v2: service requests by id (public), or a listing by code/status/dates "
            "(api_key required: exact counts per category are not public)",
            responses=ERRORS, openapi_extra=_params_doc(
                "service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id",
                "api_key"))
@georeport
def list_requests(request: Request, fmt: str, db: DatabaseDep, clock: ClockDep) -> Any:
    service_request_id = _param(request, "service_request_id", MAX_IDS * 33)
    service_code = _param(request, "service_code", 100)
    start_date = _param(request, "start_date", 40)
    end_date = _param(request, "end_date", 40)
    status = _param(request, "status", 20)
    _param(request, "jurisdiction_id", 100)

    def answer(rows: list[Any]) -> Any:
        return fmt311.answer(fmt, [o311.as_service_request(s) for s in rows], root="service_requests", item="request")

    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if is_id(i.strip())][:MAX_IDS]
        return answer(o311.requests_by_reference(db, references=ids))
    # A listing would give exact counts per category, which the public metrics suppress below 5:
    # only systems holding an api_key may list (issue 21 item 7).
    if not _api_key_ok(request, _param(request, "api_key", 200) or request.headers.get("x-api-key")):
        raise GeoReportError(403, "Listing service requests needs an api_key; a single request is public by its "
                             "service_request_id")
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
    return answer(o311.search_requests(db, start=start, end=end, statuses=wanted_status, codes=codes))


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def not_supported(rest: str) -> Response:
    """Anything else under the GeoReport root answers in the GeoReport error format."""
    return GeoReportError(404, "Not found").response("xml" if rest.endswith(".xml") else "json")
