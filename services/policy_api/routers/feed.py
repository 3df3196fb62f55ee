"""An Atom feed (RFC 4287) of publications and reviews, for residents, journalists and Council staff."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET  # we only write XML, never parse it

from fastapi import Request, Response

from services.policy_api.domain import checkpoints
from services.policy_api.domain import feed as feed_rows
from shared.caching import cached_response
from shared.timeutil import as_utc
from shared.web import DatabaseDep
from shared.web.routing import APIRouter

router = APIRouter(tags=["feed"])

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 50


def _iso(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


@router.get("/v1/feed.atom", operation_id="atom_feed",
            summary="Atom feed of policy publications, retirements and reviews",
            responses={200: {"content": {"application/atom+xml": {}}, "description": "Atom 1.0 feed"}})
def atom_feed(request: Request, db: DatabaseDep) -> Response:
    base = request.app.state.settings.public_base_url.rstrip("/")
    title = request.app.state.settings.transparency_title
    entries: list[tuple[datetime, str, str, str, str]] = []  # updated, id, title, link, summary
    rows = feed_rows.latest(db, limit=MAX_ENTRIES)
    for v, p in rows.publications:
        if v.retired_at is not None:
            reason = f" Reason: {v.retirement_reason}" if v.retirement_reason else ""
            entries.append((as_utc(v.retired_at), f"urn:civicsocial:policy-retirement:{v.id}",
                            f"Retired: {p.identifier} {p.title} (version {v.label})",
                            f"{base}/transparency/policies/{p.id}",
                            f"{p.identifier} version {v.label} retired on {v.ended_on}, without a successor.{reason}"))
        if v.published_at is None:
            continue
        link = f"{base}/transparency/policies/{p.id}/versions/{v.id}"
        summary = f"{p.identifier} version {v.label} published, effective {v.effective_date}."
        if v.change_summary:
            summary += f" {v.change_summary}"
        entries.append((as_utc(v.published_at), f"urn:civicsocial:policy-version:{v.id}",
                        f"Published: {p.identifier} {p.title} (version {v.label})", link, summary))
    for r, p in rows.reviews:
        outcome = "reaffirmed" if r.outcome == "reaffirmed" else "revision started"
        summary = f"{p.identifier} reviewed on {r.reviewed_on}: {outcome}." + (f" {r.notes}" if r.notes else "")
        entries.append((as_utc(r.recorded_at), f"urn:civicsocial:policy-review:{r.id}",
                        f"Reviewed: {p.identifier} {p.title} ({outcome})", f"{base}/transparency/policies/{p.id}",
                        summary))
    cp = checkpoints.latest(db)  # issue 15: the witnessed head of case_api's audit chain
    if cp is not None:
        entries.append((as_utc(cp.received_at), f"urn:civicsocial:audit-checkpoint:{cp.seq}:{cp.head_hash}",
                        f"Case records checkpoint: audit entry {cp.seq}", f"{base}/v1/public/checkpoints/latest",
                        f"The case records' audit trail reached entry {cp.seq} with hash {cp.head_hash}, signed "
                        f"{_iso(cp.at)} with key {cp.key_id} and witnessed {_iso(cp.received_at)}."))
    entries.sort(key=lambda e: e[0], reverse=True)
    entries = entries[:MAX_ENTRIES]

    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"City of Albuquerque: {title}"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{base}/v1/feed.atom"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}/v1/feed.atom")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/transparency")
    updated = entries[0][0] if entries else datetime(2024, 1, 1, tzinfo=UTC)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(updated)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "City of Albuquerque"
    for at, uid, entry_title, link, summary in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = uid
        ET.SubElement(entry, f"{{{ATOM}}}title").text = entry_title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(at)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=link)
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = summary
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return cached_response(request, body, media_type="application/atom+xml", max_age=300)
