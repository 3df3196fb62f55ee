"""The demo loader runs against a real case_api (and a real policy_api registry) and leaves a
consistent audit chain."""

from __future__ import annotations

import httpx

from services.case_api import demo
from services.devkit import DemoContext
from shared.auth import issue_dev_token
from shared.settings import AuthSettings
from tests.case_api.helpers import forward, idem


def test_demo_loads_cases_in_several_states(make_app, live, dev_key, token):
    policy = live(make_app("policy_api"))
    with httpx.Client(base_url=policy.url, headers=token("admin")) as p:
        r = p.post("/v1/accounts", json={"platform": "facebook", "handle": "abqparks", "department": "Parks",
                                         "profile_url": "https://facebook.com/abqparks", "purpose": "news"})
        assert r.status_code == 201, r.text
    server = live(make_app("case_api", policy_api_url=policy.url))
    auth = AuthSettings(dev_key_file=dev_key)

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

    ctx = DemoContext(urls={"case_api": server.url, "policy_api": policy.url}, token=sign)
    # feedback_api's demo may already have forwarded a report: that must not stop ours
    fwd = forward()
    with httpx.Client(base_url=server.url, headers={**token("service:feedback_api"), **idem(fwd["report_id"])}) as f:
        assert f.post("/v1/intake/reports", json=fwd).status_code == 201
    demo.load(ctx)
    demo.load(ctx)  # a second run leaves a non-empty database alone
    with httpx.Client(base_url=server.url, headers=token("admin", "monitor")) as c:
        cases = c.get("/v1/cases", params={"limit": 100}).json()
        assert cases["total"] == 6
        staff = [x for x in cases["items"] if x["source"] == "staff"]
        assert len(staff) == 5
        assert {x["state"] for x in staff} == {"received", "triaged", "actions", "dismissed", "closed"}
        reviews = c.get("/v1/monitoring/reviews").json()
        assert reviews["total"] == 1 and reviews["items"][0]["department"] == "Parks and Recreation"
        assert c.get("/v1/audit/verify").json()["ok"] is True
