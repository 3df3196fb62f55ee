"""A case file (``domain/casefile.CaseFile``) as HTML (Jinja2) and PDF (WeasyPrint via ``shared.pdf``).
Dates are shown in America/Denver; the document loads nothing from outside itself."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.case_api.domain.casefile import CaseFile
from shared import pdf as shared_pdf

TEMPLATES = Path(__file__).resolve().parent / "templates"
BRIEF_CHARS = 240


def _brief(detail: dict[str, Any]) -> str:
    """An audit entry's detail on one line, cut at BRIEF_CHARS."""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= BRIEF_CHARS else text[: BRIEF_CHARS - 1] + "…"


@cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["local"] = shared_pdf.local
    env.filters["day"] = shared_pdf.day
    env.filters["brief"] = _brief
    return env


def html(doc: CaseFile) -> str:
    return _env().get_template("case_file.html").render(d=doc)


def pdf(doc: CaseFile) -> bytes:
    return shared_pdf.render_pdf(html(doc))
