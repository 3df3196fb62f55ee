"""The Transparency page (R-24-89 §1.B): server-rendered HTML that works without JavaScript.

Every published policy with its current version, effective date, review status, version history
and diffs; the registry of official accounts; case_api's public statistics when it answers; and the
feedback widget (with a plain link for people who block scripts). Strict CSP: scripts and frames
only from this origin and feedback_api's."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.policy_api import i18n, views
from services.policy_api.domain import checkpoints, transparency
from services.policy_api.routers._common import CatalogueReady
from shared.caching import cached_response
from shared.errors import NotFound
from shared.web import ClockDep, DatabaseDep, problem_responses
from shared.web.routing import APIRouter

HERE = Path(__file__).resolve().parent.parent
STATIC = HERE / "static"
STATIC_FILES = {"transparency.css": "text/css; charset=utf-8"}
KIND_ORDER = ["social_media_policy", "administrative_instruction", "department_guideline", "other"]
HTML_MAX_AGE = 60

router = APIRouter(tags=["transparency"], dependencies=[CatalogueReady])

LangQ = Query(default="en", max_length=35,
              description="Page language: en or es (es-MX is es); any other value falls back to English.")


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # built once per process; templates ship with the code (no stat per render)
    )
    return env


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp(feedback_origin: str) -> str:
    return "; ".join([
        "default-src 'none'",
        f"script-src 'self' {feedback_origin}",
        f"frame-src {feedback_origin}",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _render(request: Request, template: str, lang: str, **ctx: Any) -> Response:
    settings = request.app.state.settings
    feedback = settings.feedback_origin_url
    lang = i18n.pick(lang)  # an unknown language is English, not a 422
    t = i18n.translator(lang)

    def url(path: str, **params: Any) -> str:
        values = {k: v for k, v in params.items() if v is not None}
        if lang != i18n.DEFAULT:
            values["lang"] = lang
        return path + (f"?{urlencode(values)}" if values else "")

    def other_lang_url() -> str:
        other = t("lang.other.code")
        params = {k: v for k, v in request.query_params.items() if k in ("from", "to")}
        if other != i18n.DEFAULT:
            params["lang"] = other
        return request.url.path + (f"?{urlencode(params)}" if params else "")

    cl_attr = Markup(' lang="{}"').format(i18n.CONTENT_LANGUAGE)
    title = settings.transparency_title if lang == i18n.DEFAULT else i18n.TITLES.get(lang, settings.transparency_title)
    html = _env().get_template(template).render(
        lang=lang, t=t, url=url, other_lang_url=other_lang_url(), site_title=title,
        fdate=lambda d: i18n.format_date(d, lang), feedback_url=feedback,
        api_base=settings.public_base_url.rstrip("/"), safe=Markup, platforms=i18n.PLATFORMS,
        label=lambda dim, key: i18n.label(dim, key, lang),
        label_lang=lambda dim, key: "" if i18n.is_translated(dim, key, lang) else cl_attr,
        # Policy text and registry entries are written in English: mark them so on other-language pages.
        cl=Markup(' lang="{}"').format(i18n.CONTENT_LANGUAGE) if lang != i18n.CONTENT_LANGUAGE else "", **ctx,
    )
    return cached_response(
        request, html.encode(), media_type="text/html; charset=utf-8", max_age=HTML_MAX_AGE, private=False,
        headers={"Content-Security-Policy": csp(origin(feedback)), "Content-Language": lang,
                 "Vary": "Accept-Encoding"},
    )


def _soon(request: Request) -> int:
    days: int = request.app.state.settings.review_due_soon_days
    return days


@router.get("/transparency", operation_id="transparency_page", response_class=HTMLResponse,
            summary="The Transparency page: policies, official accounts, statistics, feedback (HTML)")
def transparency_page(request: Request, db: DatabaseDep, clock: ClockDep, lang: str = LangQ) -> Response:
    today = clock.now().date()
    data = transparency.index(db, metrics=request.app.state.metrics_source.get)
    cards = [views.card(c, today, _soon(request)) for c in data.cards]
    groups = [(kind, [c for c in cards if c["policy"].kind == kind]) for kind in KIND_ORDER]
    return _render(request, "index.html", lang, groups=[g for g in groups if g[1]], accounts=data.accounts,
                   metrics=data.metrics, today=today, checkpoint=checkpoints.latest(db))


@router.get("/transparency/policies/{policy_id}", operation_id="transparency_policy", response_class=HTMLResponse,
            responses=problem_responses(404), summary="One policy: current text, history, reviews (HTML)")
def transparency_policy(request: Request, policy_id: str, db: DatabaseDep, clock: ClockDep,
                        lang: str = LangQ) -> Response:
    page = transparency.version_page(db, policy_id=policy_id, version_id=None, lang=i18n.pick(lang))
    return _version_page(request, page, clock.now().date(), lang)


@router.get("/transparency/policies/{policy_id}/versions/{version_id}", operation_id="transparency_version",
            response_class=HTMLResponse, responses=problem_responses(404),
            summary="One version of a policy (HTML, linkable)")
def transparency_version(request: Request, policy_id: str, version_id: str, db: DatabaseDep, clock: ClockDep,
                         lang: str = LangQ) -> Response:
    page = transparency.version_page(db, policy_id=policy_id, version_id=version_id, lang=i18n.pick(lang))
    return _version_page(request, page, clock.now().date(), lang)


def _version_page(request: Request, page: transparency.VersionPage, today: date, lang: str) -> Response:
    card = views.card(page.card, today, _soon(request))
    policy, version = page.card.row.policy, page.version
    checklist = views.completeness_out(policy, version, page.checklist)
    titles = {i.key: i.title for i in checklist.items}
    previous = next((v for v in page.card.versions if v.number < version.number), None)
    return _render(request, "version.html", lang, card=card, policy=policy, version=version, sections=page.sections,
                   checklist=checklist, element_titles=titles, reviews=page.reviews, previous=previous,
                   translations=page.translations,
                   is_current=bool(card["current"] and card["current"].id == version.id))


@router.get("/transparency/policies/{policy_id}/diff", operation_id="transparency_diff", response_class=HTMLResponse,
            responses=problem_responses(404), summary="What changed between two versions (HTML)")
def transparency_diff(request: Request, policy_id: str, db: DatabaseDep, clock: ClockDep,
                      from_version: str = Query(alias="from", max_length=64),
                      to_version: str = Query(alias="to", max_length=64), lang: str = LangQ) -> Response:
    page = transparency.diff_page(db, policy_id=policy_id, from_id=from_version, to_id=to_version)
    card = views.card(page.card, clock.now().date(), _soon(request))
    return _render(request, "diff.html", lang, policy=page.card.row.policy, diff=views.diff_out(page.diff),
                   card=card)


@router.get("/transparency/policies/{policy_id}/diff.patch", operation_id="transparency_diff_patch",
            responses={200: {"content": {"text/x-diff": {}}, "description": "Unified diff"}, **problem_responses(404)},
            summary="The unified diff of the two versions' Markdown source, as a download")
def transparency_diff_patch(request: Request, policy_id: str, db: DatabaseDep,
                            from_version: str = Query(alias="from", max_length=64),
                            to_version: str = Query(alias="to", max_length=64)) -> Response:
    page = transparency.diff_page(db, policy_id=policy_id, from_id=from_version, to_id=to_version)
    d = page.diff
    body = "".join(s.unified_diff for s in d.diff.sections if s.unified_diff).encode()
    name = f"{page.card.row.policy.identifier}-v{d.from_version.label}-v{d.to_version.label}"
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".patch"
    response = cached_response(request, body, media_type="text/x-diff; charset=utf-8", max_age=HTML_MAX_AGE,
                               private=False)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/transparency/static/{name}", operation_id="transparency_static", include_in_schema=False)
def transparency_static(request: Request, name: str) -> Response:
    if name not in STATIC_FILES:
        raise NotFound("No such file.")
    body = (STATIC / name).read_bytes()
    return cached_response(request, body, media_type=STATIC_FILES[name], max_age=3600, private=False)
