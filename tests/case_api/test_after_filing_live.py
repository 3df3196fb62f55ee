"""End to end with real running services (issue 14 item 5): evidence a reporter adds with their
receipt after filing is cleaned by feedback_api, forwarded through its outbox and readable by the
investigator through case_api; once the case is closed the reporter asks once for reconsideration
and staff see the reason on the report."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.support.live import free_port
from tests.support.polling import until


def test_evidence_after_filing_and_reconsideration_reach_case_api(make_app, live, token):
    case_port, feedback_port = free_port(), free_port()
    case_url, feedback_url = f"http://127.0.0.1:{case_port}", f"http://127.0.0.1:{feedback_port}"
    live(make_app("case_api", feedback_api_url=feedback_url, policy_api_url="http://127.0.0.1:9"), port=case_port)
    live(make_app("feedback_api", case_api_url=case_url, policy_api_url="http://127.0.0.1:9"), port=feedback_port)
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(png, "PNG")
    inv = token("investigator", subject="inv-late")
    with httpx.Client(base_url=feedback_url, timeout=10) as fb, \
            httpx.Client(base_url=case_url, headers=inv, timeout=10) as ca:
        r = fb.post("/v1/reports", json={"account_text": "@abqparks", "platform": "facebook",
                                         "links": ["https://facebook.com/abqparks/posts/9"],
                                         "categories": ["personal_attack"], "description": "A reply mocked me."})
        assert r.status_code == 201, r.text
        receipt = r.json()["receipt"]
        case = until(lambda: (ca.get("/v1/cases").json()["items"] or [None])[0])
        assert ca.get(f"/v1/cases/{case['id']}").json()["evidence"] == []

        r = fb.post("/v1/receipts/evidence", data={"receipt": receipt},
                    files=[("evidence", ("later.png", png.getvalue(), "image/png"))])
        assert r.status_code == 201, r.text
        evidence = until(lambda: ca.get(f"/v1/cases/{case['id']}").json()["evidence"])
        assert len(evidence) == 1 and evidence[0]["media_type"] == "image/png"
        r = ca.get(f"/v1/cases/{case['id']}/evidence/{evidence[0]['id']}")
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")

        r = ca.post(f"/v1/cases/{case['id']}/transitions",
                    json={"to": "dismissed", "reason": "INTERNAL: not actionable",
                          "outcome_summary": "We could not confirm a breach of the policy."})
        assert r.status_code == 200, r.text
        until(lambda: fb.post("/v1/receipts/status", json={"receipt": receipt}).json()["status"] == "closed")
        ask = {"receipt": receipt, "reason": "I have a second screenshot of the same reply."}
        assert fb.post("/v1/receipts/reconsideration", json=ask).status_code == 201
        assert fb.post("/v1/receipts/reconsideration", json=ask).status_code == 409
        report = until(lambda: [x for x in ca.get(f"/v1/cases/{case['id']}").json()["reports"]
                                if x["reconsideration_reason"]])
        assert report[0]["reconsideration_reason"] == ask["reason"]
