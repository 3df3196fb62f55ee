"""Follow-up by receipt, wrong-receipt handling and its hard rate limit, the case_api callback
(idempotent events), reporter messages into the outbox, and the ops status endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from services.feedback_api.domain.models import IdempotencyKey, Message, OutboxMessage, Submission
from tests.feedback_api.conftest import report_body

CASE = {"subject": "service:case_api"}


async def _file(c) -> dict:
    r = await c.post("/v1/reports", json=report_body())
    assert r.status_code == 201
    return r.json()


def _report_id(engine, reference: str) -> str:
    with Session(engine) as s:
        return s.execute(select(Submission.id).where(Submission.reference == reference)).scalar_one()


async def test_status_view_with_the_receipt(fb_app, client):
    c = client(fb_app())
    filed = await _file(c)
    spaced = " ".join(filed["receipt"][i:i + 4] for i in range(0, 16, 4))
    r = await c.post("/v1/receipts/status", json={"receipt": spaced})
    assert r.status_code == 200
    assert r.json() == {"reference": filed["reference"], "kind": "violation_report", "status": "received",
                        "outcome_summary": None, "messages": [], "has_contact": False,
                        "feedback_state": None}
    assert r.headers["cache-control"] == "no-store"


async def test_wrong_receipts_get_one_identical_404_then_429(fb_app, client):
    c = client(fb_app(rate_receipt_failures_per_client="3/minute"))
    filed = await _file(c)
    bodies = []
    wrong = str((int(filed["receipt"]) + 1) % 10**16).zfill(16)
    for guess in ("0000000000000000", "12345", wrong):
        r = await c.post("/v1/receipts/status", json={"receipt": guess})
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        bodies.append({k: v for k, v in r.json().items() if k != "request_id"})
    assert bodies[0] == bodies[1] == bodies[2]
    r = await c.post("/v1/receipts/status", json={"receipt": "9999999999999999"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"] == "application/problem+json"
    # once locked out, even the right receipt waits: the limiter answers before looking
    assert (await c.post("/v1/receipts/status", json={"receipt": filed["receipt"]})).status_code == 429
    assert (await c.post("/v1/receipts/messages", json={"receipt": filed["receipt"], "body": "hi"})).status_code == 429


async def test_global_cap_on_wrong_receipts(fb_app, client):
    c = client(fb_app(rate_receipt_failures_per_client="100/minute", rate_receipt_failures_overall="2/minute"))
    for _ in range(2):
        assert (await c.post("/v1/receipts/status", json={"receipt": "0000000000000000"})).status_code == 404
    assert (await c.post("/v1/receipts/status", json={"receipt": "0000000000000001"})).status_code == 429


async def test_reporter_message_goes_to_the_outbox(fb_app, client, databases):
    c = client(fb_app())
    filed = await _file(c)
    body = "More context: it was deleted."
    r = await c.post("/v1/receipts/messages", json={"receipt": filed["receipt"], "body": body})
    assert r.status_code == 201 and r.json()["status"] == "sent"
    engine = databases["feedback_api"].engine
    with Session(engine) as s:
        msgs = list(s.execute(select(OutboxMessage).where(OutboxMessage.topic == "report.message")).scalars())
        assert len(msgs) == 1 and msgs[0].payload["message"]["body"] == "More context: it was deleted."
        assert msgs[0].payload["report_id"] == _report_id(engine, filed["reference"])
    r = await c.post("/v1/receipts/status", json={"receipt": filed["receipt"]})
    assert r.json()["messages"][0]["from"] == "reporter"
    r = await c.post("/v1/receipts/messages", json={"receipt": filed["receipt"], "body": "x", "extra": 1})
    assert r.status_code == 422


async def test_events_from_case_api_update_the_receipt_view_once(fb_app, client, databases, token):
    c = client(fb_app())
    filed = await _file(c)
    engine = databases["feedback_api"].engine
    report_id = _report_id(engine, filed["reference"])
    svc = token("service:case_api", **CASE)
    at = datetime(2026, 11, 24, 15, 42, 7, tzinfo=UTC).isoformat()
    msg_event = {"event_id": "ev-1", "kind": "message", "message": "Thank you, we are looking into it.", "at": at}
    url = f"/v1/internal/reports/{report_id}/events"
    r1 = await c.post(url, json=msg_event, headers={**svc, "Idempotency-Key": "ev-1"})
    r2 = await c.post(url, json=msg_event, headers={**svc, "Idempotency-Key": "ev-1"})
    assert r1.status_code == r2.status_code == 200
    assert r1.json()["applied"] is True and r2.json()["applied"] is False
    assert r2.headers["idempotent-replayed"] == "true"
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Message)).scalar_one() == 1
    # same key, different body: refused
    r = await c.post(url, json={**msg_event, "message": "other"}, headers={**svc, "Idempotency-Key": "ev-1"})
    assert r.status_code == 422
    closed = {"event_id": "ev-2", "kind": "status", "status": "closed", "outcome_summary": "The post was removed and "
              "the department issued a correction.", "at": at}
    assert (await c.post(url, json=closed, headers={**svc, "Idempotency-Key": "ev-2"})).status_code == 200
    view = (await c.post("/v1/receipts/status", json={"receipt": filed["receipt"]})).json()
    assert view["status"] == "closed" and view["outcome_summary"].startswith("The post was removed")
    assert view["messages"] == [{"from": "city", "body": "Thank you, we are looking into it.", "on": "2026-11-24"}]
    # closed: the reporter can no longer write
    assert (await c.post("/v1/receipts/messages", json={"receipt": filed["receipt"], "body": "x"})).status_code == 409
    # authorisation and unknown reports
    assert (await c.post(url, json=closed, headers={**token("admin"), "Idempotency-Key": "ev-3"})).status_code == 403
    r = await c.post("/v1/internal/reports/nope/events", json=closed, headers={**svc, "Idempotency-Key": "ev-4"})
    assert r.status_code == 404
    assert (await c.post(url, json=closed, headers=svc)).status_code == 422  # no Idempotency-Key
    with Session(engine) as s:
        keys = s.execute(select(func.count()).select_from(IdempotencyKey)).scalar_one()
    assert keys == 2


async def test_ops_outbox_status_for_admins(fb_app, client, token):
    c = client(fb_app())
    await _file(c)
    await _file(c)
    r = await c.get("/v1/ops/outbox", headers=token("admin"))
    assert r.status_code == 200
    body = r.json()
    assert body["pending"] == 2 and body["dead"] == 0 and body["oldest_pending_age_seconds"] >= 0
    assert body["ratelimit_backend"] == "memory"
    assert (await c.get("/v1/ops/outbox", headers=token("investigator"))).status_code == 403
    assert (await c.get("/v1/ops/outbox")).status_code == 401


async def test_odd_ids_in_paths_are_404_not_500(fb_app, client, token):
    c = client(fb_app(open311_api_keys=["k"]))
    svc = token("service:case_api", **CASE)
    event = {"event_id": "e", "kind": "status", "status": "closed", "at": "2026-11-24T00:00:00Z"}
    r = await c.post("/v1/internal/reports/abc%00def/events", json=event, headers={**svc, "Idempotency-Key": "e"})
    assert r.status_code == 404
    assert (await c.get("/v1/internal/evidence/x%00y", headers=svc)).status_code == 404
    assert (await c.get("/v1/internal/reports/x%00y/contact", headers=svc)).status_code == 404
    assert (await c.get("/open311/v2/requests/R%00X.json")).status_code == 404
    assert (await c.get("/open311/v2/requests.json", params={"service_request_id": "a\x00b"})).json() == []
    assert (await c.get("/v1/staff/feedback", params={"policy_id": "p\x00"}, headers=token("admin"))).status_code == 422
    assert (await c.post("/v1/ops/outbox/x%00/retry", headers=token("admin"))).status_code == 404
