"""The official accounts registry, posting privileges and their history, the element catalogue."""

from __future__ import annotations

from datetime import timedelta

ACCOUNT = {
    "platform": "facebook",
    "handle": "@cityofalbuquerque",
    "profile_url": "https://www.facebook.com/cityofalbuquerque",
    "department": "Mayor's Office",
    "purpose": "City news",
    "pio_name": "Jane Doe",
    "pio_title": "Communications Director",
}


async def create_account(api, staff, **overrides):
    r = await api.post("/v1/accounts", json={**ACCOUNT, **overrides}, headers=staff("records_manager"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_elements_catalogue_has_the_eight_elements(api):
    r = await api.get("/v1/elements")
    assert r.status_code == 200
    keys = [e["key"] for e in r.json()]
    assert keys == [
        "behavioral_expectations", "content_specifications", "prohibition_on_personal_attacks",
        "response_guidelines", "monitoring_and_review", "disciplinary_actions", "restorative_actions",
        "policy_review",
    ]
    assert r.headers["etag"] and "max-age" in r.headers["cache-control"]


async def test_account_crud_and_public_read(api, staff):
    acct = await create_account(api, staff)
    assert set(acct) >= {"id", "platform", "handle", "profile_url", "department", "purpose", "status",
                         "pio_name", "pio_title"}
    r = await api.get(f"/v1/accounts/{acct['id']}")
    assert r.status_code == 200 and r.json()["pio_name"] == "Jane Doe"
    r = await api.patch(f"/v1/accounts/{acct['id']}", json={"status": "suspended"}, headers=staff("admin"))
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    r = await api.get("/v1/accounts", params={"status": "suspended"})
    assert r.json()["total"] == 1
    r = await api.get("/v1/accounts", params={"status": "active"})
    assert r.json()["total"] == 0
    r = await api.get("/v1/accounts/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_duplicate_account_is_409(api, staff):
    await create_account(api, staff)
    r = await api.post("/v1/accounts", json=ACCOUNT, headers=staff("records_manager"))
    assert r.status_code == 409


async def test_account_writes_need_records_role(api, staff):
    r = await api.post("/v1/accounts", json=ACCOUNT)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await api.post("/v1/accounts", json=ACCOUNT, headers=staff("policy_editor"))
    assert r.status_code == 403
    assert r.json()["status"] == 403


async def test_account_validation_names_fields(api, staff):
    r = await api.post("/v1/accounts", json={**ACCOUNT, "platform": "myspace", "profile_url": "nope"},
                       headers=staff("records_manager"))
    assert r.status_code == 422
    locs = [tuple(e["loc"]) for e in r.json()["errors"]]
    assert ("body", "platform") in locs and ("body", "profile_url") in locs


async def test_privilege_grant_revoke_history(api, staff, token, clock):
    acct = await create_account(api, staff)
    url = f"/v1/accounts/{acct['id']}/privileges"
    r = await api.post(url + "/grant", json={"employee_id": "emp-1001", "reason": "Social media coordinator"},
                       headers=staff("records_manager", subject="rm-1"))
    assert r.status_code == 200 and r.json()["active"] is True and r.json()["changed"] is True
    clock.advance(timedelta(days=3))
    svc = token("service:case_api", subject="service:case_api")
    body = {"employee_id": "emp-1001", "reason": "Restorative action", "case_reference": "C-1234-ABCD"}
    r = await api.post(url + "/revoke", json=body, headers=svc)
    assert r.status_code == 200, r.text
    assert r.json() == {"account_id": acct["id"], "employee_id": "emp-1001", "active": False, "changed": True,
                        "recorded_at": r.json()["recorded_at"]}
    # Idempotent by nature: revoking again changes nothing.
    r = await api.post(url + "/revoke", json=body, headers=svc)
    assert r.status_code == 200 and r.json()["changed"] is False and r.json()["active"] is False
    r = await api.get(url + "/history", headers=staff("records_manager"))
    events = r.json()["items"]
    assert [(e["action"], e["actor"], e["case_reference"]) for e in events] == [
        ("granted", "rm-1", None), ("revoked", "service:case_api", "C-1234-ABCD")]
    r = await api.get(url, headers=staff("records_manager"))
    assert r.json()["items"] == []
    r = await api.get(url, params={"include_inactive": True}, headers=staff("records_manager"))
    assert [p["active"] for p in r.json()["items"]] == [False]
    # The public view never names privilege holders.
    r = await api.get(f"/v1/accounts/{acct['id']}")
    assert "emp-1001" not in r.text


async def test_revoke_roles_and_unknown_account(api, staff, token):
    body = {"employee_id": "emp-1", "reason": "x"}
    r = await api.post("/v1/accounts/unknown/privileges/revoke", json=body,
                       headers=token("service:case_api", subject="service:case_api"))
    assert r.status_code == 404
    acct = await create_account(api, staff)
    r = await api.post(f"/v1/accounts/{acct['id']}/privileges/revoke", json=body,
                       headers=token("service:feedback_api", subject="service:feedback_api"))
    assert r.status_code == 403
    r = await api.post(f"/v1/accounts/{acct['id']}/privileges/revoke", json=body)
    assert r.status_code == 401


async def test_account_list_etag_304(api, staff):
    await create_account(api, staff)
    r = await api.get("/v1/accounts")
    etag = r.headers["etag"]
    assert r.headers["cache-control"].startswith("public")
    r2 = await api.get("/v1/accounts", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    await create_account(api, staff, handle="@abqparks", profile_url="https://www.facebook.com/abqparks")
    r3 = await api.get("/v1/accounts", headers={"If-None-Match": etag})
    assert r3.status_code == 200 and r3.headers["etag"] != etag


async def test_account_writes_are_in_the_change_log(api, staff):
    acct = await create_account(api, staff)
    await api.patch(f"/v1/accounts/{acct['id']}", json={"purpose": "News"}, headers=staff("admin", subject="a-1"))
    r = await api.get("/v1/changes", params={"entity_id": acct["id"]}, headers=staff("records_manager"))
    assert r.status_code == 200
    entries = r.json()["items"]
    assert [e["action"] for e in entries] == ["account.created", "account.updated"]
    assert entries[1]["actor"] == "a-1"
    assert entries[1]["before"]["purpose"] == "City news" and entries[1]["after"]["purpose"] == "News"


async def test_ack_check_with_no_policy(api, token):
    r = await api.get("/v1/acknowledgements/check", params={"employee_id": "emp-1", "on": "2025-01-01"},
                      headers=token("service:case_api", subject="service:case_api"))
    assert r.status_code == 200
    assert r.json()["acknowledged"] is False and r.json()["version_id"] is None
    r = await api.get("/v1/acknowledgements/check", params={"employee_id": "emp-1", "on": "2025-01-01"})
    assert r.status_code == 401


async def test_revoke_from_case_api_is_idempotent_by_key(api, staff, token, clock):
    """case_api's outbox retries a delivery with the same Idempotency-Key: the first answer comes back
    (even though the privilege is now already revoked), one event is recorded; another body is 422."""
    acct = await create_account(api, staff)
    url = f"/v1/accounts/{acct['id']}/privileges"
    await api.post(url + "/grant", json={"employee_id": "emp-7", "reason": "PIO"}, headers=staff("records_manager"))
    svc = {**token("service:case_api", subject="service:case_api"), "Idempotency-Key": "revoke-ra-1"}
    body = {"employee_id": "emp-7", "reason": "Restorative action", "case_reference": "C-1-AAAA"}
    first = await api.post(url + "/revoke", json=body, headers=svc)
    assert first.status_code == 200 and first.json()["changed"] is True
    assert "idempotent-replayed" not in first.headers
    clock.advance(timedelta(minutes=5))
    again = await api.post(url + "/revoke", json=body, headers=svc)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    history = (await api.get(url + "/history", headers=staff("records_manager"))).json()["items"]
    assert [e["action"] for e in history] == ["granted", "revoked"]
    other = await api.post(url + "/revoke", json={**body, "reason": "Something else"}, headers=svc)
    assert other.status_code == 422 and other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # The shared model validates the body: unknown fields are refused.
    r = await api.post(url + "/revoke", json={**body, "surprise": 1},
                       headers={**svc, "Idempotency-Key": "revoke-ra-2"})
    assert r.status_code == 422
    # A refused request stores no key (the key is written with the effect): the key is still free.
    r = await api.post("/v1/accounts/nope/privileges/revoke", json=body,
                       headers={**svc, "Idempotency-Key": "revoke-ra-3"})
    assert r.status_code == 404
    r = await api.post(url + "/revoke", json=body, headers={**svc, "Idempotency-Key": "revoke-ra-3"})
    assert r.status_code == 200 and r.json()["changed"] is False and "idempotent-replayed" not in r.headers
