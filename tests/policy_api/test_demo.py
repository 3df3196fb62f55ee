"""The demo loader runs against a real server, loads once, and its draft covers all eight elements."""

from __future__ import annotations

import httpx

from services.devkit import DemoContext
from services.policy_api import demo
from shared.auth import issue_dev_token


def test_demo_loads_once_and_is_complete(make_app, live, auth_settings):
    server = live(make_app("policy_api"))

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth_settings, "dev", subject=subject, roles=roles, department=department)

    ctx = DemoContext(urls={"policy_api": server.url}, token=sign)
    demo.load(ctx)
    demo.load(ctx)  # a second run finds data and does nothing
    staff = {"Authorization": f"Bearer {sign(roles=['policy_editor'])}"}
    with httpx.Client(base_url=server.url, timeout=10) as c:
        accounts = c.get("/v1/accounts", params={"limit": 100}).json()
        assert accounts["total"] == len(demo.ACCOUNTS) >= 12
        assert len({a["department"] for a in accounts["items"]}) >= 10
        published = c.get("/v1/policies").json()
        assert sorted(p["identifier"] for p in published["items"]) == ["AI 1-19", "SMP-1"]
        smp = next(p for p in published["items"] if p["identifier"] == "SMP-1")
        detail = c.get(f"/v1/policies/{smp['id']}", headers=staff).json()
        assert [v["state"] for v in detail["versions"]] == ["draft", "published", "superseded"]
        draft = detail["open_version"]
        check = c.get(f"/v1/policies/{smp['id']}/versions/{draft['id']}/completeness", headers=staff).json()
        assert check["complete"] is True and check["missing"] == []
        page = c.get("/transparency")
        assert page.status_code == 200 and "AI 1-19" in page.text and "What changed from version 2024.1" in page.text
