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
