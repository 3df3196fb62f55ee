"""The Executive Communication to Council as HTML (Jinja2) and PDF (WeasyPrint), and the peer reads it
needs: the Transparency page as served (over HTTP, hashed) and the audit chain head (case_api does not
expose one to policy_api). Dates are shown in America/Denver."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.policy_api.domain import checkpoints, markdown
from services.policy_api.domain.council_report import ChainHead, ReportData, TransparencyCheck
from shared import pdf as shared_pdf
from shared.db import Database
from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.timeutil import Clock, as_utc

DENVER = ZoneInfo("America/Denver")
TEMPLATES = Path(__file__).resolve().parent / "templates"
TRANSPARENCY_PEER = "policy_api_public"
STYLE_RE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def local(value: datetime | None) -> str:
    if value is None:
        return "—"
    return as_utc(value).astimezone(DENVER).strftime("%Y-%m-%d %H:%M %Z")


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


@cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["local"] = local
    env.filters["day"] = day
    env.filters["md"] = lambda text: Markup(markdown.render(text or ""))  # noqa: S704 - sanitised by nh3
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.0f}%"
    return env


def render_html(data: ReportData) -> str:
    today = data.generated_at.astimezone(DENVER).date()
    days_since_approval = (today - as_utc(data.approved_at).astimezone(DENVER).date()).days \
        if data.approved_at else None
    return _env().get_template("council_report.html").render(
        d=data, today=today, days_since_approval=days_since_approval,
        resolution_deadline=date(2025, 1, 4),
    )


def style_hashes(html: str) -> str:
    """CSP source list allowing exactly the report's inline style block(s)."""
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'"
                    for m in STYLE_RE.findall(html))


def render_pdf(html: str) -> bytes:
    return shared_pdf.render_pdf(html)  # the report loads no external resource


def check_transparency(peers: ServiceClient, clock: Clock, *, url: str, timeout: float) -> TransparencyCheck:
    """GET the Transparency page at its public URL, as a resident would; hash the bytes served."""
    checked_at = clock.now()
    try:
        resp = peers.get(TRANSPARENCY_PEER, "/transparency", authenticated=False, timeout=timeout, retries=0)
    except UpstreamFailed as exc:
        return TransparencyCheck(url=url, checked_at=checked_at, status=None, sha256=None, error=str(exc))
    return TransparencyCheck(url=url, checked_at=checked_at, status=resp.status_code,
                             sha256=hashlib.sha256(resp.content).hexdigest(), body=resp.text,
                             error=None if resp.status_code == 200 else f"HTTP {resp.status_code}")


def chain_head(db: Database | None = None) -> ChainHead:
    """The latest checkpoint of case_api's audit chain that this service witnessed (issue 15)."""
    cp = checkpoints.latest(db) if db is not None else None
    if cp is None:
        return ChainHead(available=False, note=(
            "Not available: case_api publishes no signed audit checkpoint, and shows its audit chain head only to "
            "auditors (GET /v1/audit/verify on case_api); an auditor can attach that figure to this communication."))
    return ChainHead(available=True, seq=cp.seq, hash=cp.head_hash, note=(
        f"The latest signed checkpoint of case_api's audit trail, signed {as_utc(cp.at).isoformat(timespec='seconds')} "
        f"with key {cp.key_id} and witnessed by policy_api {as_utc(cp.received_at).isoformat(timespec='seconds')} "
        "(GET /v1/public/checkpoints/latest). An entry removed from the trail after it no longer matches."))
