"""A translation of a policy section (issue 20 item 3): Spanish text residents can read, labelled as a
translation; the English section stays the authoritative text (completeness, diffs, acknowledgements and
the Council report read only the English)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from services.policy_api.domain.models import Base
from shared.ids import new_id


class SectionTranslation(Base, table=True):
    __tablename__ = "policy_section_translations"
    __table_args__ = (UniqueConstraint("section_id", "lang", name="uq_policy_section_translations_lang"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    section_id: str = Field(foreign_key="policy_sections.id", max_length=64, index=True)
    version_id: str = Field(foreign_key="policy_versions.id", max_length=64, index=True)
    lang: str = Field(max_length=8)
    heading: str = Field(max_length=300)
    body_markdown: str = Field(default="")
    body_html: str = Field(default="")
    translated_by: str = Field(max_length=200)
    updated_at: datetime
