"""Webhook subscriptions for other City systems (issue 17): admins subscribe an endpoint per event
type; a local HTTP receiver verifies every delivery with the third-party ``standardwebhooks``
package; secrets rotate with an overlap in which both verify; refused deliveries are dead on
the ops endpoint and can be retried."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

import services.case_api.main  # noqa: F401 - registers every case_api table before the first reset
from services.case_api.domain.notification_models import WebhookSubscription
from shared.timeutil import FrozenClock
from tests.case_api.helpers import staff_case
from tests.case_api.test_notifications import T0
from tests.support.live import free_port
from tests.support.sqlcount import count_statements


class _Receiver:
    """Verifies with each secret it is given; records what verified and with which."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.verified: list[tuple[str, dict, dict]] = []  # (secret name, body, headers)
        self.refused: list[dict] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = dict(self.headers)
                ok = False
                for name, secret in receiver.secrets.items():
                    try:
                        payload = Webhook(secret).verify(body, headers)
                    except Exception:  # this secret does not verify it; try the next
                        continue
                    receiver.verified.append((name, payload, headers))
                    ok = True
                if not ok:
                    receiver.refused.append(headers)
                self.send_response(receiver.status if ok else 400)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/civicsocial"


@pytest.fixture
def receiver():
    r = _Receiver()
    yield r
    r.server.shutdown()


def _app(make_app, clock, **notify):
    return make_app("case_api", clock=clock, relay_enabled=False, monitoring_sync_seconds=0,
                    notify={"poll_seconds": 0, "allow_private_targets": True, **notify})


def _send(app):
    app.state.notifier.tick()
    app.state.relay.drain()


async def test_a_subscriber_receives_a_signed_body_with_public_references_only(make_app, client, token, receiver):
    clock = FrozenClock(T0)
    app = _app(make_app, clock)
    c = client(app)
    admin = token("admin", subject="admin-1")
    r = await c.post("/v1/webhooks/subscriptions", headers=admin,
                     json={"url": receiver.url, "events": ["case.new_in_queue"], "description": "311 dashboard"})
    assert r.status_code == 201, r.text
    receiver.secrets["current"] = r.json()["secret"]
    assert r.json()["secret"].startswith("whsec_")
    listed = await c.get("/v1/webhooks/subscriptions", headers=admin)
    assert listed.json()["total"] == 1 and "secret" not in listed.json()["items"][0]
    case = await staff_case(c, token, summary="Reply called Jane Roe a liar.")
    _send(app)
    _send(app)
    assert len(receiver.verified) == 1 and receiver.refused == []
    _, body, headers = receiver.verified[0]
    assert body["type"] == "case.new_in_queue"
    assert body["data"] == {"reference": case["reference"], "department": "Police",
                            "link": f"http://127.0.0.1:8004/cases/{case['id']}"}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= {k.lower() for k in headers}
    assert "Jane Roe" not in json.dumps(body)
    # an event type it did not subscribe to is not sent
    r = await c.post(f"/v1/cases/{case['id']}/assignee", json={"assignee": "inv-2"},
                     headers=token("investigator", subject="inv-1"))
    assert r.status_code == 200
    _send(app)
    assert len(receiver.verified) == 1


