"""The demo loader runs against a real case_api and leaves a consistent audit chain."""

from __future__ import annotations

import httpx

from services.case_api import demo
from services.devkit import DemoContext
from shared.auth import issue_dev_token
from shared.settings import AuthSettings


def test_demo_loads_cases_in_several_states(make_app, live, dev_key, token):
    server = live(make_app("case_api", policy_api_url="http://127.0.0.1:9"))
    auth = AuthSettings(dev_key_file=dev_key)

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

    ctx = DemoContext(urls={"case_api": server.url}, token=sign)
    demo.load(ctx)
    demo.load(ctx)  # a second run leaves a non-empty database alone
    headers = token("admin")
    with httpx.Client(base_url=server.url, headers=headers) as c:
        cases = c.get("/v1/cases", params={"limit": 100}).json()
        assert cases["total"] == 5
        assert {x["state"] for x in cases["items"]} == {"received", "triaged", "actions", "dismissed", "closed"}
        assert c.get("/v1/audit/verify").json()["ok"] is True
