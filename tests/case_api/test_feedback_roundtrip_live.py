"""End to end with REAL running services: a public report sent to feedback_api reaches case_api
through feedback_api's outbox; case_api's status change and message come back through case_api's
outbox, and the reporter sees them with their receipt (never the internal reason)."""

from __future__ import annotations

import time

import httpx

from tests.support.live import free_port


def _wait(fn, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def test_report_roundtrip_through_both_outboxes(make_app, live, token):
    case_port, feedback_port = free_port(), free_port()
    case_url, feedback_url = f"http://127.0.0.1:{case_port}", f"http://127.0.0.1:{feedback_port}"
    live(make_app("case_api", feedback_api_url=feedback_url, policy_api_url="http://127.0.0.1:9"), port=case_port)
    live(make_app("feedback_api", case_api_url=case_url, policy_api_url="http://127.0.0.1:9"), port=feedback_port)
    inv = token("investigator", subject="inv-e2e")

    with httpx.Client(base_url=feedback_url, timeout=10) as fb, httpx.Client(base_url=case_url, headers=inv,
                                                                                 timeout=10) as ca:
        r = fb.post("/v1/reports", json={
            "account_text": "@abqpolice", "platform": "facebook",
            "links": ["https://facebook.com/abqpolice/posts/777"], "categories": ["personal_attack"],
            "description": "The City's account mocked a resident in a reply."})
        assert r.status_code == 201, r.text
        receipt = r.json()["receipt"]
        case = _wait(lambda: (ca.get("/v1/cases").json()["items"] or [None])[0])
        case_id = case["id"]
        assert ca.post(f"/v1/cases/{case_id}/transitions", json={"to": "triaged"}).status_code == 200
        assert ca.post(f"/v1/cases/{case_id}/messages", json={"body": "Thank you; we are reviewing it."}).status_code \
            == 201
        r = ca.post(f"/v1/cases/{case_id}/transitions",
                    json={"to": "dismissed", "reason": "INTERNAL: duplicate of C-1234",
                          "outcome_summary": "This was handled together with an earlier report."})
        assert r.status_code == 200

        def status():
            body = fb.post("/v1/receipts/status", json={"receipt": receipt}).json()
            return body if body.get("status") == "closed" and body.get("messages") else None

        seen = _wait(status)
        assert seen["outcome_summary"] == "This was handled together with an earlier report."
        assert any(m["from"] == "city" and "reviewing" in m["body"] for m in seen["messages"])
        assert "INTERNAL" not in str(seen)
