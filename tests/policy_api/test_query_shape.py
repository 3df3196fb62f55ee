"""Query shape: every list and detail endpoint sends as many SQL statements for 50 rows as for 1.

One data set is built for the whole module (over the API, as a client would): first everything with
one row (one policy with one version, one section, one review, one acknowledgement, one binding, one
account with one privilege...), each endpoint is counted, then the data grows to 50 rows of each
kind (a second policy with 50 versions of 50 sections, 50 reviews, 50 acknowledgements, 50
bindings; 50 policies, 50 accounts, 50 catalogue elements in all) and each endpoint is counted again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.registry import SERVICES
from shared.auth import issue_dev_token
from shared.timeutil import FrozenClock
from tests.policy_api.helpers import ATTEST, ELEMENT_KEYS
from tests.support.sqlcount import count_statements

START = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
Paths = dict[str, Any]


class Builder:
    def __init__(self, api: httpx.AsyncClient, sign: Callable[..., dict[str, str]]) -> None:
        self.api, self.sign = api, sign
        self.editor = sign("policy_editor", subject="emp-editor")
        self.approver = sign("policy_approver", subject="emp-approver")
        self.records = sign("records_manager", subject="emp-records")
        self.admin = sign("admin", subject="emp-admin")

    async def ok(self, method: str, url: str, headers: dict[str, str], json: Any = None) -> dict[str, Any]:
        r = await self.api.request(method, url, headers=headers, json=json)
        assert r.status_code in (200, 201), (method, url, r.status_code, r.text)
        return r.json() if r.content else {}

    async def publish(self, policy_id: str, body: dict[str, Any]) -> dict[str, Any]:
        draft = await self.ok("POST", f"/v1/policies/{policy_id}/versions", self.editor, body)
        base = f"/v1/policies/{policy_id}/versions/{draft['id']}"
        await self.ok("POST", base + "/submit", self.editor)
        await self.ok("POST", base + "/approve", self.approver, ATTEST)
        return await self.ok("POST", base + "/publish", self.approver)

    async def policy(self, identifier: str, *, kind: str = "other") -> str:
        p = await self.ok("POST", "/v1/policies", self.editor, {
            "kind": kind, "identifier": identifier, "title": f"Policy {identifier}", "department": "Mayor"})
        return str(p["id"])

    async def grow(self, tag: str, n: int) -> Paths:
        """A social media policy with n versions of n sections, n reviews, acknowledgements and
        bindings; an account with n privileges."""
        pid = await self.policy(f"SMP-{tag}", kind="social_media_policy")
        sections = [{"heading": f"Section {i}", "body_markdown": f"Text {i} with *emphasis*.",
                     "elements": ELEMENT_KEYS if i == 0 else []} for i in range(n)]
        first = await self.publish(pid, {"sections": sections, "change_summary": "first"})
        last = first
        for _ in range(n - 1):
            last = await self.publish(pid, {"change_summary": "again"})
        for i in range(n):
            await self.ok("POST", f"/v1/policies/{pid}/reviews", self.approver, {"outcome": "reaffirmed",
                                                                                 "notes": f"r{i}"})
            await self.ok("POST", f"/v1/policies/{pid}/bindings", self.records, {"employee_id": f"b-{tag}-{i}"})
            await self.ok("POST", f"/v1/policies/{pid}/versions/{last['id']}/acknowledgements", self.records,
                          {"employee_id": f"a-{tag}-{i}"})
        account = await self.account(f"acct-{tag}")
        for i in range(n):
            await self.ok("POST", f"/v1/accounts/{account}/privileges/grant", self.records,
                          {"employee_id": f"h-{tag}-{i}", "reason": "coordinator"})
        return {"policy": pid, "first": first["id"], "current": last["id"], "account": account}

    async def account(self, handle: str) -> str:
        a = await self.ok("POST", "/v1/accounts", self.records, {
            "platform": "facebook", "handle": handle, "profile_url": f"https://www.facebook.com/{handle}",
            "department": "Parks", "purpose": "News", "pio_name": "A PIO", "pio_title": "PIO"})
        return str(a["id"])


def endpoints(p: Paths) -> dict[str, tuple[str, str | None]]:
    """name -> (url, role or None for the public)."""
    pid, first, cur, acct = p["policy"], p["first"], p["current"], p["account"]
    return {
        "policies list": ("/v1/policies?limit=100", None),
        "policies list (staff, unpublished)": ("/v1/policies?limit=100&include_unpublished=true", "policy_editor"),
        "policy detail": (f"/v1/policies/{pid}", None),
        "policy detail (staff)": (f"/v1/policies/{pid}", "policy_editor"),
        "versions": (f"/v1/policies/{pid}/versions?limit=100", None),
        "version detail": (f"/v1/policies/{pid}/versions/{cur}", None),
        "completeness": (f"/v1/policies/{pid}/versions/{cur}/completeness", None),
        "diff": (f"/v1/policies/{pid}/diff?from={first}&to={cur}", None),
        "review status": (f"/v1/policies/{pid}/review", None),
        "reviews": (f"/v1/policies/{pid}/reviews?limit=100", None),
        "history": (f"/v1/policies/{pid}/history?limit=100", None),
        "reviews due": ("/v1/reviews/due?within_days=730&limit=100", "policy_editor"),
        "accounts list": ("/v1/accounts?limit=100", None),
        "account detail": (f"/v1/accounts/{acct}", None),
        "privileges": (f"/v1/accounts/{acct}/privileges?limit=100", "records_manager"),
        "privilege history": (f"/v1/accounts/{acct}/privileges/history?limit=100", "records_manager"),
        "acknowledgements": (f"/v1/policies/{pid}/versions/{cur}/acknowledgements?limit=100", "policy_editor"),
        "missing acknowledgements": (f"/v1/policies/{pid}/acknowledgements/missing?limit=100", "policy_editor"),
        "bound staff": (f"/v1/policies/{pid}/bound?limit=100", "policy_editor"),
        "acknowledgement check": ("/v1/acknowledgements/check?employee_id=a-x-0&on=2025-03-01", "hr"),
        "elements": ("/v1/elements", None),
        "changes": ("/v1/changes?limit=100", "policy_editor"),
        "feed.atom": ("/v1/feed.atom", None),
        "transparency": ("/transparency", None),
        "transparency policy": (f"/transparency/policies/{pid}", None),
        "transparency version": (f"/transparency/policies/{pid}/versions/{first}", None),
        "transparency diff": (f"/transparency/policies/{pid}/diff?from={first}&to={cur}", None),
    }


async def _measure(app: Any, api: httpx.AsyncClient, sign: Callable[..., dict[str, str]],
                   p: Paths) -> dict[str, int]:
    out = {}
    for name, (url, role) in endpoints(p).items():
        headers = sign(role) if role else {}
        await api.get(url, headers=headers)  # warm: the catalogue check, the metrics cache
        with count_statements(app.state.db) as counted:
            r = await api.get(url, headers=headers)
        assert r.status_code == 200, (name, r.status_code, r.text[:300])
        out[name] = counted.n
    return out


async def _build_and_measure(app: Any, sign: Callable[..., dict[str, str]]) -> dict[str, tuple[int, int]]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as api:
        b = Builder(api, sign)
        one = await b.grow("one", 1)
        counts_1 = await _measure(app, api, sign, one)
        fifty = await b.grow("fifty", 50)
        for i in range(48):  # 50 published policies in all
            pid = await b.policy(f"AI-{i}")
            await b.publish(pid, {"sections": [{"heading": "Purpose", "body_markdown": "x"}]})
        for i in range(49):  # 50 accounts in all
            await b.account(f"more-{i}")
        for i in range(50 - len(ELEMENT_KEYS)):  # 50 catalogue elements in all
            await b.ok("PUT", f"/v1/elements/extra_{i}", b.admin, {"title": f"Extra {i}", "required": False})
        counts_50 = await _measure(app, api, sign, fifty)
    return {name: (counts_1[name], counts_50[name]) for name in counts_1}


@pytest.fixture(scope="module")
def measured(_databases: Any, auth_settings: Any) -> Iterator[dict[str, tuple[int, int]]]:
    for db in _databases.values():
        db.reset()
    spec = SERVICES["policy_api"]
    settings = spec.settings(mode="dev", database_url=_databases["policy_api"].url, auto_migrate=False,
                             log_json=True, auth={"dev_key_file": str(auth_settings.dev_key_file)},
                             case_api_url="http://127.0.0.1:9", gc_freeze_after_start=False)
    app = spec.create_app(settings, clock=FrozenClock(START))

    def sign(*roles: str, subject: str = "staff-1") -> dict[str, str]:
        jwt = issue_dev_token(auth_settings, "dev", subject=subject, roles=list(roles))
        return {"Authorization": f"Bearer {jwt}"}

    try:
        yield asyncio.run(_build_and_measure(app, sign))
    finally:
        app.state.peers.close()
        app.state.db.dispose()
        for db in _databases.values():
            db.reset()


@pytest.mark.parametrize("name", list(endpoints({"policy": "p", "first": "f", "current": "c", "account": "a"})))
def test_same_statements_for_1_and_50_rows(measured: dict[str, tuple[int, int]], name: str) -> None:
    at_1, at_50 = measured[name]
    assert at_1 == at_50, f"{name}: {at_1} statements for 1 row, {at_50} for 50"


def test_policies_list_is_two_statements(measured: dict[str, tuple[int, int]]) -> None:
    # the count and one page joined to current versions and last review dates (63 for 20 policies before)
    assert measured["policies list"] == (2, 2)
    assert measured["policy detail"] == (2, 2)
