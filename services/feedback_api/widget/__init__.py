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
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from shared.errors import NotFound
from shared.schemas.intake import MAX_DESCRIPTION, MAX_LINKS, ViolationCategory
from shared.schemas.registry import Platform

HERE = Path(__file__).parent
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
STATIC_FILES = frozenset({"widget.js", "widget.css"})
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")

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


def _allowed_ancestors(request: Request) -> list[str]:
    configured: list[str] = getattr(request.app.state.settings, "frame_ancestors", [])
    return [o.rstrip("/") for o in configured if _ORIGIN.match(o.rstrip("/"))]


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
        ctx["receipt_grouped"] = " ".join(ctx["receipt"][i:i + 4] for i in range(0, len(ctx["receipt"]), 4))
    body = _templates().get_template("nojs.html").render(lang=lang, view=view, ctx=ctx, tr=translator(lang))
    return HTMLResponse(body, status_code=status_code, headers=_page_headers("'none'"))


@cache
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
    return template.render(lang=lang, mode=mode, t=catalogue(lang), tr=translator(lang), config=config, nojs=nojs)


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
    parent_origin = parent.rstrip("/") if parent and parent.rstrip("/") in ancestors else None
    body = _frame_page(pick_language(lang, request.headers.get("accept-language")), parent_origin)
    return HTMLResponse(body, headers=_page_headers(" ".join(ancestors) or "'none'"))


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


@cache
def _loader_source() -> str:
    messages = {code: {k: v for k, v in catalogue(code).items() if k.startswith("loader.")} for code in LANGUAGES}
    source = (HERE / "static" / "loader.js").read_text(encoding="utf-8")
    return source.replace("/*MESSAGES*/null", json.dumps(messages, ensure_ascii=True))


@router.get(
    "/widget/v1/loader.js",
    operation_id="widget_loader",
    summary="The one script a City page includes to embed the widget",
    response_class=Response,
)
async def widget_loader() -> Response:
    return Response(
        _loader_source(),
        media_type="text/javascript; charset=utf-8",
        headers={
            # Loaded by <script src> from the City's own (other) site.
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Cache-Control": "public, max-age=300",
        },
    )


@router.get(
    "/widget/v1/static/{name}",
    operation_id="widget_static",
    summary="The widget's own script and style sheet",
    response_class=Response,
)
async def widget_static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise NotFound("No such widget asset.")
    return Response(_static_bytes(name), media_type=STATIC_TYPES[Path(name).suffix],
                    headers={"Cache-Control": "no-cache"})


@cache
def _static_bytes(name: str) -> bytes:
    """An allow-listed asset, read from disk once (the handler is async: no file I/O per request)."""
    return (HERE / "static" / name).read_bytes()


from services.feedback_api.widget.nojs import report_form_context  # noqa: E402 - needs `router` above
from services.feedback_api.widget.nojs import router as nojs_router  # noqa: E402

router.include_router(nojs_router)
