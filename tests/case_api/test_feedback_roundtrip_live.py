"""End to end with REAL running services: a public report sent to feedback_api reaches case_api
through feedback_api's outbox; case_api's status change and message come back through case_api's
outbox, and the reporter sees them with their receipt (never the internal reason)."""

from __future__ import annotations

import httpx

from tests.support.live import free_port
from tests.support.polling import until


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
        case = until(lambda: (ca.get("/v1/cases").json()["items"] or [None])[0])
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

        seen = until(status)
        assert seen["outcome_summary"] == "This was handled together with an earlier report."
        assert any(m["from"] == "city" and "reviewing" in m["body"] for m in seen["messages"])
        assert "INTERNAL" not in str(seen)


def test_contact_and_evidence_are_read_through_case_api_and_audited(make_app, live, token):
    import io
    import json

    from PIL import Image

    case_port, feedback_port = free_port(), free_port()
    case_url, feedback_url = f"http://127.0.0.1:{case_port}", f"http://127.0.0.1:{feedback_port}"
    live(make_app("case_api", feedback_api_url=feedback_url, policy_api_url="http://127.0.0.1:9"), port=case_port)
    live(make_app("feedback_api", case_api_url=case_url, policy_api_url="http://127.0.0.1:9"), port=feedback_port)
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(png, "PNG")
    report = {"account_text": "@abqparks", "platform": "instagram", "links": ["https://instagram.com/p/xyz"],
              "categories": ["personal_opinion"], "description": "Opinion under the City's name.",
              "contact_email": "resident@example.org"}
    with httpx.Client(base_url=feedback_url, timeout=10) as fb:
        r = fb.post("/v1/reports", data={"report": json.dumps(report)},
                    files=[("evidence", ("shot.png", png.getvalue(), "image/png"))])
        assert r.status_code == 201, r.text
    inv = token("investigator", subject="inv-7")
    with httpx.Client(base_url=case_url, headers=inv, timeout=10) as ca:
        case = until(lambda: (ca.get("/v1/cases").json()["items"] or [None])[0])
        full = ca.get(f"/v1/cases/{case['id']}").json()
        report_id = full["reports"][0]["report_id"]
        assert full["reports"][0]["has_contact"] is True and full["evidence"]
        r = ca.get(f"/v1/cases/{case['id']}/reports/{report_id}/contact")
        assert r.status_code == 200 and r.json() == {"email": "resident@example.org"}
        ev = full["evidence"][0]["id"]
        r = ca.get(f"/v1/cases/{case['id']}/evidence/{ev}")
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
        # not on this case / not for this role
        assert ca.get(f"/v1/cases/{case['id']}/evidence/other-id").status_code == 404
        pio = token("pio", department="Parks")
        r = ca.get(f"/v1/cases/{case['id']}/reports/{report_id}/contact", headers=pio)
        assert r.status_code == 403
        entries = ca.get(f"/v1/audit/cases/{case['id']}", headers=token("auditor")).json()
        actions = [e["action"] for e in entries]
        assert "case.contact_read" in actions and "case.evidence_read" in actions
