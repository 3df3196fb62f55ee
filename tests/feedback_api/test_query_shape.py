"""Query shape: every list and detail endpoint sends as many SQL statements for 50 rows as for 1
(issue 13 item 3), and Open311's list filters and pages in SQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.feedback_api.domain.models import OutboxMessage, Submission
from services.feedback_api.domain.receipts import new_receipt
from services.feedback_api.domain.topics import REPORT_FORWARD
from shared.outbox import enqueue
from shared.timeutil import FrozenClock
from tests.feedback_api.factories import (
    DAY,
    FeedbackFactory,
    MessageFactory,
    ReportForwardFactory,
    ViolationFactory,
    utc,
)
from tests.support.sqlcount import count_statements

CLOCK_AT = utc(2026, 11, 25, 12)
CODE = "csm-personal-attack"


def _app(fb_app):
    return fb_app(open311_api_keys=["k"], rate_receipt_per_client="10000/minute")


async def _count(app, c, method: str, url: str, **kw) -> int:
    with count_statements(app.state.db) as counted:
        r = await c.request(method, url, **kw)
    assert r.status_code == 200, r.text
    return counted.n


def _violations(app, n: int) -> list[str]:
    rows = [ViolationFactory.build() for _ in range(n)]
    with app.state.db.write() as s:
        s.add_all(rows)
    return [r.reference for r in rows]


@pytest.mark.parametrize("path", ["/open311/v2/services.json", f"/open311/v2/services/{CODE}.json"])
async def test_open311_services_send_no_statement(fb_app, client, path):
    app = _app(fb_app)
    c = client(app)
    _violations(app, 1)
    one = await _count(app, c, "GET", path)
    _violations(app, 49)
    assert one == await _count(app, c, "GET", path) == 0


@pytest.mark.parametrize("params", [
    {}, {"status": "open"}, {"status": "closed,open"}, {"service_code": CODE}, {"status": "open", "service_code": CODE},
])
async def test_open311_request_list_is_one_statement(fb_app, client, params):
    app = _app(fb_app)
    c = client(app)
    _violations(app, 1)
    url = "/open311/v2/requests.json"
    q = {"start_date": "2026-11-01", "end_date": "2026-11-30", "api_key": "k", **params}  # listing needs a key
    one = await _count(app, c, "GET", url, params=q)
    _violations(app, 49)
    r = await c.get(url, params=q)
    assert len(r.json()) == 50
    assert one == await _count(app, c, "GET", url, params=q) == 1


async def test_open311_requests_by_id_and_detail(fb_app, client):
    app = _app(fb_app)
    c = client(app)
    first = _violations(app, 1)
    one_list = await _count(app, c, "GET", "/open311/v2/requests.json", params={"service_request_id": first[0]})
    one_detail = await _count(app, c, "GET", f"/open311/v2/requests/{first[0]}.json")
    refs = first + _violations(app, 49)
    many = await _count(app, c, "GET", "/open311/v2/requests.json", params={"service_request_id": ",".join(refs)})
    assert one_list == many == 1
    assert one_detail == await _count(app, c, "GET", f"/open311/v2/requests/{refs[-1]}.json") == 1


async def test_open311_list_filters_before_it_pages(fb_app, client):
    """The old list took the newest 1000 rows, then filtered in Python: an open request older than
    1000 closed ones vanished. Filtering in SQL finds it."""
    app = _app(fb_app)
    c = client(app)
    old_open = ViolationFactory.build(received_on=DAY - timedelta(days=5))
    newer_closed = [ViolationFactory.build(status="closed", received_on=DAY) for _ in range(1001)]
    other_code = [ViolationFactory.build(categories=["other", "personal_attack"]) for _ in range(3)]
    with app.state.db.write() as s:
        s.add_all([old_open, *newer_closed, *other_code])
    q = {"start_date": "2026-11-01", "end_date": "2026-11-30", "api_key": "k"}
    r = await c.get("/open311/v2/requests.json", params={**q, "status": "open", "service_code": CODE})
    assert [x["service_request_id"] for x in r.json()] == [old_open.reference]
    r = await c.get("/open311/v2/requests.json", params={**q, "service_code": "csm-other"})
    assert sorted(x["service_request_id"] for x in r.json()) == sorted(o.reference for o in other_code)
    r = await c.get("/open311/v2/requests.json", params=q)
    assert len(r.json()) == 1000  # GeoReport's maximum, newest first
    assert all(x["status"] == "closed" or x["service_code"] == "csm-other" for x in r.json())


async def test_staff_feedback_list(fb_app, client, token):
    app = _app(fb_app)
    c = client(app)
    staff = token("policy_editor")
    with app.state.db.write() as s:
        s.add(FeedbackFactory.build())
    one = await _count(app, c, "GET", "/v1/staff/feedback", headers=staff)
    with app.state.db.write() as s:
        s.add_all([FeedbackFactory.build() for _ in range(49)])
    r = await c.get("/v1/staff/feedback", params={"limit": 100}, headers=staff)
    assert r.json()["total"] == 50 and len(r.json()["items"]) == 50
    assert one == await _count(app, c, "GET", "/v1/staff/feedback", params={"limit": 100}, headers=staff) == 2


def _outbox(app, n: int, *, dead: bool) -> None:
    with app.state.db.write() as s:
        for _ in range(n):
            forward = ReportForwardFactory.build(report_id=str(uuid.uuid4()))
            enqueue(s, OutboxMessage, REPORT_FORWARD, forward, idempotency_key=forward.report_id, now=CLOCK_AT)
        s.flush()
        if dead:
            rows = s.execute(select(OutboxMessage).where(OutboxMessage.dead.is_(False)).limit(n)).scalars()
            for row in rows:
                row.dead, row.last_error, row.attempts = True, "HTTP 422: refused", 3


async def test_ops_outbox_view(fb_app, client, token):
    app = fb_app(outbox_enabled=False, clock=FrozenClock(CLOCK_AT + timedelta(seconds=30)))
    c = client(app)
    admin = token("admin")
    _outbox(app, 1, dead=True)
    _outbox(app, 1, dead=False)
    one = await _count(app, c, "GET", "/v1/ops/outbox", headers=admin)
    _outbox(app, 49, dead=True)
    _outbox(app, 49, dead=False)
    body = (await c.get("/v1/ops/outbox", headers=admin)).json()
    assert body["pending"] == 50 and body["dead"] == 50 and len(body["dead_messages"]) == 50
    assert body["oldest_pending_age_seconds"] == 30
    assert {d["last_error"] for d in body["dead_messages"]} == {"HTTP 422: refused"}
    assert one == await _count(app, c, "GET", "/v1/ops/outbox", headers=admin) == 2
    # retry: one statement, and the message is pending again
    dead_id = body["dead_messages"][0]["id"]
    with count_statements(app.state.db) as counted:
        assert (await c.post(f"/v1/ops/outbox/{dead_id}/retry", headers=admin)).status_code == 202
    assert counted.n == 1
    with app.state.db.read() as s:
        assert s.execute(select(func.count()).where(OutboxMessage.dead.is_(True))).scalar_one() == 49


async def test_receipt_status(fb_app, client):
    app = _app(fb_app)
    c = client(app)
    hasher = app.state.intake.receipts.hasher
    receipt = new_receipt()
    sub = ViolationFactory.build(receipt_hash=hasher.hash(receipt))
    with app.state.db.write() as s:
        s.add(sub)
        s.flush()
        s.add(MessageFactory.build(submission_id=sub.id, seq=1))
    one = await _count(app, c, "POST", "/v1/receipts/status", json={"receipt": receipt})
    with app.state.db.write() as s:
        s.add_all([MessageFactory.build(submission_id=sub.id, seq=i) for i in range(2, 51)])
    r = await c.post("/v1/receipts/status", json={"receipt": receipt})
    assert len(r.json()["messages"]) == 50 and r.json()["messages"][-1]["from"] == "city"
    assert one == await _count(app, c, "POST", "/v1/receipts/status", json={"receipt": receipt}) == 3
    with app.state.db.read() as s:
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 1
