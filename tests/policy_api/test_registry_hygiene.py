"""Issue 20 item 6: registry hygiene (both databases)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.policy_api.domain.handles import clean, handle_key
from shared.db import make_engine
from shared.migrations import upgrade
from tests.support.databases import PG_ADMIN_URL

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "policy_api" / "migrations"


@pytest.mark.parametrize(("raw", "shown", "key"), [
    ("ABQPolice.bsky.social", "ABQPolice.bsky.social", "abqpolice.bsky.social"),
    ("@abqpolice.bsky.social", "@abqpolice.bsky.social", "abqpolice.bsky.social"),
    ("https://bsky.app/profile/ABQPolice.bsky.social", "ABQPolice.bsky.social", "abqpolice.bsky.social"),
    ("  bsky.app/profile/abqpolice.bsky.social/ ", "abqpolice.bsky.social", "abqpolice.bsky.social"),
    ("https://www.facebook.com/AlbuquerquePolice/", "AlbuquerquePolice", "albuquerquepolice"),
    ("https://www.facebook.com/profile.php?id=1000123", "profile.php?id=1000123", "profile.php?id=1000123"),
    ("https://x.com/CABQ", "CABQ", "cabq"),
    ("twitter.com/cabq", "cabq", "cabq"),
    ("https://www.youtube.com/@GOV16ABQ", "@GOV16ABQ", "gov16abq"),
    ("https://nextdoor.com/agency/city-of-albuquerque/", "city-of-albuquerque", "city-of-albuquerque"),
    ("City  of Albuquerque", "City of Albuquerque", "city of albuquerque"),
])
def test_handles_are_normalised(raw, shown, key):
    assert clean(raw) == shown and handle_key(raw) == key


ACCOUNT = {"platform": "bluesky", "handle": "ABQPolice.bsky.social", "department": "Police",
           "profile_url": "https://bsky.app/profile/abqpolice.bsky.social"}


async def test_the_same_account_cannot_be_registered_twice(api, token):
    rm = token("records_manager")
    r = await api.post("/v1/accounts", json=ACCOUNT, headers=rm)
    assert r.status_code == 201 and r.json()["handle"] == "ABQPolice.bsky.social"
    first = r.json()["id"]
    for spelling in ("@abqpolice.bsky.social", "https://bsky.app/profile/abqpolice.bsky.social",
                     " ABQPOLICE.bsky.social"):
        r = await api.post("/v1/accounts", json={**ACCOUNT, "handle": spelling}, headers=rm)
        assert r.status_code == 409, spelling
        assert r.json()["type"] == "urn:civicsocial:problem:duplicate-account" and r.json()["existing_id"] == first
    # Another platform may have the same name; renaming another account onto it is a 409 too.
    r = await api.post("/v1/accounts", json={**ACCOUNT, "platform": "x", "handle": "@ABQPolice",
                                             "profile_url": "https://x.com/abqpolice"}, headers=rm)
    assert r.status_code == 201
    other = (await api.post("/v1/accounts", json={**ACCOUNT, "handle": "abqfire.bsky.social"}, headers=rm)).json()
    r = await api.patch(f"/v1/accounts/{other['id']}", json={"handle": "@AbqPolice.bsky.social"}, headers=rm)
    assert r.status_code == 409
    r = await api.post("/v1/accounts", json={**ACCOUNT, "handle": "@"}, headers=rm)
    assert r.status_code == 422
    listed = (await api.get("/v1/accounts", params={"platform": "bluesky"})).json()
    assert listed["total"] == 2


def _fresh_database(backend: str, tmp_path: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'policy_migration.db'}", None
    name = f"cs_test_policy_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False), name


def test_the_migration_normalises_existing_accounts(db_backend, tmp_path):
    url, pg_name = _fresh_database(db_backend, tmp_path)
    try:
        upgrade(MIGRATIONS, url, "0008")
        engine = make_engine(url, pool_size=1)
        now = datetime(2024, 1, 1, tzinfo=UTC)
        rows = [("a1", "bluesky", "ABQPolice.bsky.social"), ("a2", "bluesky", "@abqpolice.bsky.social"),
                ("a3", "x", "https://x.com/CABQ")]
        with engine.begin() as conn:
            for i, (account_id, platform, handle) in enumerate(rows):
                conn.execute(text(
                    "INSERT INTO accounts (id, platform, handle, profile_url, department, purpose, status, "
                    "created_at, updated_at) VALUES (:id, :p, :h, 'https://example.org', 'Police', '', 'active', "
                    ":at, :at)"), {"id": account_id, "p": platform, "h": handle, "at": now.replace(minute=i)})
        engine.dispose()
        upgrade(MIGRATIONS, url)
        engine = make_engine(url, pool_size=1)
        with engine.begin() as conn:
            got = conn.execute(text("SELECT id, handle, handle_key FROM accounts ORDER BY id")).all()
            assert [tuple(r) for r in got] == [
                ("a1", "ABQPolice.bsky.social", "abqpolice.bsky.social"),
                ("a2", "@abqpolice.bsky.social", "abqpolice.bsky.social#duplicate-of-a1"),
                ("a3", "CABQ", "cabq"),
            ]
        with pytest.raises(Exception, match=r"(?i)unique"), engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO accounts (id, platform, handle, handle_key, profile_url, department, purpose, status, "
                "created_at, updated_at) VALUES ('a4', 'x', '@cabq', 'cabq', 'https://example.org', 'Police', '', "
                "'active', :at, :at)"), {"at": now})
        engine.dispose()
    finally:
        if pg_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


async def test_no_grants_on_a_suspended_account(api, token):
    rm = token("records_manager")
    account = (await api.post("/v1/accounts", json=ACCOUNT, headers=rm)).json()
    await api.patch(f"/v1/accounts/{account['id']}", json={"status": "suspended"}, headers=rm)
    r = await api.post(f"/v1/accounts/{account['id']}/privileges/grant", json={"employee_id": "e-1", "reason": "PIO"},
                       headers=rm)
    assert r.status_code == 409 and r.json()["type"] == "urn:civicsocial:problem:account-not-active"
    assert r.json()["account_status"] == "suspended"
    history = (await api.get(f"/v1/accounts/{account['id']}/privileges/history", headers=rm)).json()
    assert history["total"] == 0


async def test_regranting_what_a_case_revoked_needs_the_case_and_a_reason(api, token):
    rm, svc = token("records_manager", subject="rm-1"), token("service:case_api", subject="service:case_api")
    account = (await api.post("/v1/accounts", json=ACCOUNT, headers=rm)).json()
    url = f"/v1/accounts/{account['id']}/privileges"
    await api.post(url + "/grant", json={"employee_id": "emp-7", "reason": "PIO"}, headers=rm)
    r = await api.post(url + "/revoke", json={"employee_id": "emp-7", "reason": "Restorative action",
                                              "case_reference": "C-2025-ABCD"}, headers=svc)
    assert r.status_code == 200 and r.json()["changed"] is True
    r = await api.post(url + "/grant", json={"employee_id": "emp-7", "reason": "Back"}, headers=rm)
    assert r.status_code == 422
    problem = r.json()
    assert problem["revoked_by_case"] == "C-2025-ABCD"
    assert [e["type"] for e in problem["errors"]] == ["case_reference_required", "reason_required"]
    r = await api.post(url + "/grant", json={"employee_id": "emp-7", "reason": "Training completed",
                                             "case_reference": "C-2025-OTHER"}, headers=rm)
    assert r.status_code == 422 and [e["loc"] for e in r.json()["errors"]] == [["body", "case_reference"]]
    r = await api.post(url + "/grant", json={"employee_id": "emp-7", "reason": "Training completed (case closed)",
                                             "case_reference": "c-2025-abcd"}, headers=rm)
    assert r.status_code == 200 and r.json()["changed"] is True
    history = (await api.get(url + "/history", headers=rm)).json()["items"]
    assert [(e["action"], e["case_reference"], e["reason"], e["actor"]) for e in history] == [
        ("granted", None, "PIO", "rm-1"),
        ("revoked", "C-2025-ABCD", "Restorative action", "service:case_api"),
        ("granted", "C-2025-ABCD", "Training completed (case closed)", "rm-1"),
    ]
    # A revocation by records staff without a case is lifted by an ordinary grant.
    await api.post(url + "/revoke", json={"employee_id": "emp-7", "reason": "Left the team"}, headers=rm)
    r = await api.post(url + "/grant", json={"employee_id": "emp-7", "reason": "Rejoined"}, headers=rm)
    assert r.status_code == 200
