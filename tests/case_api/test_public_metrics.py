"""Public metrics suppress small cells; staff get the full figures."""

from __future__ import annotations

from tests.case_api.helpers import forward, idem


async def _intake(c, svc, n: int, **over) -> None:
    for _ in range(n):
        body = forward(**over)
        r = await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
        assert r.status_code == 201


async def test_cells_under_five_are_suppressed(make_app, client, token):
    c = client(make_app("case_api"))
    svc = token("service:feedback_api", subject="service:feedback_api")
    await _intake(c, svc, 6, department="Police", categories=["personal_attack"])
    await _intake(c, svc, 2, department="Parks", categories=["personal_opinion"])
    await _intake(c, svc, 5, department="Transit", categories=["personal_attack"])
    r = await c.get("/v1/public/metrics")
    assert r.status_code == 200
    m = r.json()
    assert m["suppression_threshold"] == 5 and m["cases_total"] == 13
    deps = {cell["key"]: cell["count"] for cell in m["by_department"]}
    # Parks (2) is hidden, and so is the next smallest (Transit, 5) so Parks cannot be recovered by subtraction.
    assert deps == {"Police": 6, "Parks and Recreation": None, "Transit": None}
    cats = {cell["key"]: cell["count"] for cell in m["by_category"]}
    assert cats == {"personal_attack": 11, "personal_opinion": None}
    assert {cell["key"]: cell["count"] for cell in m["by_state"]} == {"received": 13}


async def test_nothing_but_suppressed_cells_when_few_cases(make_app, client, token):
    c = client(make_app("case_api"))
    svc = token("service:feedback_api", subject="service:feedback_api")
    await _intake(c, svc, 3)
    m = (await c.get("/v1/public/metrics")).json()
    assert m["cases_total"] is None
    assert all(cell["count"] is None for cell in m["by_department"] + m["by_state"] + m["by_category"])
