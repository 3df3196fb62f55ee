"""R-24-89 §1.A: a social media policy must cover each element of the catalogue.

Pure: takes the catalogue and the sections' element tags, returns the checklist."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shared.errors import ValidationFailed

#: Only this kind is checked against the catalogue; other kinds are always "complete".
CHECKED_KIND = "social_media_policy"

#: A section covers an element only with substantive text: at least this many words, and not a placeholder.
MIN_WORDS = 2
_PLACEHOLDER = re.compile(
    r"^(?:tbd|tba|todo|to ?do|fixme|xxx+|n/?a|none|placeholder|lorem ipsum.*|coming soon|"
    r"(?:text |content |section )?to be (?:written|added|drafted|determined|completed|confirmed)|"
    r"insert .* here|\.+|-+|\?+)[.!]*$",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"[*_`#>\[\]()|~-]+")


def is_substantive(body_markdown: str) -> bool:
    """Not empty, not whitespace or markup only, not a placeholder ("TBD", "Lorem ipsum", "To be written")."""
    text = " ".join(_MARKUP.sub(" ", body_markdown or "").split())
    if not text or _PLACEHOLDER.match(text):
        return False
    return len(re.findall(r"[^\W\d_]{2,}", text)) >= MIN_WORDS


@dataclass(frozen=True)
class CatalogueItem:
    key: str
    title: str
    ordinal: int = 0
    required: bool = True


@dataclass(frozen=True)
class SectionTags:
    id: str
    heading: str
    elements: Sequence[str]
    substantive: bool = True  # False: empty, whitespace or placeholder text, which covers nothing


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str
    covered: bool
    sections: list[SectionTags] = field(default_factory=list)


@dataclass(frozen=True)
class Checklist:
    applies: bool
    complete: bool
    items: list[ChecklistItem]

    @property
    def missing(self) -> list[ChecklistItem]:
        return [i for i in self.items if not i.covered]


def check(kind: str, catalogue: Iterable[CatalogueItem], sections: Iterable[SectionTags]) -> Checklist:
    sections = list(sections)
    required = sorted((c for c in catalogue if c.required), key=lambda c: (c.ordinal, c.key))
    items = []
    for element in required:
        covering = [s for s in sections if element.key in s.elements and s.substantive]
        items.append(ChecklistItem(key=element.key, title=element.title, covered=bool(covering), sections=covering))
    applies = kind == CHECKED_KIND
    complete = (not applies) or all(i.covered for i in items)
    return Checklist(applies=applies, complete=complete, items=items)


def require_complete(checklist: Checklist, *, action: str) -> None:
    """Refuse ``action`` (approve/publish) with a 422 naming each missing element."""
    if checklist.complete:
        return
    missing = checklist.missing
    names = "; ".join(f"{m.title} ({m.key})" for m in missing)
    raise ValidationFailed(
        f"Cannot {action}: no section with substantive text covers {len(missing)} required R-24-89 "
        f"element(s): {names}.",
        errors=[
            {"loc": ["sections", "elements", m.key], "msg": f"No section covers '{m.title}'.",
             "type": "missing_element"}
            for m in missing
        ],
        missing_elements=[m.key for m in missing],
    )


def require_attested(checklist: Checklist, attested: Iterable[str]) -> list[str]:
    """The approver attests each required element (issue 20): a 422 naming each one not attested.
    Returns the attested keys, in catalogue order (unknown keys are refused too)."""
    given = list(dict.fromkeys(attested))
    known = {i.key for i in checklist.items}
    unknown = [k for k in given if k not in known]
    if not checklist.applies:
        if unknown:
            raise ValidationFailed(f"Unknown element key(s) attested: {', '.join(unknown)}.", errors=[
                {"loc": ["body", "attested_elements", k], "msg": "Unknown element.", "type": "unknown_element"}
                for k in unknown])
        return [i.key for i in checklist.items if i.key in given]
    missing = [i for i in checklist.items if i.key not in given]
    if missing or unknown:
        raise ValidationFailed(
            f"Cannot approve: the approver must attest each R-24-89 element; not attested: "
            f"{'; '.join(f'{m.title} ({m.key})' for m in missing) or 'none'}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            errors=[{"loc": ["body", "attested_elements", m.key], "msg": f"'{m.title}' was not attested.",
                     "type": "not_attested"} for m in missing]
            + [{"loc": ["body", "attested_elements", k], "msg": "Unknown element.", "type": "unknown_element"}
               for k in unknown],
            missing_attestations=[m.key for m in missing],
        )
    return [i.key for i in checklist.items]
