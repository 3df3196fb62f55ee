"""Issue 18 item 5: POST /v1/drafts/check flags an argumentative reply and passes a courteous one,
quotes the policy in force from a REAL running policy_api (or R-24-89's wording when it does not
answer, and says so), is for staff only, and stores nothing."""

from __future__ import annotations

import pytest

from services.case_api import clients
from tests.policy_api.helpers import published_policy
from tests.support.sqlcount import count_statements

ARGUMENTATIVE = "Maybe check your facts before you post next time. We already told you the pool opens in May."
COURTEOUS = ("Thanks for asking! The pool opens on May 24; the schedule is at cabq.gov/pools. "
             "Send us a message if you have any other questions.")
COMMENT = "Why is the pool still closed? Typical city incompetence."


@pytest.fixture(autouse=True)
def _fresh_quotes():
    clients._quotes_cache.clear()
    yield
    clients._quotes_cache.clear()


async def test_built_in_wording_when_policy_api_does_not_answer(make_app, client, token):
    app = make_app("case_api", policy_api_url="http://127.0.0.1:9", relay_enabled=False, monitoring_sync_seconds=0)
    c = client(app)
    pio = token("pio", department="Parks")
    with count_statements(app.state.db) as counted:
        r = await c.post("/v1/drafts/check", json={"text": ARGUMENTATIVE, "replying_to": COMMENT}, headers=pio)
    assert r.status_code == 200, r.text
    assert counted.n == 0  # stores nothing, reads nothing
    assert r.headers["cache-control"] == "no-store"
    out = r.json()
    assert out["ok"] is False and out["policy_source"] == "built_in" and out["stored"] is False
    (problem,) = out["problems"]
    assert problem["rule"] == "arguing_with_public" and problem["evidence"].lower() == "check your facts"
    assert problem["section"] == "R-24-89 §1.A.3 Prohibition on Personal Attacks"
    assert "arguing with members of the public" in problem["quote"]
    assert "Acknowledge the concern" in problem["guideline"] and "§1.A.4 Response Guidelines" in problem["guideline"]
    ok = (await c.post("/v1/drafts/check", json={"text": COURTEOUS, "replying_to": COMMENT}, headers=pio)).json()
    assert ok["ok"] is True and ok["problems"] == []
    spanish = (await c.post("/v1/drafts/check", headers=pio, json={
        "text": "Deje de quejarse y lea el aviso.", "lang": "es"})).json()
    assert spanish["problems"][0]["title"] == "Discutir con o burlarse de un residente"


async def test_quotes_the_policy_in_force_from_policy_api(make_app, client, live, token):
    policy_app = make_app("policy_api")
    server = live(policy_app)
    await published_policy(client(make_app("policy_api")), token)
    c = client(make_app("case_api", policy_api_url=server.url, relay_enabled=False, monitoring_sync_seconds=0))
    r = await c.post("/v1/drafts/check", headers=token("pio", department="Police"),
                     json={"text": "You are clearly an idiot, and I think the mayor should resign."})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["policy_source"] == "policy_api" and out["policy_version"]
    rules = [p["rule"] for p in out["problems"]]
    assert rules == ["personal_attack", "personal_opinion"]
    assert all(p["section"].startswith(out["policy_version"].split()[0]) for p in out["problems"])
    assert all(p["quote"] for p in out["problems"])


async def test_staff_only(make_app, client, token):
    c = client(make_app("case_api", policy_api_url="http://127.0.0.1:9", relay_enabled=False,
                        monitoring_sync_seconds=0))
    assert (await c.post("/v1/drafts/check", json={"text": COURTEOUS})).status_code == 401
    svc = token("service:feedback_api", subject="service:feedback_api")
    assert (await c.post("/v1/drafts/check", json={"text": COURTEOUS}, headers=svc)).status_code == 403
    too_long = await c.post("/v1/drafts/check", json={"text": "x" * 5001}, headers=token("pio"))
    assert too_long.status_code == 422
