"""The form without JavaScript: ``/report`` is server-rendered first and the script enhances it.

People who block scripts (or whose browser runs none) get plain HTML forms that post back to
``/report``, ``/report/status`` and ``/report/message``. The handlers parse the form into the
API's own models and call the same use-cases as the API (``domain.submissions.file_report``,
``domain.follow_up.receipt_status``/``send_message``), under the same rate limits, so validation,
evidence cleaning, the wrong-receipt limits and the outbox to case_api are shared, and render the
answer as HTML with the same strict headers (no-store, no referrer, no framing, no cookies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from services.feedback_api.deps import IntakeDep, LimiterDep, RelayDep, SettingsDep, under_receipt_limits
from services.feedback_api.domain import follow_up
from services.feedback_api.domain import submissions as intake
from services.feedback_api.domain.pow import Challenges
from services.feedback_api.domain.submissions import IntakeContext
from services.feedback_api.guard import ProofOfWorkRequired, SubmissionGate, guard_of
from services.feedback_api.schemas import (
    FeedbackCreate,
    ReceiptMessageIn,
    ReportCreate,
    feedback_input,
    receipt_view,
    report_input,
)
from shared.db import Database
from shared.errors import DomainError, NotFound, TooManyRequests
from shared.ratelimit import RateLimiter, rate_limit
from shared.schemas.intake import ViolationCategory
from shared.schemas.registry import Platform
from shared.web import ClockDep, DatabaseDep
from shared.web.routing import APIRouter

router = APIRouter(tags=["widget"], include_in_schema=False)  # HTML forms, not API

MAX_FORM_FIELDS = 40
NOJS_LINKS = 3

# pydantic / problem ``type`` -> catalogue key (the same table as widget.js).
SERVER_ERROR_KEYS = {
    "missing": "error.server.missing",
    "url_parsing": "error.server.url",
    "url_scheme": "error.server.url",
    "string_too_long": "error.server.too_long",
    "too_long": "error.server.too_many",
    "date_parsing": "error.server.date",
    "date_from_datetime_parsing": "error.server.date",
    "enum": "error.server.choice",
    "literal_error": "error.server.choice",
    "unsupported_media_type": "error.server.file_type",
}
REQUIRED_KEYS = {
    "platform": "error.platform_required", "categories": "error.categories_required",
    "description": "error.description_required", "body": "error.message_required",
}
FIELD_IDS = {
    "account_id": "cs-account", "account_text": "cs-account_text", "platform": "cs-platform",
    "categories": "cs-category-0", "seen_on": "cs-seen_on", "description": "cs-description",
    "contact_email": "cs-contact_email", "evidence": "cs-evidence", "receipt": "cs-receipt", "body": "cs-reply",
}
# The policy feedback form's fields (ids prefixed so they never clash with the report form's).
FEEDBACK_FIELD_IDS = {
    "policy_id": "cs-fb-target", "version_id": "cs-fb-target", "section_id": "cs-fb-target",
    "text": "cs-fb-text", "rating": "cs-fb-rating-1", "contact_email": "cs-fb-contact_email",
}
FEEDBACK_REQUIRED_KEYS = {"text": "error.text_required", "policy_id": "error.policy_required",
                          "version_id": "error.policy_required"}


@dataclass
class FieldError:
    target: str | None
    key: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class PostedForm:
    fields: dict[str, list[str]]
    files: list[bytes]
    file_names: list[str] = field(default_factory=list)

    def one(self, name: str) -> str:
        values = self.fields.get(name) or [""]
        return values[0].strip()


async def posted_form(request: Request) -> PostedForm:
    """Parse an HTML form (urlencoded or multipart); the body size is bounded by the kernel."""
    settings = request.app.state.settings
    max_files: int = getattr(settings, "max_files", 5)
    max_bytes: int = getattr(settings, "max_file_bytes", 5 * 1024 * 1024)
    form = await request.form(max_files=max_files + 1, max_fields=MAX_FORM_FIELDS)
    try:
        fields: dict[str, list[str]] = {}
        files: list[bytes] = []
        names: list[str] = []
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(key, []).append(value)
            elif isinstance(value, UploadFile) and key == "evidence" and value.filename:
                files.append(await value.read(max_bytes + 1))
                names.append(value.filename[:120])  # only to name a refused file on the page; never stored
        return PostedForm(fields, files, names)
    finally:
        await form.close()


FormDep = Depends(posted_form)


def _location_errors(errors: list[dict[str, Any]] | None, *, field_ids: dict[str, str] = FIELD_IDS,
                     required: dict[str, str] = REQUIRED_KEYS,
                     file_names: list[str] | None = None) -> list[FieldError]:
    out: list[FieldError] = []
    for error in errors or []:
        path = [p for p in error.get("loc", []) if p not in ("body", "report")]
        name = path[0] if path else None
        if name == "links":
            target: str | None = f"cs-link-{path[1]}" if len(path) > 1 else "cs-link-0"
        else:
            target = field_ids.get(str(name)) if name is not None else None
        kind = str(error.get("type", ""))
        key = SERVER_ERROR_KEYS.get(kind, "error.server.invalid")
        if kind in ("missing", "too_short", "string_too_short", "enum") and str(name) in required:
            key = required[str(name)]
        args: dict[str, Any] = {}
        index = path[1] if name == "evidence" and len(path) > 1 and isinstance(path[1], int) else None
        if key == "error.server.file_type" and file_names and index is not None and index < len(file_names):
            key, args = "error.server.file_type_named", {"name": file_names[index]}  # the refused file, named
        if not any(e.target == target and e.key == key for e in out):
            out.append(FieldError(target, key, args))
    return out or [FieldError(None, "error.general")]


def _status_error(exc: DomainError, target: str | None, **locate: Any) -> list[FieldError]:
    if isinstance(exc, TooManyRequests):
        return [FieldError(None, "error.rate_limited")]
    if isinstance(exc, ProofOfWorkRequired):
        return [FieldError(None, "error.busy")]
    if exc.status == 413:
        return [FieldError(target, "error.too_large")]
    return _location_errors(exc.errors, **locate)


def _accounts(ctx: IntakeContext) -> list[dict[str, Any]]:
    try:
        items: list[dict[str, Any]] = ctx.directory.active_accounts()
    except Exception:  # noqa: BLE001 - the list is a convenience: free text always works
        return []
    return [a for a in items if isinstance(a, dict) and a.get("id")]


def _policies(ctx: IntakeContext) -> list[dict[str, Any]]:
    """Published policies and their sections, as one choice each: without JavaScript a second list
    cannot follow the first, so the section is chosen in the same list (grouped by policy)."""
    try:
        items: list[dict[str, Any]] = ctx.directory.published_policies()
    except Exception:  # noqa: BLE001 - shown as "could not be loaded" on the form
        return []
    return [p for p in items if isinstance(p, dict) and (p.get("current_version") or {}).get("id")]


def _target_value(policy_id: str, version_id: str, section_id: str | None) -> str:
    return f"{policy_id}|{version_id}|{section_id or ''}"


def _form_token(request: Request | None) -> str:
    guard = getattr(request.app.state, "guard", None) if request is not None else None
    return guard.challenges.issue().text if guard is not None else ""


def same_site_form(request: Request, settings: Any, challenges: Challenges, token: str | None) -> bool:
    """Was this form posted from our own pages? (issue 21 item 6: any website could make its
    visitors' browsers file a report.) ``Sec-Fetch-Site`` ``same-origin``/``none`` is ours; another
    site is refused unless its ``Origin`` is this service's public origin or a configured City
    origin (``cors_origins``). ``Origin``, when sent, must be one of those. A browser that sends
    neither header (old ones) must return the signed form token of a page we served (no cookie)."""
    allowed = {origin_of(settings.public_base_url), *(origin_of(o) for o in getattr(settings, "cors_origins", []))}
    site = (request.headers.get("sec-fetch-site") or "").strip().lower()
    origin = (request.headers.get("origin") or "").strip()
    has_origin = bool(origin) and origin.lower() != "null"  # "null": an opaque origin proves nothing
    if has_origin and origin_of(origin) not in allowed:
        return False
    if site in ("cross-site", "same-site") and not has_origin:
        return False
    if site in ("same-origin", "none", "cross-site", "same-site") or has_origin:
        return True
    return challenges.form_token_ok(token)


def origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}"


def report_form_context(ctx: IntakeContext | None, settings: Any, values: dict[str, Any] | None = None,
                        errors: list[FieldError] | None = None, request: Request | None = None) -> dict[str, Any]:
    """What the server-rendered report form needs (also used by GET /report)."""
    return {
        "policies": _policies(ctx) if ctx is not None else [],
        "accounts": _accounts(ctx) if ctx is not None else [],
        "platforms": [p.value for p in Platform],
        "categories": [c.value for c in ViolationCategory],
        "links": NOJS_LINKS,
        "max_files": getattr(settings, "max_files", 5),
        "max_mb": round(getattr(settings, "max_file_bytes", 5 * 1024 * 1024) / (1024 * 1024)),
        "values": values or {},
        "form_token": _form_token(request),
        "errors": errors or [],
        "error_for": {e.target: e for e in errors or [] if e.target},
    }


def _render(request: Request, lang: str, view: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    from services.feedback_api.widget import render_nojs

    if view in ("form", "feedback") and not context.get("form_token"):
        context = {**context, "form_token": _form_token(request)}
    return render_nojs(request, lang=lang, view=view, context=context, status_code=status_code)


def _lang(form: PostedForm) -> str:
    from services.feedback_api.widget import pick_language

    return pick_language(form.one("lang"), None)


@router.post("/report", response_class=HTMLResponse, operation_id="widget_report_nojs",
             summary="The report form without JavaScript: file a report, get the receipt page")
def report_nojs(request: Request, db: DatabaseDep, ctx: IntakeDep, settings: SettingsDep, clock: ClockDep,
                relay: RelayDep, form: PostedForm = FormDep) -> HTMLResponse:
    lang = _lang(form)
    values = {k: v for k, v in form.fields.items() if k not in ("lang", "form_token", "pow_nonce")}
    if not same_site_form(request, settings, guard_of(request).challenges, form.one("form_token")):
        return _render(request, lang, "form", report_form_context(ctx, settings, {}, [
            FieldError(None, "error.cross_site")]), status_code=403)
    errors: list[FieldError] = []
    account = form.one("account_id")
    data: dict[str, Any] = {
        "platform": form.one("platform") or None,
        "categories": form.fields.get("categories", []),
        "links": [v.strip() for v in form.fields.get("links", []) if v.strip()],
        "description": form.one("description") or None,
        "seen_on": form.one("seen_on") or None,
        "contact_email": form.one("contact_email") or None,
        "notify_updates": form.one("notify_updates") == "true",
        "website": form.one("website") or None,
    }
    if account and account != "__other":
        data["account_id"] = account
    elif form.one("account_text"):
        data["account_text"] = form.one("account_text")
    else:
        errors.append(FieldError("cs-account_text" if account == "__other" else "cs-account",
                                 "error.account_text_required" if account == "__other" else "error.account_required"))
    try:
        report = ReportCreate.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        errors += _location_errors([{"loc": list(e["loc"]), "type": e["type"]}
                                    for e in exc.errors(include_url=False, include_input=False)])
        report = None
    if errors or report is None:
        return _render(request, lang, "form", report_form_context(ctx, settings, values, errors))
    guard = guard_of(request)
    token = form.one("form_token")
    nonce = form.one("pow_nonce")
    try:
        admission = guard.admit(request, proof=f"{token}:{nonce}" if nonce else None, form_token=token)
        gate = SubmissionGate(guard, request, admission)
        created = gate.run(lambda claim: intake.file_report(
            db, ctx, report=report_input(report), files=form.files, decoy_allowed=gate.decoy_allowed(),
            claim=claim, now=clock.now()))
    except DomainError as exc:
        return _render(request, lang, "form", report_form_context(
            ctx, settings, values, _status_error(exc, "cs-evidence", file_names=form.file_names)))
    relay.notify()
    return _render(request, lang, "confirmation", {"reference": created.reference, "receipt": created.receipt,
                                                    "kind": created.kind})


@router.post("/report/feedback", response_class=HTMLResponse, operation_id="widget_feedback_nojs",
             summary="Feedback on a policy without JavaScript: the same checks as POST /v1/feedback")
def feedback_nojs(request: Request, db: DatabaseDep, ctx: IntakeDep, settings: SettingsDep, clock: ClockDep,
                  form: PostedForm = FormDep) -> HTMLResponse:
    lang = _lang(form)
    values = {k: v for k, v in form.fields.items() if k not in ("lang", "form_token", "pow_nonce")}

    def again(errors: list[FieldError], status_code: int = 200) -> HTMLResponse:
        return _render(request, lang, "feedback", {**report_form_context(ctx, settings, request=request),
                                                   "values": values, "errors": errors,
                                                   "error_for": {e.target: e for e in errors if e.target}},
                       status_code=status_code)

    if not same_site_form(request, settings, guard_of(request).challenges, form.one("form_token")):
        values = {}
        return again([FieldError(None, "error.cross_site")], status_code=403)
    errors: list[FieldError] = []
    policy_id, version_id, section_id = [*form.one("target").split("|"), "", "", ""][:3]
    if not (policy_id and version_id):
        errors.append(FieldError("cs-fb-target", "error.policy_required"))
    data: dict[str, Any] = {
        "policy_id": policy_id or None, "version_id": version_id or None, "section_id": section_id or None,
        "text": form.one("text") or None, "rating": form.one("rating") or None,
        "contact_email": form.one("contact_email") or None, "website": form.one("website") or None,
    }
    try:
        body = FeedbackCreate.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        found = _location_errors([{"loc": list(e["loc"]), "type": e["type"]}
                                  for e in exc.errors(include_url=False, include_input=False)],
                                 field_ids=FEEDBACK_FIELD_IDS, required=FEEDBACK_REQUIRED_KEYS)
        errors += [e for e in found if not any(x.target == e.target for x in errors)]
        body = None
    if errors or body is None:
        return again(errors)
    guard = guard_of(request)
    token = form.one("form_token")
    nonce = form.one("pow_nonce")
    checked = body
    try:
        admission = guard.admit(request, proof=f"{token}:{nonce}" if nonce else None, form_token=token)
        gate = SubmissionGate(guard, request, admission)
        created = gate.run(lambda claim: intake.file_feedback(
            db, ctx, feedback=feedback_input(checked), decoy_allowed=gate.decoy_allowed(), claim=claim,
            now=clock.now()))
    except DomainError as exc:
        return again(_status_error(exc, None, field_ids=FEEDBACK_FIELD_IDS, required=FEEDBACK_REQUIRED_KEYS))
    return _render(request, lang, "confirmation", {"reference": created.reference, "receipt": created.receipt,
                                                    "kind": created.kind})


def _status_context(request: Request, db: Database, ctx: IntakeContext, limiter: RateLimiter,
                    receipt: str) -> dict[str, Any]:
    view = under_receipt_limits(request, limiter, lambda: follow_up.receipt_status(
        db, ctx.receipts.hasher, receipt=receipt))
    return {"status": receipt_view(view).model_dump(by_alias=True), "receipt": receipt}


@router.post("/report/status", response_class=HTMLResponse, operation_id="widget_status_nojs",
             summary="Check my report without JavaScript")
def status_nojs(request: Request, db: DatabaseDep, ctx: IntakeDep, limiter: LimiterDep,
                form: PostedForm = FormDep) -> HTMLResponse:
    lang = _lang(form)
    receipt = "".join(form.one("receipt").split()).replace("-", "")
    if not (receipt.isdigit() and len(receipt) == 16):
        return _render(request, lang, "status", {"errors": [FieldError("cs-receipt", "error.receipt_format")]})
    try:
        rate_limit("receipt")(request)
        context = _status_context(request, db, ctx, limiter, receipt)
    except NotFound:
        return _render(request, lang, "status", {"errors": [FieldError("cs-receipt", "error.receipt_not_found")]})
    except DomainError as exc:
        return _render(request, lang, "status", {"errors": _status_error(exc, "cs-receipt")})
    return _render(request, lang, "status", context)


@router.post("/report/message", response_class=HTMLResponse, operation_id="widget_message_nojs",
             summary="Write to the City about my report without JavaScript")
def message_nojs(request: Request, db: DatabaseDep, ctx: IntakeDep, limiter: LimiterDep, clock: ClockDep,
                 relay: RelayDep, form: PostedForm = FormDep) -> HTMLResponse:
    lang = _lang(form)
    receipt = "".join(form.one("receipt").split())
    body = form.one("body")
    try:
        rate_limit("receipt")(request)
        if body:
            message = ReceiptMessageIn(receipt=receipt, body=body)  # the API's bounds and text checks
            under_receipt_limits(request, limiter, lambda: follow_up.send_message(
                db, ctx.receipts.hasher, receipt=message.receipt, body=message.body, now=clock.now()))
            relay.notify()
        context = _status_context(request, db, ctx, limiter, receipt)
    except NotFound:
        return _render(request, lang, "status", {"errors": [FieldError("cs-receipt", "error.receipt_not_found")]})
    except (DomainError, ValidationError) as exc:
        errors = _status_error(exc, "cs-reply") if isinstance(exc, DomainError) else [FieldError("cs-reply",
                                                                                                  "error.too_long")]
        return _render(request, lang, "status", {"errors": errors})
    if not body:
        context["errors"] = [FieldError("cs-reply", "error.message_required")]
    else:
        context["sent"] = True
    return _render(request, lang, "status", context)
