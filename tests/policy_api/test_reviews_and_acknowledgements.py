"""Review schedule (FrozenClock), acknowledgements, who is bound, case_api's check."""

from __future__ import annotations

from datetime import timedelta

from tests.policy_api.helpers import create_draft, publish, published_policy
from tests.policy_api.test_registry import create_account


async def test_overdue_review_is_flagged_everywhere_and_listed(api, token, clock):
    policy, _version = await published_policy(api, token)  # published 2025-03-01, due 2026-03-01
    staff = token("records_manager")
    r = await api.get("/v1/reviews/due", params={"within_days": 30}, headers=staff)
    assert r.json()["total"] == 0
    clock.advance(timedelta(days=340))  # 2026-02-04: due within 30 days
    r = await api.get("/v1/reviews/due", params={"within_days": 30}, headers=staff)
    assert [i["identifier"] for i in r.json()["items"]] == ["SMP-1"]
    assert r.json()["items"][0]["review_status"]["overdue"] is False
    clock.advance(timedelta(days=30))  # 2026-03-06: overdue
    for path in ("/v1/policies", f"/v1/policies/{policy['id']}", f"/v1/policies/{policy['id']}/review"):
        body = (await api.get(path)).json()
        status = body["items"][0]["review_status"] if "items" in body else body.get("review_status", body)
        assert status["overdue"] is True, path
        assert status["next_review_due"] == "2026-03-01"
    r = await api.get("/v1/reviews/due", params={"within_days": 0}, headers=staff)
    assert r.json()["items"][0]["review_status"]["days_until_due"] == -5
    # Recording a review moves the due date a year on from the review.
    r = await api.post(f"/v1/policies/{policy['id']}/reviews",
                       json={"outcome": "reaffirmed", "notes": "No changes needed."},
                       headers=token("policy_approver", subject="emp-approver"))
    assert r.status_code == 201, r.text
    status = (await api.get(f"/v1/policies/{policy['id']}/review")).json()
    assert status == {"interval_months": 12, "basis": "review", "basis_date": "2026-03-06",
                      "last_reviewed_on": "2026-03-06", "next_review_due": "2027-03-06", "overdue": False,
                      "days_until_due": 365}
    reviews = (await api.get(f"/v1/policies/{policy['id']}/reviews")).json()["items"]
    assert reviews[0]["outcome"] == "reaffirmed" and reviews[0]["reviewer"] is None
    assert (await api.get("/v1/reviews/due", headers=staff)).json()["total"] == 0