async def test_rotation_signs_with_both_secrets_until_the_overlap_ends(make_app, client, token, receiver):
    clock = FrozenClock(T0)
    app = _app(make_app, clock, webhook_rotation_hours=24)
    c = client(app)
    admin = token("admin", subject="admin-1")
    sub = (await c.post("/v1/webhooks/subscriptions", headers=admin,
                        json={"url": receiver.url, "events": ["case.new_in_queue"]})).json()
    receiver.secrets["old"] = sub["secret"]
    r = await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/rotate", headers=admin)
    assert r.status_code == 200 and r.json()["secret"] != sub["secret"]
    new = r.json()["secret"]
    await staff_case(c, token)
    _send(app)
    assert [name for name, _, _ in receiver.verified] == ["old"]  # a receiver not yet updated still verifies
    receiver.secrets = {"new": new}
    await staff_case(c, token)
    _send(app)
    assert [name for name, _, _ in receiver.verified] == ["old", "new"]
    clock.advance(timedelta(hours=25))  # the overlap is over: only the new secret signs
    receiver.secrets = {"old": sub["secret"]}
    await staff_case(c, token)
    _send(app)
    assert len(receiver.verified) == 2 and len(receiver.refused) == 1
    ops = (await c.get("/v1/ops/outbox", headers=admin)).json()
    assert ops["dead"] == 1 and ops["dead_messages"][0]["topic"] == "webhook"  # 400: kept, visible
    receiver.secrets = {"new": new}
    r = await c.post(f"/v1/ops/outbox/{ops['dead_messages'][0]['id']}/retry", headers=admin)
    assert r.status_code == 202
    app.state.relay.drain()
    assert [name for name, _, _ in receiver.verified] == ["old", "new", "new"]


async def test_a_failing_receiver_is_retried_then_delivered_once(make_app, client, token, receiver):
    clock = FrozenClock(T0)
    app = _app(make_app, clock)
    c = client(app)
    sub = (await c.post("/v1/webhooks/subscriptions", headers=token("admin"),
                        json={"url": receiver.url, "events": ["case.new_in_queue"]})).json()
    receiver.secrets["s"] = sub["secret"]
    receiver.status = 503
    await staff_case(c, token)
    _send(app)
    assert len(receiver.verified) == 1
    ids = {h["webhook-id"] for _, _, h in receiver.verified}
    receiver.status = 204
    clock.advance(timedelta(minutes=5))  # past the backoff
    app.state.relay.drain()
    assert len(receiver.verified) == 2
    assert {h["webhook-id"] for _, _, h in receiver.verified} == ids  # the same id: the receiver dedupes
    clock.advance(timedelta(minutes=5))
    app.state.relay.drain()
    assert len(receiver.verified) == 2


async def test_targets_and_events_are_checked_and_only_admins_subscribe(make_app, client, token):
    app = make_app("case_api", notify={"poll_seconds": 0})  # production rules: no private targets
    c = client(app)
    admin = token("admin")
    for url in ("http://example.org/hook", "https://10.0.0.5/hook", "https://127.0.0.1/hook",
                "https://user:pw@example.org/hook", "ftp://example.org/"):
        r = await c.post("/v1/webhooks/subscriptions", headers=admin, json={"url": url, "events": ["case.assigned"]})
        assert r.status_code == 422, (url, r.text)
    r = await c.post("/v1/webhooks/subscriptions", headers=admin,
                     json={"url": "https://example.org/hook", "events": ["policy.review_due"]})
    assert r.status_code == 422  # not an event of case_api
    r = await c.post("/v1/webhooks/subscriptions", headers=admin,
                     json={"url": "https://example.org/hook", "events": []})
    assert r.status_code == 422
    for role in ("intake", "investigator", "hr", "auditor"):
        r = await c.post("/v1/webhooks/subscriptions", headers=token(role),
                         json={"url": "https://example.org/hook", "events": ["case.assigned"]})
        assert r.status_code == 403
    r = await c.post("/v1/webhooks/subscriptions", headers=admin,
                     json={"url": "https://example.org/hook", "events": ["case.assigned"]})
    assert r.status_code == 201
    sid = r.json()["id"]
    r = await c.delete(f"/v1/webhooks/subscriptions/{sid}", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await c.get("/v1/webhooks/subscriptions/nope", headers=admin)).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
async def test_subscription_list_query_shape(make_app, client, token, rows):
    app = make_app("case_api")
    c = client(app)
    with app.state.db.write() as s:
        for i in range(rows):
            s.add(WebhookSubscription(url=f"https://example.org/{i}", events=["case.assigned"], secret="whsec_x",
                                      created_by="admin", created_at=T0, updated_at=T0))
    with count_statements(app.state.db) as counted:
        r = await c.get("/v1/webhooks/subscriptions", headers=token("admin"))
    assert r.status_code == 200 and r.json()["total"] == rows
    assert counted.n == 1
