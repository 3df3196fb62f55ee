"""Spanish text of a policy version, set by an editor (issue 20 item 3). The English stays authoritative."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import Depends, Path, Request
from pydantic import Field

from services.policy_api.domain import translations
from services.policy_api.domain.translation_models import SectionTranslation
from services.policy_api.routers._common import EDITORS, STAFF, write_ctx
from shared.auth import Principal
from shared.schemas.base import InputModel, OutputModel
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["policies"])

LangPath = Path(pattern="^(es)$", description="The language of the translation (English is the original).")


class SectionTranslationIn(InputModel):
    section_id: str = Field(max_length=64)
    heading: str = Field(min_length=1, max_length=300)
    body_markdown: str = Field(min_length=1, max_length=100_000)


class TranslationIn(InputModel):
    sections: list[SectionTranslationIn] = Field(min_length=1, max_length=200)


class SectionTranslationOut(OutputModel):
    section_id: str
    heading: str
    body_markdown: str
    body_html: str
    translated_by: str
    updated_at: datetime


class TranslationOut(OutputModel):
    version_id: str
    lang: str
    authoritative_lang: Literal["en"] = Field(
        default="en", description="The English text is the policy; this is a translation of it.")
    sections: list[SectionTranslationOut]


def _out(version_id: str, lang: str, rows: list[SectionTranslation]) -> TranslationOut:
    return TranslationOut(version_id=version_id, lang=lang,
                          sections=[SectionTranslationOut.model_validate(r) for r in rows])


@router.put("/v1/policies/{policy_id}/versions/{version_id}/translations/{lang}", operation_id="set_translation",
            response_model=TranslationOut, responses=problem_responses(401, 403, 404, 409, 422),
            summary="Set the translation of some or all sections of a version (English stays authoritative)")
def set_translation(request: Request, policy_id: str, version_id: str, body: TranslationIn, db: DatabaseDep,
                    clock: ClockDep, lang: str = LangPath,
                    principal: Principal = Depends(require_roles(*EDITORS))) -> TranslationOut:
    rows = translations.set_translation(
        db, policy_id=policy_id, version_id=version_id, lang=lang, ctx=write_ctx(request, principal, clock),
        sections=[translations.SectionText(section_id=s.section_id, heading=s.heading, body_markdown=s.body_markdown)
                  for s in body.sections])
    return _out(version_id, lang, rows)


@router.get("/v1/policies/{policy_id}/versions/{version_id}/translations/{lang}", operation_id="get_translation",
            response_model=TranslationOut, responses=problem_responses(401, 403, 404),
            summary="A version's translation (staff; residents read it on the Transparency page)")
def get_translation(policy_id: str, version_id: str, db: DatabaseDep, lang: str = LangPath,
                    principal: Principal = Depends(require_roles(*STAFF))) -> TranslationOut:
    rows = translations.translations(db, policy_id=policy_id, version_id=version_id, lang=lang)
    return _out(version_id, lang, rows)
