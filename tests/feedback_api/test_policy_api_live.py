"""feedback_api against a real running policy_api: the account list is proxied and cached, a
reported account is verified (and its department forwarded), unknown ids are refused, and the
stale cache is served while policy_api is down."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlmodel import Session

from services.feedback_api.domain.models import OutboxMessage, Submission
from tests.feedback_api.conftest import report_body


async def test_accounts_are_proxied_verified_and_cached(fb_app, make_app, live, client, token, databases):
    policy = live(make_app("policy_api"))
    records = token("records_manager", "admin", subject="rm-1")
    account = {"platform": "facebook", "handle": "@abqparks", "profile_url": "https://facebook.com/abqparks",
               "department": "Parks and Recreation", "purpose": "Park news"}
    async with httpx.AsyncClient(base_url=policy.url, timeout=10) as pc:
        r = await pc.post("/v1/accounts", json=account, headers=records)
        assert r.status_code == 201, r.text
        account_id = r.json()["id"]

    app = fb_app(policy_api_url=policy.url, directory_cache_seconds=0)
    c = client(app)
    r = await c.get("/v1/public/accounts")
    assert r.status_code == 200 and [a["id"] for a in r.json()] == [account_id]
    assert r.json()[0]["department"] == "Parks and Recreation"
    assert r.headers["cache-control"].startswith("public, max-age=60") and r.headers["etag"]
    again = await c.get("/v1/public/accounts", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    r = await c.post("/v1/reports", json=report_body(account_id=account_id, account_text=None))
    assert r.status_code == 201
    with Session(databases["feedback_api"].engine) as s:
        sub = s.execute(select(Submission)).scalar_one()
        forwarded = s.execute(select(OutboxMessage)).scalar_one().payload
    assert sub.reference_check == "verified" and sub.department == "Parks and Recreation"
    assert forwarded["department"] == "Parks and Recreation" and forwarded["account_id"] == account_id

    r = await c.post("/v1/reports", json=report_body(account_id="no-such-account", account_text=None))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "account_id"]
    r = await c.post("/v1/feedback", json={"policy_id": "no-such-policy", "version_id": "v1", "text": "x"})
    assert r.status_code == 422
    r = await c.get("/v1/public/policies")
    assert r.status_code == 200 and isinstance(r.json(), list)

    policy.stop()  # down: the last good list is served, reports are still accepted (unverified)
    r = await c.get("/v1/public/accounts")
    assert r.status_code == 200 and [a["id"] for a in r.json()] == [account_id]
    r = await c.post("/v1/reports", json=report_body(account_id="acct-while-down", account_text=None))
    assert r.status_code == 201


async def test_feedback_on_a_published_policy_is_verified(fb_app, make_app, live, client, dev_key, databases):
    from services.devkit import DemoContext
    from services.policy_api import demo as policy_demo
    from shared.auth import issue_dev_token
    from shared.settings import AuthSettings

    policy = live(make_app("policy_api"))
    auth = AuthSettings(dev_key_file=dev_key)

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

    policy_demo.load(DemoContext(urls={"policy_api": policy.url}, token=sign))  # publishes real policies
    c = client(fb_app(policy_api_url=policy.url))
    r = await c.get("/v1/public/policies")
    assert r.status_code == 200
    published = [p for p in r.json() if p["current_version"] and p["sections"]]
    assert published, r.json()
    target = published[0]
    section = target["sections"][0]
    assert section["id"] and section["heading"]
    feedback = {"policy_id": target["id"], "version_id": target["current_version"]["id"],
                "section_id": section["id"], "text": "Clear, thank you.", "rating": 5}
    assert (await c.post("/v1/feedback", json=feedback)).status_code == 201
    with Session(databases["feedback_api"].engine) as s:
        assert s.execute(select(Submission.reference_check)).scalar_one() == "verified"
    r = await c.post("/v1/feedback", json={**feedback, "section_id": "no-such-section"})
    assert r.status_code == 422
