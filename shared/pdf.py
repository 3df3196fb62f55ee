"""HTML to PDF with WeasyPrint, loading nothing from outside the document (shared by policy_api's
Council report and case_api's case files), and the Albuquerque local-time formatting both print.

Kept small on purpose: the templates, their Jinja environments and their styles stay with each
service; only the part that must behave the same everywhere (no external fetch, one time zone) is here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.timeutil import as_utc

DENVER = ZoneInfo("America/Denver")


def local(value: datetime | None) -> str:
    """A moment as Albuquerque reads it ("2026-12-01 04:40 MST"); an em dash for none."""
    if value is None:
        return "—"
    return as_utc(value).astimezone(DENVER).strftime("%Y-%m-%d %H:%M %Z")


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: a document must carry everything it shows (no tracking, no SSRF)."""
    raise ValueError(f"the document loads no external resource ({url})")


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on use: it loads Pango and fonts

    pdf: bytes = HTML(string=html, url_fetcher=no_fetch).write_pdf()
    return pdf
