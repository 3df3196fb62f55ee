"""Issue 15 item 1 in the console: the case page shows every report's own testimony, in order,
with a merged report marked (real case_api, feedback_api and policy_api on loopback)."""

from __future__ import annotations

import html

import httpx

from tests.case_api.helpers import forward, idem
from tests.staff_console.conftest import ConsoleUser


def test_case_page_shows_each_reports_testimony_in_order(console_stack, token):
    svc = token("service:feedback_api", subject="service:feedback_api")
    first = forward(incident_key="console-post", description="First resident: the reply mocked me.",
                    seen_on="2026-11-18")
    second = forward(incident_key="console-post", description="Second resident: I saw it before it was deleted.",
                     categories=["disrespectful_response"])
    other = forward(incident_key="console-other", description="Third resident, about the same reply elsewhere.")
    with httpx.Client(base_url=console_stack.case.url, timeout=15) as c:
        ids = []
        for body in (first, second, other):
            r = c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
            assert r.status_code in (200, 201), r.text
            ids.append(r.json()["case_id"])
        assert ids[0] == ids[1] != ids[2]
        r = c.post(f"/v1/cases/{ids[0]}/links", json={"other_case_id": ids[2], "kind": "merged",
                                                      "reason": "Same reply, two URLs."},
                   headers=token("investigator", subject="inv-1"))
        assert r.status_code == 201, r.text
    user = ConsoleUser(console_stack.console.url)
    assert user.sign_in("intake", "Police", "emp-1001").status_code == 200
    page = html.unescape(user.http.get(f"/cases/{ids[0]}").text)
    positions = [page.index(b["description"]) for b in (first, second, other)]
    assert positions == sorted(positions)
    assert "disrespectful_response" in page and "moved here when another case was merged" in page
    assert "[" + "case." not in page
