"""The embeddable widget: loader script, sandboxed iframe document, static assets, full-page form.

Owned by the widget work (issue #8); everything under this folder is served from feedback_api's
own origin so a host page's scripts can never read what a reporter types.

- ``GET /widget/v1/loader.js``: the only script a host page loads. It places a sandboxed,
  cross-origin iframe and resizes it on ``postMessage`` (origin-checked both ways).
- ``GET /widget/v1/frame``: the iframe document (CSP ``frame-ancestors`` = the configured City
  origins, ``no-store``, no cookies, no third-party resources).
- ``GET /report``: the same form as a full page (``frame-ancestors 'none'``).
- ``GET /widget/v1/static/{name}``: the widget's own script and style sheet (an allow-list).

Every string a person reads lives in ``i18n/<lang>.json``; the code only holds keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.feedback_api.frame_ancestors import Source, directive_value, parse_all, trusted_parent
from shared.caching import cached_response, etag_for
from shared.errors import NotFound
from shared.schemas.intake import MAX_DESCRIPTION, MAX_LINKS, ViolationCategory
from shared.schemas.registry import Platform
from shared.web.routing import APIRouter

HERE = Path(__file__).parent
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
STATIC_FILES = frozenset({"widget.js", "widget.css"})

# Defaults mirror the contract (``GET /v1/public/options``); the page asks the API for the
# live values and only falls back to these when it cannot reach it.
DEFAULT_LIMITS: dict[str, Any] = {
    "max_links": MAX_LINKS,
    "max_files": 5,
    "max_file_bytes": 10 * 1024 * 1024,
    "max_description": MAX_DESCRIPTION,
    "allowed_types": ["image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"],
}

router = APIRouter(tags=["widget"])


@cache
def catalogue(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((HERE / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    return data


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def pick_language(lang: str | None, accept_language: str | None) -> str:
    """``lang`` query (the host element's ``lang``) first, then the browser's Accept-Language."""
    for candidate in [lang or "", *(accept_language or "").split(",")]:
        primary = candidate.split(";")[0].strip().lower()[:2]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def _allowed_ancestors(request: Request) -> list[Source]:
    """The configured City pages (validated when the settings were read: see frame_ancestors.py)."""
    return _parsed_ancestors(tuple(getattr(request.app.state.settings, "frame_ancestors", [])))


@cache
def _parsed_ancestors(entries: tuple[str, ...]) -> list[Source]:
    return parse_all(entries)


def content_security_policy(frame_ancestors: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def _page_headers(frame_ancestors: str) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if frame_ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"
    return headers


def translator(lang: str) -> Callable[..., str]:
    messages = catalogue(lang)

    def tr(key: str, args: dict[str, Any] | None = None) -> str:
        text = messages.get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
        for name, value in (args or {}).items():
            text = text.replace("{" + name + "}", str(value))
        return text

    return tr


def render_nojs(request: Request, *, lang: str, view: str, context: dict[str, Any],
                status_code: int = 200) -> HTMLResponse:
    """A server-rendered answer to a form posted without JavaScript (see ``nojs.py``)."""
    ctx = dict(context)
    if "receipt" in ctx and view == "confirmation":
        ctx["receipt_groups"] = [ctx["receipt"][i:i + 4] for i in range(0, len(ctx["receipt"]), 4)]
    body = _templates().get_template("nojs.html").render(lang=lang, view=view, ctx=ctx, tr=translator(lang),
                                                         static_url=static_url)
    return HTMLResponse(body, status_code=status_code, headers=_page_headers("'none'"))


@lru_cache(maxsize=256)  # bounded: a "*." source matches many parent origins
def _frame_page(lang: str, parent_origin: str | None) -> str:
    """The iframe document for one language and host origin, rendered once: it holds no data of
    anyone's, and ``parent_origin`` is one of the configured City origins or ``None``."""
    return _render_page(lang=lang, mode="frame", parent_origin=parent_origin)


def _render_page(*, lang: str, mode: str, parent_origin: str | None, nojs: dict[str, Any] | None = None) -> str:
    config = {
        "lang": lang,
        "mode": mode,
        "parentOrigin": parent_origin,
        "messages": {code: catalogue(code) for code in LANGUAGES},
        "defaults": {
            "categories": [{"key": c.value} for c in ViolationCategory],
            "platforms": [p.value for p in Platform],
            "limits": DEFAULT_LIMITS,
        },
    }
    template = _templates().get_template("frame.html")
    return template.render(lang=lang, mode=mode, t=catalogue(lang), tr=translator(lang), config=config, nojs=nojs,
                           full_page_url=f"/report?lang={lang}", static_url=static_url)


@router.get(
    "/widget/v1/frame",
    response_class=HTMLResponse,
    operation_id="widget_frame",
    summary="The widget's iframe document (embedded by loader.js on City pages)",
)
async def widget_frame(
    request: Request,
    lang: str | None = Query(default=None, max_length=35),
    parent: str | None = Query(default=None, max_length=200),
) -> HTMLResponse:
    # async: no database, no peer, no file read (the page is rendered once per language and origin)
    ancestors = _allowed_ancestors(request)
    parent_origin = trusted_parent(ancestors, parent)
    body = _frame_page(pick_language(lang, request.headers.get("accept-language")), parent_origin)
    return HTMLResponse(body, headers=_page_headers(directive_value(ancestors)))


@router.get(
    "/report",
    response_class=HTMLResponse,
    operation_id="widget_report_page",
    summary="The feedback and report form as a full page (for people who block scripts on City pages)",
)
def report_page(request: Request, lang: str | None = Query(default=None, max_length=35)) -> HTMLResponse:
    # Server-rendered forms first (they work without JavaScript); widget.js replaces them. A sync
    # def: the account list may have to be fetched from policy_api (cached for a minute).
    nojs_context = report_form_context(getattr(request.app.state, "intake", None), request.app.state.settings,
                                       request=request)
    body = _render_page(
        lang=pick_language(lang, request.headers.get("accept-language")), mode="page", parent_origin=None,
        nojs=nojs_context,
    )
    return HTMLResponse(body, headers=_page_headers("'none'"))


@router.get(
    "/privacy",
    response_class=HTMLResponse,
    operation_id="widget_privacy_page",
    summary="The privacy notice of the feedback and report form",
)
async def privacy_page(request: Request, lang: str | None = Query(default=None, max_length=35)) -> HTMLResponse:
    chosen = pick_language(lang, request.headers.get("accept-language"))
    body = _templates().get_template("privacy.html").render(lang=chosen, tr=translator(chosen), static_url=static_url)
    headers = _page_headers("'none'")
    headers["Cache-Control"] = "public, max-age=3600"  # the same for everyone, holds nobody's data
    return HTMLResponse(body, headers=headers)


@cache
def _loader_source() -> str:
    messages = {code: {k: v for k, v in catalogue(code).items() if k.startswith("loader.")} for code in LANGUAGES}
    source = (HERE / "static" / "loader.js").read_text(encoding="utf-8")
    return source.replace("/*MESSAGES*/null", json.dumps(messages, ensure_ascii=True))


@cache
def _loader_asset() -> tuple[bytes, str]:
    """loader.js as sent, and its ETag: built once per process (it changes only with a release)."""
    body = _loader_source().encode()
    return body, etag_for(body)


@router.get(
    "/widget/v1/loader.js",
    operation_id="widget_loader",
    summary="The one script a City page includes to embed the widget",
    response_class=Response,
)
async def widget_loader(request: Request) -> Response:
    # Its URL is in the City's pages and cannot carry a version: five minutes, then an ETag check.
    body, etag = _loader_asset()
    response = cached_response(request, body, etag=etag, media_type="text/javascript; charset=utf-8",
                               max_age=300, private=False, stale_while_revalidate=3600,
                               # Loaded by <script src> from the City's own (other) site.
                               headers={"Cross-Origin-Resource-Policy": "cross-origin"})
    return response


@router.get(
    "/widget/v1/static/{name}",
    operation_id="widget_static",
    summary="The widget's own script and style sheet",
    response_class=Response,
)
async def widget_static(request: Request, name: str,
                        v: str | None = Query(default=None, max_length=40,
                                              description="The asset's version (its content hash)")) -> Response:
    """With the current version in ``v`` (the URLs the pages use), an asset never changes: cached for a
    year. Without it (or with an old one), revalidated every time by its ETag (a 304 costs no bytes)."""
    if name not in STATIC_FILES:
        raise NotFound("No such widget asset.")
    versioned = v is not None and v == asset_version(name)
    response = cached_response(request, _static_bytes(name), etag=_static_etag(name),
                               media_type=STATIC_TYPES[Path(name).suffix],
                               max_age=IMMUTABLE_MAX_AGE if versioned else 0, private=False,
                               stale_while_revalidate=0)
    response.headers["Cache-Control"] = (f"public, max-age={IMMUTABLE_MAX_AGE}, immutable" if versioned
                                         else "public, no-cache")
    return response


IMMUTABLE_MAX_AGE = 365 * 24 * 3600


@cache
def _static_etag(name: str) -> str:
    return etag_for(_static_bytes(name))


@cache
def asset_version(name: str) -> str:
    """A short content hash: a new release gives new URLs, so a year-long cache is never stale."""
    return _static_etag(name).strip('"')[:12]


def static_url(name: str) -> str:
    return f"/widget/v1/static/{name}?v={asset_version(name)}"


@cache
def _static_bytes(name: str) -> bytes:
    """An allow-listed asset, read from disk once (the handler is async: no file I/O per request)."""
    return (HERE / "static" / name).read_bytes()


from services.feedback_api.widget.nojs import report_form_context  # noqa: E402 - needs `router` above
from services.feedback_api.widget.nojs import router as nojs_router  # noqa: E402

router.include_router(nojs_router)
