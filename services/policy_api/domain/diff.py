"""Section-by-section differences between two versions of a policy.

Sections pair up by their stable ``key`` (a section keeps its key when a new version is drafted
from an older one). Each pair is added, removed, changed or unchanged; a changed one carries a
unified text diff of its heading and Markdown (a download, for those who want it) and a word-level
comparison of the text as readers see it, without Markdown markup (``words``). Pure."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from services.policy_api.domain.markdown import plain_text


@dataclass(frozen=True)
class WordChunk:
    """A run of text that is the same in both versions, inserted, or deleted."""

    op: Literal["same", "ins", "del"]
    text: str


_TOKEN = re.compile(r"\n|[^\S\n]+|\w+|[^\w\s]")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def words(before: str, after: str) -> list[WordChunk]:
    """A word-level comparison of two plain texts: runs of same, deleted and inserted text, in reading
    order (a replacement is its deletion, then its insertion). Whitespace between two changed words joins
    the change, so "the old rule" -> "the new policy" reads as del "old rule", ins "new policy"."""
    a, b = _tokens(before), _tokens(after)
    out: list[WordChunk] = []

    def emit(op: Literal["same", "ins", "del"], text: str) -> None:
        if not text:
            return
        if out and out[-1].op == op:
            out[-1] = WordChunk(op, out[-1].text + text)
        else:
            out.append(WordChunk(op, text))

    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    # A run of pure whitespace kept between two changes is folded into them (it reads better).
    merged: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if (tag == "equal" and merged and merged[-1][0] != "equal" and "".join(a[i1:i2]).strip(" ") == ""
                and "\n" not in "".join(a[i1:i2])):
            _, pi1, _, pj1, _ = merged[-1]
            merged[-1] = ("replace", pi1, i2, pj1, j2)
            continue
        if tag != "equal" and merged and merged[-1][0] != "equal":
            _, pi1, _, pj1, _ = merged[-1]
            merged[-1] = ("replace", pi1, i2, pj1, j2)
            continue
        merged.append((tag, i1, i2, j1, j2))
    for op, i1, i2, j1, j2 in merged:
        if op == "equal":
            emit("same", "".join(a[i1:i2]))
        else:
            emit("del", "".join(a[i1:i2]))
            emit("ins", "".join(b[j1:j2]))
    return out


def section_words(before: SectionText | None, after: SectionText | None) -> list[WordChunk]:
    """The heading and the text of a section, compared word by word (an added section is all inserted)."""
    def text(s: SectionText | None) -> str:
        return f"{s.heading}\n{plain_text(s.body_markdown)}" if s else ""
    return words(text(before), text(after))


@dataclass(frozen=True)
class SectionText:
    key: str
    heading: str
    body_markdown: str
    elements: Sequence[str] = ()


@dataclass(frozen=True)
class SectionDiff:
    key: str
    status: str  # added | removed | changed | unchanged
    heading_before: str | None
    heading_after: str | None
    elements_added: list[str] = field(default_factory=list)
    elements_removed: list[str] = field(default_factory=list)
    unified_diff: str = ""
    moved: bool = False
    words: list[WordChunk] = field(default_factory=list)


@dataclass(frozen=True)
class VersionDiff:
    sections: list[SectionDiff]

    @property
    def counts(self) -> dict[str, int]:
        out = {"added": 0, "removed": 0, "changed": 0, "unchanged": 0}
        for s in self.sections:
            out[s.status] += 1
        return out


def _text(section: SectionText) -> list[str]:
    return [f"## {section.heading}\n", "\n", *[line + "\n" for line in section.body_markdown.splitlines()]]


def unified(before: SectionText | None, after: SectionText | None, *, from_label: str, to_label: str,
            context: int = 3) -> str:
    a = _text(before) if before else []
    b = _text(after) if after else []
    return "".join(difflib.unified_diff(a, b, fromfile=from_label, tofile=to_label, n=context))


def diff_versions(
    before: Sequence[SectionText], after: Sequence[SectionText], *, from_label: str = "before",
    to_label: str = "after",
) -> VersionDiff:
    old = {s.key: (i, s) for i, s in enumerate(before)}
    new = {s.key: (i, s) for i, s in enumerate(after)}
    order: list[str] = [s.key for s in after]
    # Removed sections are shown where they used to be, after the section that preceded them.
    for i, s in enumerate(before):
        if s.key in new:
            continue
        anchor = next((before[j].key for j in range(i - 1, -1, -1) if before[j].key in order), None)
        order.insert(order.index(anchor) + 1 if anchor else 0, s.key)
    old_rank = [s.key for s in before if s.key in new]
    new_rank = [s.key for s in after if s.key in old]
    result = []
    for key in order:
        a = old.get(key, (None, None))[1]
        b = new.get(key, (None, None))[1]
        fl, tl = f"{from_label}/{key}", f"{to_label}/{key}"
        if a is None and b is not None:
            result.append(SectionDiff(key=key, status="added", heading_before=None, heading_after=b.heading,
                                      elements_added=list(b.elements), unified_diff=unified(None, b, from_label=fl,
                                                                                              to_label=tl),
                                      words=section_words(None, b)))
        elif b is None and a is not None:
            result.append(SectionDiff(key=key, status="removed", heading_before=a.heading, heading_after=None,
                                      elements_removed=list(a.elements),
                                      unified_diff=unified(a, None, from_label=fl, to_label=tl),
                                      words=section_words(a, None)))
        elif a is not None and b is not None:
            moved = old_rank.index(key) != new_rank.index(key)
            added = [e for e in b.elements if e not in a.elements]
            removed = [e for e in a.elements if e not in b.elements]
            same_text = a.heading == b.heading and a.body_markdown == b.body_markdown
            status = "unchanged" if same_text and not added and not removed else "changed"
            result.append(SectionDiff(
                key=key, status=status, heading_before=a.heading, heading_after=b.heading,
                elements_added=added, elements_removed=removed, moved=moved,
                unified_diff="" if same_text else unified(a, b, from_label=fl, to_label=tl),
                words=[] if same_text else section_words(a, b),
            ))
    return VersionDiff(sections=result)
