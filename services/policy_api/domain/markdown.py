"""Markdown to sanitised HTML. Raw HTML in the input is never trusted: markdown-it renders it
as text (``html=False``) and nh3 then keeps only an allow-list of tags and attributes, so no
script, style, iframe or ``on*`` handler survives, and only http(s)/mailto links do."""

from __future__ import annotations

import re
import unicodedata
from html import unescape

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "hr", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


_HEADING_SHIFT = {"1": "4", "2": "5", "3": "6", "4": "6", "5": "6", "6": "6"}


def _shift_headings(html: str) -> str:
    # A section's own heading is an <h3> on the Transparency page: headings inside its body start below it.
    return re.sub(r"<(/?)h([1-6])([ >])", lambda m: f"<{m[1]}h{_HEADING_SHIFT[m[2]]}{m[3]}", html)


def render(markdown: str) -> str:
    html = _shift_headings(_md.render(markdown or ""))
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def slugify(text: str, *, max_length: int = 80) -> str:
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return (slug or "section")[:max_length].rstrip("-") or "section"


_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|tr|blockquote|pre|table)>|<br\s*/?>|<hr\s*/?>", re.IGNORECASE)
_LIST_ITEM = re.compile(r"<li[^>]*>", re.IGNORECASE)
_CELL_END = re.compile(r"</t[dh]>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_BLANKS = re.compile(r"\n\s*\n+")


def plain_text(markdown: str) -> str:
    """What a reader sees of the Markdown, without its markup (``**``, ``#``, ``-``...): one paragraph or
    list item per line, list items marked with a bullet. For the readable, word-level comparison."""
    html = render(markdown).replace("\n", " ")  # a soft line break inside a paragraph is a space
    html = _LIST_ITEM.sub("\n• ", html)
    html = _CELL_END.sub(" | ", html)
    html = _BLOCK_END.sub("\n", html)
    text = unescape(_TAG.sub("", html))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
