"""What the widget needs to draw its forms: options and bounds, official accounts, published policies."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from services.feedback_api.deps import IntakeDep, SettingsDep
from services.feedback_api.domain.directory import Listing, PolicyDirectory
from services.feedback_api.domain.evidence import ALLOWED_TYPES
from services.feedback_api.schemas import CategoryOut, LimitsOut, OptionsOut, PublicPolicy
from shared.caching import cached_response, etag_for
from shared.schemas.intake import ViolationCategory
from shared.schemas.registry import AccountPublic, Platform
from shared.web import problem_responses
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/options", operation_id="public_options", summary="Categories, platforms and input limits")
async def options(settings: SettingsDep) -> OptionsOut:
    return OptionsOut(
        categories=[CategoryOut(key=c) for c in ViolationCategory],
        platforms=list(Platform),
        limits=LimitsOut(
            max_links=settings.max_links, max_files=settings.max_files, max_file_bytes=settings.max_file_bytes,
            max_description=settings.max_description, allowed_types=list(ALLOWED_TYPES),
        ),
    )


def _listing_response(request: Request, encoded: tuple[bytes, str]) -> Response:
    # Public data (active accounts, published policies), the same for everyone: a minute in shared
    # caches, then revalidated by ETag; the directory itself reloads from policy_api every minute.
    body, etag = encoded
    return cached_response(request, body, etag=etag, media_type="application/json", max_age=60,
                           stale_while_revalidate=300)


async def _listing(directory: PolicyDirectory, key: str) -> Listing:
    # Warm (nearly always): answered on the event loop. Cold or far too old: loaded in a thread.
    listing = directory.peek(key)
    return listing if listing is not None else await run_in_threadpool(directory.listing, key)


def _accounts_json(items: list[dict[str, Any]]) -> tuple[bytes, str]:
    out: list[AccountPublic] = []
    for item in items:
        try:
            out.append(AccountPublic.model_validate(item))
        except ValueError:
            continue  # one malformed entry must not hide the others
    body = _ACCOUNTS.dump_json(out)
    return body, etag_for(body)


def _policies_json(items: list[dict[str, Any]]) -> tuple[bytes, str]:
    body = _POLICIES.dump_json([PublicPolicy.model_validate(p) for p in items])
    return body, etag_for(body)


_ACCOUNTS = TypeAdapter(list[AccountPublic])
_POLICIES = TypeAdapter(list[PublicPolicy])


@router.get("/accounts", operation_id="public_accounts", summary="Active official accounts (from policy_api, cached)",
            response_model=list[AccountPublic], responses=problem_responses(503))
async def accounts(request: Request, intake: IntakeDep) -> Response:
    listing = await _listing(intake.directory, "accounts")
    return _listing_response(request, listing.encoded("json", _accounts_json))


@router.get("/policies", operation_id="public_policies",
            summary="Published policies with their current version and sections (from policy_api, cached)",
            response_model=list[PublicPolicy], responses=problem_responses(503))
async def policies(request: Request, intake: IntakeDep) -> Response:
    listing = await _listing(intake.directory, "policies")
    return _listing_response(request, listing.encoded("json", _policies_json))
