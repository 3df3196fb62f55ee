"""Issue 15 item 5, feedback_api's part: once case_api has acknowledged a report (its forward
delivered, with real services on loopback) and the report is closed, feedback_api deletes its
content, contact and evidence when its own periods have passed, and on SQLite nothing deleted
stays readable in the database file or its -wal. A report case_api never acknowledged is kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, make_url, select
from sqlmodel import Session

from services.feedback_api.domain import retention
from services.feedback_api.domain.models import Contact, Evidence, OutboxMessage, Submission
from tests.feedback_api.conftest import png_bytes, report_body
from tests.support.live import free_port
from tests.support.polling import until
from tests.support.rawfile import read_raw


def _raw(url: str) -> bytes:
    path = Path(make_url(url).database or "")
    # read by a child process: closing a descriptor of the file here would drop this process's
    # SQLite locks on it (tests/support/rawfile.py)
    return b"".join(read_raw(p) for p in (path, Path(f"{path}-wal")) if p.exists())


def test_content_contact_and_evidence_go_after_acknowledgement_and_retention(fb_app, make_app, live, databases,
                                                                           token, db_backend):
    fb_port = free_port()
    case = live(make_app("case_api", feedback_api_url=f"http://127.0.0.1:{fb_port}", relay_enabled=False))
    feedback = live(fb_app(case_api_url=case.url, outbox_poll_seconds=0.05, outbox_base_backoff_seconds=0.05,
                           outbox_max_backoff_seconds=0.3), port=fb_port)
    engine = databases["feedback_api"].engine
    marker = "FORGETME-" + uuid.uuid4().hex
    email = f"resident-{uuid.uuid4().hex[:8]}@example.org"
    with httpx.Client(base_url=feedback.url, timeout=10) as c:
        body = report_body(description=f"Insulting reply {marker}", contact_email=email)
        r = c.post("/v1/reports", data={"report": json.dumps(body)},
                   files=[("evidence", ("shot.png", png_bytes(), "image/png"))])
        assert r.status_code == 201, r.text
        filed = r.json()

    def pending() -> int:
        with Session(engine) as s:
            return s.execute(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "report.forward")).scalar_one()

    until(lambda: pending() == 0, what="the forward to be acknowledged by case_api")
    with Session(engine) as s:
        sub = s.execute(select(Submission).where(Submission.reference == filed["reference"])).scalar_one()
        report_id = sub.id
    # a second report that case_api never acknowledged (its forward stays undelivered)
    with Session(engine) as s:
        kept = Submission(reference="R-KEEP-" + uuid.uuid4().hex[:6], kind="violation_report", status="closed",
                          received_on=date(2026, 1, 1), updated_on=date(2026, 1, 1), description="kept " + marker[:4],
                          links=[], categories=["other"])
        s.add(kept)
        s.flush()
        s.add(OutboxMessage(topic="report.forward", peer="case_api", payload={}, idempotency_key=kept.id,
                            created_at=datetime.now(UTC), next_attempt_at=datetime.now(UTC) + timedelta(days=365)))
        s.commit()
        kept_id = kept.id
    svc = token("service:case_api", subject="service:case_api")
    at = datetime.now(UTC).isoformat()
    with httpx.Client(base_url=feedback.url, timeout=10) as c:
        r = c.post(f"/v1/internal/reports/{report_id}/events", headers={**svc, "Idempotency-Key": "close-1"},
                   json={"event_id": "close-1", "kind": "status", "status": "closed",
                         "outcome_summary": "Reviewed.", "at": at})
        assert r.status_code == 200, r.text
    db = feedback.app.state.db
    schedule = retention.Schedule(content_days=30, contact_days=30, evidence_days=365)
    today = datetime.now(UTC).date()
    early = retention.purge(db, schedule=schedule, today=today + timedelta(days=10))
    assert (early.contents, early.contacts) == (0, 0)  # its own retention has not passed yet
    report = retention.purge(db, schedule=schedule, today=today + timedelta(days=31))
    assert (report.contents, report.contacts) == (1, 1)
    with Session(engine) as s:
        sub = s.get(Submission, report_id)
        assert sub is not None and sub.description is None and sub.status == "closed"
        assert s.get(Contact, report_id) is None
        assert s.get(Submission, kept_id).description is not None  # never acknowledged: kept
        evidence = s.execute(select(func.count()).select_from(Evidence)
                             .where(Evidence.submission_id == report_id)).scalar_one()
        assert evidence == 1  # evidence has its own, longer period
    later = retention.purge(db, schedule=schedule, today=today + timedelta(days=366))
    assert (later.contents, later.contacts, later.evidence_files) == (0, 0, 1)
    if db_backend == "sqlite":
        assert report.compacted
        raw = _raw(databases["feedback_api"].url)
        assert marker.encode() not in raw
        assert b"kept " + marker[:4].encode() in raw  # the check can fail: live text is found
    # case_api still holds the testimony
    with httpx.Client(base_url=case.url, timeout=10) as c:
        cases = c.get("/v1/cases", headers=token("intake")).json()["items"]
        detail = c.get(f"/v1/cases/{cases[0]['id']}", headers=token("intake")).json()
        assert marker in detail["reports"][0]["description"]
