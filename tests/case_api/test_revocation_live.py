"""A privilege revocation reaches a REAL running policy_api through the outbox, is recorded on
the action, survives policy_api being down (retried, never dropped), and the ladder's
recommendation records the policy version in force and the employee's acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.case_api.relay import build_relay
from shared.http import ServiceClient
from shared.timeutil import FrozenClock
from tests.case_api.helpers import sustained

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def _registry(c_policy, token) -> str:
    admin = token("admin", subject="records-admin")
    r = await c_policy.post("/v1/accounts", headers=admin, json={
        "platform": "facebook", "handle": "abqpolice", "profile_url": "https://facebook.com/abqpolice",
        "department": "Police", "purpose": "Police news"})
    assert r.status_code == 201, r.text
    account_id = r.json()["id"]
    r = await c_policy.post(f"/v1/accounts/{account_id}/privileges/grant", headers=admin,
                            json={"employee_id": "emp-31", "reason": "PIO on duty"})
    assert r.status_code == 200, r.text
    return account_id


async def _privileges(c_policy, token, account_id):
    r = await c_policy.get(f"/v1/accounts/{account_id}/privileges", params={"include_inactive": True},
                           headers=token("admin"))
    body = r.json()
    rows = body["items"] if isinstance(body, dict) else body  # a Page since policy_api be2c2ba
    return {p["employee_id"]: p["active"] for p in rows}


async def _revoke(c, token, case, account_id):
    hr = token("hr", subject="hr-1")
    r = await c.post(f"/v1/cases/{case['id']}/decision", json={"action": case["recommendation"]["action"]},
                     headers=hr)
    assert r.status_code == 200, r.text
    r = await c.post(f"/v1/cases/{case['id']}/restorative-actions", headers=hr, json={
        "kind": "privilege_revocation", "owner": "hr-1", "due_on": "2026-11-10", "account_id": account_id})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_progress" and r.json()["result"] == {"revocation": "pending"}
    return r.json()["id"]


async def test_revocation_reaches_policy_api_and_is_recorded(make_app, client, token, live):
    policy = live(make_app("policy_api"))
    c_policy = client(make_app("policy_api"))
    account_id = await _registry(c_policy, token)
    assert (await _privileges(c_policy, token, account_id)) == {"emp-31": True}

    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, policy_api_url=policy.url)
    c = client(app)
    case = await sustained(c, token, employee="emp-31", severity=4, account_id=account_id)
    assert "privilege_revocation" in case["recommendation"]["restorative"]
    # policy_api answered the acknowledgement check (no policy published in this test database)
    assert case["recommendation"]["policy"]["status"] in {"acknowledged", "not_acknowledged"}
    action_id = await _revoke(c, token, case, account_id)

    assert app.state.relay.drain() == 1
    assert (await _privileges(c_policy, token, account_id)) == {"emp-31": False}
    actions = (await c.get(f"/v1/cases/{case['id']}/restorative-actions", headers=token("hr"))).json()
    action = next(a for a in actions if a["id"] == action_id)
    assert action["status"] == "completed" and action["result"]["revocation"] == "done"
    assert action["result"]["changed"] is True and action["evidence"]
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True


async def test_revocation_is_retried_while_policy_api_is_down(make_app, client, token, live):
    c_policy = client(make_app("policy_api"))
    account_id = await _registry(c_policy, token)
    server = live(make_app("policy_api"))
    port = server.port
    server.stop()  # policy_api is down

    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, policy_api_url=f"http://127.0.0.1:{port}", http_timeout_seconds=1)
    c = client(app)
    case = await sustained(c, token, employee="emp-31", severity=4, account_id=account_id)
    assert case["recommendation"]["policy"]["status"] == "unknown"  # the decision did not fail
    await _revoke(c, token, case, account_id)
    relay = app.state.relay
    assert relay.run_once() == 0
    assert relay.stats().pending == 1 and relay.stats().dead == 0  # kept, not dropped

    live(make_app("policy_api"), port=port)  # back up on the same port
    clock.advance(timedelta(minutes=10))
    assert relay.drain() == 1
    assert (await _privileges(c_policy, token, account_id)) == {"emp-31": False}


async def test_unknown_account_is_retried_not_parked(make_app, client, token, live):
    """Between our services a 404 means "not there yet" (shared.http.classify): a revocation for an
    account policy_api does not know yet stays queued, and the action stays in progress."""
    policy = live(make_app("policy_api"))
    app = make_app("case_api", policy_api_url=policy.url)
    c = client(app)
    case = await sustained(c, token, employee="emp-31", severity=4, account_id="no-such-account")
    action_id = await _revoke(c, token, case, "no-such-account")
    assert app.state.relay.run_once() == 0
    stats = app.state.relay.stats()
    assert stats.pending == 1 and stats.dead == 0
    actions = (await c.get(f"/v1/cases/{case['id']}/restorative-actions", headers=token("hr"))).json()
    action = next(a for a in actions if a["id"] == action_id)
    assert action["status"] == "in_progress" and action["result"] == {"revocation": "pending"}


async def test_refused_revocation_is_parked_and_recorded_as_failed(make_app, client, token, live):
    """A 4xx that retrying cannot help (here policy_api's 401 to a relay whose client carries no
    service token) parks the message dead and records the failure, with the status, on the action."""
    policy = live(make_app("policy_api"))
    c_policy = client(make_app("policy_api"))
    account_id = await _registry(c_policy, token)
    app = make_app("case_api", policy_api_url=policy.url)
    c = client(app)
    case = await sustained(c, token, employee="emp-31", severity=4, account_id=account_id)
    action_id = await _revoke(c, token, case, account_id)
    anonymous = ServiceClient({"policy_api": policy.url}, tokens=None, timeout=5)
    try:
        relay = build_relay(app.state.settings, app.state.db, anonymous, app.state.clock)
        relay.drain()
        assert relay.stats().dead == 1 and relay.stats().pending == 0
    finally:
        anonymous.close()
    actions = (await c.get(f"/v1/cases/{case['id']}/restorative-actions", headers=token("hr"))).json()
    action = next(a for a in actions if a["id"] == action_id)
    assert action["status"] == "failed" and action["result"]["status_code"] == 401
    assert action["result"]["revocation"] == "failed"
    assert (await _privileges(c_policy, token, account_id)) == {"emp-31": True}
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True


async def test_an_admin_sees_the_dead_revocation_and_puts_it_back(make_app, client, token, live):
    """case_api's dead letters, as feedback_api's: listed for admins only, and retried on demand
    (here after the relay gets its service token back), once."""
    policy = live(make_app("policy_api"))
    c_policy = client(make_app("policy_api"))
    account_id = await _registry(c_policy, token)
    app = make_app("case_api", policy_api_url=policy.url)
    c = client(app)
    case = await sustained(c, token, employee="emp-31", severity=4, account_id=account_id)
    await _revoke(c, token, case, account_id)
    anonymous = ServiceClient({"policy_api": policy.url}, tokens=None, timeout=5)
    try:
        build_relay(app.state.settings, app.state.db, anonymous, app.state.clock).drain()
    finally:
        anonymous.close()
    assert (await c.get("/v1/ops/outbox", headers=token("hr"))).status_code == 403
    health = (await c.get("/v1/ops/outbox", headers=token("admin"))).json()
    assert health["dead"] == 1 and health["pending"] == 0
    dead = health["dead_messages"][0]
    assert dead["topic"] == "privilege_revoke" and dead["last_error"].startswith("HTTP 401")
    r = await c.post(f"/v1/ops/outbox/{dead['id']}/retry", headers=token("admin"))
    assert r.status_code == 202
    assert (await c.post(f"/v1/ops/outbox/{dead['id']}/retry", headers=token("admin"))).status_code == 404
    app.state.relay.drain()  # the app's own relay, with its service token
    assert (await c.get("/v1/ops/outbox", headers=token("admin"))).json()["dead"] == 0
    assert (await _privileges(c_policy, token, account_id)) == {"emp-31": False}


async def test_the_check_names_a_departments_own_policy_for_its_employees(make_app, client, token, live):
    """The case's department goes with the acknowledgement check: a Police policy that is not
    citywide is in force for a Police employee who never held posting privileges on an account."""
    from tests.policy_api.helpers import create_draft, create_policy, full_sections, publish

    policy = live(make_app("policy_api"))
    c_policy = client(make_app("policy_api"))
    police = await create_policy(c_policy, token, identifier="APD-SM-1", department="Police", citywide=False)
    draft = await create_draft(c_policy, token, police["id"], sections=full_sections())
    await publish(c_policy, token, police["id"], draft["id"], effective_date="2026-10-01", published_on="2026-09-20")

    c = client(make_app("case_api", clock=FrozenClock(T0), policy_api_url=policy.url))
    case = await sustained(c, token, employee="emp-77", severity=2, department="Police")
    assert case["recommendation"]["policy"]["policy_id"] == police["id"], case["recommendation"]["policy"]
    assert case["recommendation"]["policy"]["status"] == "not_acknowledged"