async def test_review_interval_and_validation(api, token, clock):
    policy, _ = await published_policy(api, token, review_interval_months=6)
    status = (await api.get(f"/v1/policies/{policy['id']}/review")).json()
    assert status["next_review_due"] == "2025-09-01"
    r = await api.post(f"/v1/policies/{policy['id']}/reviews", json={"outcome": "maybe"},
                       headers=token("records_manager"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "outcome"]
    r = await api.post(f"/v1/policies/{policy['id']}/reviews",
                       json={"outcome": "revision_started", "reviewed_on": "2030-01-01"},
                       headers=token("records_manager"))
    assert r.status_code == 422
    r = await api.post(f"/v1/policies/{policy['id']}/reviews", json={"outcome": "reaffirmed"},
                       headers=token("policy_editor"))
    assert r.status_code == 403


async def test_acknowledgements_and_missing_list(api, token, staff):
    account = await create_account(api, staff)
    await api.post(f"/v1/accounts/{account['id']}/privileges/grant",
                   json={"employee_id": "emp-1001", "reason": "coordinator"}, headers=staff("records_manager"))
    await api.post(f"/v1/accounts/{account['id']}/privileges/grant",
                   json={"employee_id": "emp-1002", "reason": "backup"}, headers=staff("records_manager"))
    policy, version = await published_policy(api, token)
    r = await api.post(f"/v1/policies/{policy['id']}/bindings", json={"employee_id": "emp-2000"},
                       headers=staff("records_manager"))
    assert r.status_code == 201
    missing_url = f"/v1/policies/{policy['id']}/acknowledgements/missing"
    r = await api.get(missing_url, headers=staff("records_manager"))
    assert r.json()["bound"] == 3
    assert [m["employee_id"] for m in r.json()["missing"]["items"]] == ["emp-1001", "emp-1002", "emp-2000"]
    ack_url = f"/v1/policies/{policy['id']}/versions/{version['id']}/acknowledgements"
    r = await api.post(ack_url, headers=token("pio", subject="emp-1001"))
    assert r.status_code == 201 and r.json()["employee_id"] == "emp-1001"
    r = await api.post(ack_url, headers=token("pio", subject="emp-1001"))
    assert r.status_code == 200
    # Someone else's acknowledgement only by records staff.
    r = await api.post(ack_url, json={"employee_id": "emp-2000"}, headers=token("pio", subject="emp-1002"))
    assert r.status_code == 403
    r = await api.post(ack_url, json={"employee_id": "emp-2000"}, headers=staff("records_manager"))
    assert r.status_code == 201
    r = await api.get(missing_url, headers=staff("policy_editor"))
    assert [m["employee_id"] for m in r.json()["missing"]["items"]] == ["emp-1002"]
    assert r.json()["missing"]["items"][0]["via_privilege"] is True
    # A revoked privilege unbinds.
    await api.post(f"/v1/accounts/{account['id']}/privileges/revoke",
                   json={"employee_id": "emp-1002", "reason": "left"}, headers=staff("records_manager"))
    r = await api.get(missing_url, headers=staff("policy_editor"))
    assert r.json()["missing"]["items"] == [] and r.json()["missing"]["total"] == 0
    r = await api.get(f"/v1/policies/{policy['id']}/bound", params={"limit": 1}, headers=staff("policy_editor"))
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1 and r.json()["next_offset"] == 1
    r = await api.get(ack_url, headers=staff("policy_editor"))
    assert r.json()["total"] == 2
    assert (await api.get(missing_url)).status_code == 401


async def test_ack_check_uses_the_version_in_force(api, token, clock):
    svc = token("service:case_api", subject="service:case_api")
    policy, v1 = await published_policy(api, token)  # effective 2025-03-01
    await api.post(f"/v1/policies/{policy['id']}/versions/{v1['id']}/acknowledgements",
                   headers=token("pio", subject="emp-1001"))
    clock.advance(timedelta(days=60))  # 2025-04-30
    draft = await create_draft(api, token, policy["id"], change_summary="v2")
    v2 = await publish(api, token, policy["id"], draft["id"], effective_date="2025-05-15")

    async def check(on):
        r = await api.get("/v1/acknowledgements/check", params={"employee_id": "emp-1001", "on": on}, headers=svc)
        assert r.status_code == 200, r.text
        return r.json()

    before = await check("2025-02-01")
    assert before["version_id"] is None and before["acknowledged"] is False
    during_v1 = await check("2025-05-14")
    assert during_v1["version_id"] == v1["id"] and during_v1["acknowledged"] is True
    assert during_v1["version_label"] == "1" and during_v1["policy_id"] == policy["id"]
    during_v2 = await check("2025-06-01")
    assert during_v2["version_id"] == v2["id"] and during_v2["acknowledged"] is False
    clock.advance(timedelta(days=40))  # 2025-06-09
    await api.post(f"/v1/policies/{policy['id']}/versions/{v2['id']}/acknowledgements",
                   headers=token("pio", subject="emp-1001"))
    assert (await check("2025-06-01"))["acknowledged"] is False  # acknowledged only later
    later = await check("2025-06-10")
    assert later["acknowledged"] is True and later["acknowledged_at"].startswith("2025-06-09")


async def test_superseded_version_cannot_be_acknowledged(api, token):
    policy, v1 = await published_policy(api, token)
    draft = await create_draft(api, token, policy["id"])
    await publish(api, token, policy["id"], draft["id"])
    r = await api.post(f"/v1/policies/{policy['id']}/versions/{v1['id']}/acknowledgements",
                       headers=token("pio", subject="emp-1"))
    assert r.status_code == 409
