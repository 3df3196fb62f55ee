"""What the widget needs to draw its forms: options and bounds, official accounts, published policies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.feedback_api.deps import IntakeDep, SettingsDep
from services.feedback_api.domain.evidence import ALLOWED_TYPES
from services.feedback_api.schemas import CategoryOut, LimitsOut, OptionsOut, PublicPolicy
from shared.schemas.intake import ViolationCategory
from shared.schemas.registry import AccountPublic, Platform
from shared.web import problem_responses

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


@router.get("/accounts", operation_id="public_accounts", summary="Active official accounts (from policy_api, cached)",
            responses=problem_responses(503))
def accounts(intake: IntakeDep) -> list[AccountPublic]:
    out: list[AccountPublic] = []
    for item in intake.directory.active_accounts():
        try:
            out.append(AccountPublic.model_validate(item))
        except ValueError:
            continue  # one malformed entry must not hide the others
    return out


@router.get("/policies", operation_id="public_policies",
            summary="Published policies with their current version and sections (from policy_api, cached)",
            responses=problem_responses(503))
def policies(intake: IntakeDep) -> list[PublicPolicy]:
    items: list[dict[str, Any]] = intake.directory.published_policies()
    return [PublicPolicy.model_validate(p) for p in items]
