"""Guarantees the database keeps by itself, the append-only change log, and the 413/422 edges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from services.policy_api.domain.changelog import AppendOnlyViolation
from services.policy_api.domain.models import ChangeLogEntry, PolicyVersion
from tests.policy_api.helpers import create_draft, create_policy, published_policy
from tests.policy_api.test_registry import create_account

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _version(policy_id: str, number: int, state: str) -> PolicyVersion:
    return PolicyVersion(policy_id=policy_id, number=number, label=str(number), state=state, author_id="x",
                         contributors=["x"], created_at=NOW, updated_at=NOW)


async def test_one_open_and_one_published_version_per_policy(app, api, token):
    policy, _ = await published_policy(api, token)
    await create_draft(api, token, policy["id"])
    for number, state in ((10, "draft"), (11, "published")):
        with pytest.raises(IntegrityError), app.state.db.write() as session:
            session.add(_version(policy["id"], number, state))


async def test_change_log_is_append_only(app, api, token):
    await create_policy(api, token)
    with app.state.db.read() as session:  # the refusal comes before any SQL; nothing is committed
        entry = session.exec(select(ChangeLogEntry)).first()
        entry.actor = "someone else"
        session.add(entry)
        with pytest.raises(AppendOnlyViolation):
            session.flush()
        session.rollback()
        entry = session.exec(select(ChangeLogEntry)).first()
        session.delete(entry)
        with pytest.raises(AppendOnlyViolation):
            session.flush()


async def test_oversized_body_is_413(api, token):
    policy = await create_policy(api, token)
    huge = [{"heading": f"S{i}", "body_markdown": "x" * 90_000} for i in range(15)]
    r = await api.post(f"/v1/policies/{policy['id']}/versions", json={"sections": huge},
                       headers=token("policy_editor"))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_validation_422_has_field_paths(api, token):
    r = await api.post("/v1/policies", json={"kind": "memo", "identifier": "", "title": "T", "department": "D",
                                             "surprise": 1}, headers=token("policy_editor"))
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["errors"]}
    assert {("body", "kind"), ("body", "identifier"), ("body", "surprise")} <= locs
    r = await api.get("/v1/acknowledgements/check", params={"employee_id": "e", "on": "not-a-date"},
                      headers=token("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "on"]


async def test_duplicate_identifier_is_409(api, token):
    await create_policy(api, token)
    r = await api.post("/v1/policies", json={"kind": "other", "identifier": "smp-1", "title": "T",
                                             "department": "D"}, headers=token("policy_editor"))
    assert r.status_code == 409


async def test_no_grants_on_a_retired_account(api, staff):
    acct = await create_account(api, staff, status="retired")
    r = await api.post(f"/v1/accounts/{acct['id']}/privileges/grant", json={"employee_id": "e", "reason": "r"},
                       headers=staff("records_manager"))
    assert r.status_code == 409


async def test_nul_characters_are_4xx_never_5xx(api, token):
    for path in ("/v1/policies/abc%00def", "/v1/accounts/abc%00def", "/transparency/policies/a%00b"):
        r = await api.get(path)
        assert r.status_code in (404, 422), (path, r.status_code)
    r = await api.get("/v1/accounts", params={"department": "\x00"})
    assert r.status_code in (200, 422)
    r = await api.post("/v1/policies", json={"kind": "other", "identifier": "A\x00", "title": "T", "department": "D"},
                       headers=token("policy_editor"))
    assert r.status_code in (201, 422)
    assert r.headers["content-type"].startswith("application/json" if r.status_code == 201 else "application/problem")
