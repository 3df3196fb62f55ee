"""Concurrent writers: reports about one post arriving at once make one case, the same report
delivered twice at once makes one report, and concurrent changes keep the audit chain intact."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.case_api.domain.models import Case, CaseReport
from tests.case_api.helpers import forward, idem, staff_case


def _count(databases, model) -> int:
    with databases["case_api"].engine.connect() as c:
        return c.execute(select(func.count()).select_from(model)).scalar_one()


async def test_concurrent_reports_about_one_post_make_one_case(make_app, client, token, databases):
    c = client(make_app("case_api"))
    svc = token("service:feedback_api", subject="service:feedback_api")
    bodies = [forward(incident_key="same-post") for _ in range(8)]
    dup = bodies[0]
    results = await asyncio.gather(
        *[c.post("/v1/intake/reports", json=b, headers={**svc, **idem(b["report_id"])}) for b in [*bodies, dup, dup]])
    assert all(r.status_code in (200, 201) for r in results), [r.text for r in results if r.status_code >= 300]
    assert sum(r.status_code == 201 for r in results) == 1
    assert len({r.json()["case_id"] for r in results}) == 1
    assert _count(databases, Case) == 1 and _count(databases, CaseReport) == 8


async def test_concurrent_changes_keep_the_audit_chain_valid(make_app, client, token):
    c = client(make_app("case_api"))
    case = await staff_case(c, token)
    inv = token("investigator")
    results = await asyncio.gather(
        *[c.post(f"/v1/cases/{case['id']}/notes", json={"body": f"note {i}"}, headers=inv) for i in range(12)],
        *[staff_case(c, token) for _ in range(4)])
    assert all(getattr(r, "status_code", 201) == 201 for r in results)
    v = (await c.get("/v1/audit/verify", headers=token("auditor"))).json()
    assert v["ok"] is True and v["entries_checked"] == 1 + 12 + 4
