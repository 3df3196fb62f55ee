"""Spanish text of a policy version (issue 20 item 3; R-24-89 §1.B: the Transparency page serves
residents in English and Spanish).

An editor may give each section of a version a translation (heading and Markdown body), also after
the version is published: a translation changes nothing the City is bound by. The English section is
the authoritative text: completeness, diffs, acknowledgements and the Council report read only it,
and the Transparency page labels the Spanish as a translation and links to the English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.policy_api.domain import changelog, markdown
from services.policy_api.domain.context import WriteContext, flush_or_conflict
from services.policy_api.domain.models import Section
from services.policy_api.domain.translation_models import SectionTranslation
from services.policy_api.domain.versions import get_version
from shared.db import Database
from shared.errors import ValidationFailed, field_error

#: Languages a policy may be translated into (English is the language it is written in).
LANGUAGES = ("es",)
AUTHORITATIVE = "en"


@dataclass(frozen=True)
class SectionText:
    section_id: str
    heading: str
    body_markdown: str


def of_version(session: Session, version_id: str, lang: str) -> dict[str, SectionTranslation]:
    """The version's translations into ``lang``, by section id (one statement)."""
    rows = session.exec(select(SectionTranslation).where(
        SectionTranslation.version_id == version_id, SectionTranslation.lang == lang)).all()
    return {row.section_id: row for row in rows}


def translations(db: Database, *, policy_id: str, version_id: str, lang: str) -> list[SectionTranslation]:
    with db.read() as s:
        get_version(s, policy_id, version_id, public=False)
        order = {sec.id: sec.ordinal for sec in _sections(s, version_id)}
        found = of_version(s, version_id, lang)
    return sorted(found.values(), key=lambda t: order.get(t.section_id, 0))


def _sections(session: Session, version_id: str) -> list[Section]:
    return list(session.exec(select(Section).where(Section.version_id == version_id)
                             .order_by(col(Section.ordinal))).all())


def set_translation(db: Database, *, policy_id: str, version_id: str, lang: str,
                    sections: Sequence[SectionText], ctx: WriteContext) -> list[SectionTranslation]:
    """Set (create or replace) the translation of the given sections; others are left as they are.
    Every section must belong to this version; a body with no text is refused (say nothing rather
    than publish an empty translation)."""
    if lang not in LANGUAGES:
        raise ValidationFailed(f"Translations are into {', '.join(LANGUAGES)}.",
                               errors=[field_error(["path", "lang"], "unsupported language")])
    with db.write() as s:
        get_version(s, policy_id, version_id, public=False)
        own = {sec.id: sec for sec in _sections(s, version_id)}
        errors = []
        for i, text in enumerate(sections):
            if text.section_id not in own:
                errors.append(field_error(["body", "sections", i, "section_id"], "not a section of this version"))
            elif not markdown.plain_text(text.body_markdown).strip():
                errors.append(field_error(["body", "sections", i, "body_markdown"], "the translation has no text"))
        if len({t.section_id for t in sections}) != len(sections):
            errors.append(field_error(["body", "sections"], "a section is given twice"))
        if errors:
            raise ValidationFailed("Some sections could not be translated.", errors=errors)
        existing = of_version(s, version_id, lang)
        for text in sections:
            row = existing.get(text.section_id)
            before = changelog.snapshot(row) if row is not None else None
            if row is None:
                row = SectionTranslation(section_id=text.section_id, version_id=version_id, lang=lang,
                                         heading=text.heading, translated_by=ctx.actor, updated_at=ctx.now)
                s.add(row)
                existing[text.section_id] = row
            row.heading = text.heading
            row.body_markdown = text.body_markdown
            row.body_html = markdown.render(text.body_markdown)
            row.translated_by = ctx.actor
            row.updated_at = ctx.now
            flush_or_conflict(s, "The translation was changed at the same time; try again.")
            changelog.record(s, actor=ctx.actor, action="translation_set", entity_type="section_translation",
                             entity_id=row.id, at=ctx.now, before=before, after=changelog.snapshot(row),
                             request_id=ctx.request_id)
        s.flush()
        order = {sid: sec.ordinal for sid, sec in own.items()}
        return sorted(existing.values(), key=lambda t: order.get(t.section_id, 0))
