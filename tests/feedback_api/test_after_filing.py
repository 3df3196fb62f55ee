"""After filing, with the receipt (issue 14 item 5): evidence added to an open report goes through
the filing's own real-parser checks and on to case_api through the outbox; a closed report asks
once, with a reason, for reconsideration."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select, update
from sqlmodel import Session

from services.feedback_api.domain.models import Evidence, OutboxMessage, Submission
from shared.schemas.reporter import ReconsiderationMessage, ReporterEvidenceMessage
from tests.feedback_api.conftest import jpeg_with_gps, report_body


async def _file(c) -> dict:
    r = await c.post("/v1/reports", json=report_body())
    assert r.status_code == 201, r.text
    return r.json()


def _sub(databases, reference: str) -> Submission:
    with Session(databases["feedback_api"].engine) as s:
        return s.execute(select(Submission).where(Submission.reference == reference)).scalar_one()


def _close(databases, reference: str) -> None:
    with databases["feedback_api"].engine.begin() as conn:
        conn.execute(update(Submission).where(Submission.reference == reference).values(status="closed"))


def _outbox(databases, topic: str) -> list[dict]:
    with Session(databases["feedback_api"].engine) as s:
        return [row for (row,) in s.execute(select(OutboxMessage.payload).where(OutboxMessage.topic == topic))]


async def test_evidence_added_after_filing_is_cleaned_and_forwarded(fb_app, client, databases):
    c = client(fb_app(outbox_enabled=False))
    filed = await _file(c)
    r = await c.post("/v1/receipts/evidence", data={"receipt": filed["receipt"]},
                     files=[("evidence", ("shot.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 1
    sub = _sub(databases, filed["reference"])
    with Session(databases["feedback_api"].engine) as s:
        stored = s.execute(select(Evidence).where(Evidence.submission_id == sub.id)).scalars().all()
    assert len(stored) == 1
    assert not Image.open(io.BytesIO(stored[0].content)).getexif()  # re-encoded from pixels: no EXIF, no GPS
    (payload,) = _outbox(databases, "report.evidence")
    message = ReporterEvidenceMessage.model_validate(payload)
    assert message.report_id == sub.id
    assert [e.id for e in message.evidence.evidence] == [stored[0].id]
    assert message.evidence.evidence[0].sha256 == stored[0].sha256


async def test_evidence_after_filing_is_refused_like_at_filing(fb_app, client, databases):
    c = client(fb_app(outbox_enabled=False))
    filed = await _file(c)
    r = await c.post("/v1/receipts/evidence", data={"receipt": filed["receipt"]},
                     files=[("evidence", ("x.exe", b"MZ\x90\x00not an image", "image/png"))])
    assert r.status_code == 415  # by content, not by name or type
    r = await c.post("/v1/receipts/evidence", data={"receipt": filed["receipt"]},
                     files=[("evidence", ("bad.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"))])
    assert r.status_code == 422  # does not parse
    r = await c.post("/v1/receipts/evidence", data={"receipt": "1234123412341234"},
                     files=[("evidence", ("shot.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert r.status_code == 404
    r = await c.post("/v1/receipts/evidence", data={"receipt": filed["receipt"], "note": "x"},
                     files=[("evidence", ("shot.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert r.status_code == 422
    r = await c.post("/v1/receipts/evidence", json={"receipt": filed["receipt"]})
    assert r.status_code == 415
    _close(databases, filed["reference"])
    r = await c.post("/v1/receipts/evidence", data={"receipt": filed["receipt"]},
                     files=[("evidence", ("shot.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert r.status_code == 409
    assert _outbox(databases, "report.evidence") == []


async def test_a_closed_report_asks_once_for_reconsideration(fb_app, client, databases):
    c = client(fb_app(outbox_enabled=False))
    filed = await _file(c)
    body = {"receipt": filed["receipt"], "reason": "The reply was deleted but the account did it again."}
    r = await c.post("/v1/receipts/reconsideration", json=body)
    assert r.status_code == 409  # not closed yet
    _close(databases, filed["reference"])
    assert (await c.post("/v1/receipts/reconsideration", json={**body, "reason": ""})).status_code == 422
    r = await c.post("/v1/receipts/reconsideration", json=body)
    assert r.status_code == 201, r.text
    r = await c.post("/v1/receipts/reconsideration", json={**body, "reason": "Please, again."})
    assert r.status_code == 409  # once
    (payload,) = _outbox(databases, "report.reconsideration")
    message = ReconsiderationMessage.model_validate(payload)
    assert message.report_id == _sub(databases, filed["reference"]).id
    assert message.request.reason == body["reason"]
    assert _sub(databases, filed["reference"]).reconsideration_requested_on is not None
