"""Builders shared by the case_api tests."""

from __future__ import annotations

import uuid
from typing import Any


def forward(report_id: str | None = None, **over: Any) -> dict[str, Any]:
    rid = report_id or str(uuid.uuid4())
    body: dict[str, Any] = {
        "report_id": rid,
        "reference": "R-" + rid[:4].upper() + "-TEST",
        "received_on": "2026-11-20",
        "account_id": "acct-police-fb",
        "department": "Police",
        "platform": "facebook",
        "links": ["https://facebook.com/abqpolice/posts/1"],
        "categories": ["personal_attack"],
        "description": "The account insulted a resident in a reply.",
        "incident_key": None,
        "has_contact": False,
    }
    body.update(over)
    return body


def idem(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def staff_case(c, token, *, department: str = "Police", **over: Any) -> dict[str, Any]:
    body = {"department": department, "categories": ["personal_attack"], "summary": "Reply insulted a resident.",
            "account_id": "acct-police-fb", "platform": "facebook", **over}
    r = await c.post("/v1/cases", json=body, headers=token("intake", subject="intake-1"))
    assert r.status_code == 201, r.text
    return r.json()


async def move(c, token, case_id: str, to: str, role: str = "investigator", **body: Any) -> Any:
    return await c.post(f"/v1/cases/{case_id}/transitions", json={"to": to, **body},
                        headers=token(role, subject=f"{role}-1"))


async def sustained(c, token, *, employee: str, severity: int, department: str = "Police",
                    **over: Any) -> dict[str, Any]:
    """A case driven to a sustained finding for ``employee``; returns the case."""
    case = await staff_case(c, token, department=department, **over)
    cid = case["id"]
    inv = token("investigator", subject="inv-1")
    assert (await move(c, token, cid, "triaged")).status_code == 200
    assert (await move(c, token, cid, "investigating")).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": employee}, headers=inv)
    assert r.status_code == 200, r.text
    r = await c.post(f"/v1/cases/{cid}/finding", json={"finding": "sustained", "severity": severity}, headers=inv)
    assert r.status_code == 200, r.text
    return r.json()
