"""Truncation is visible (issue 15 item 3): case_api signs checkpoints of its chain head with an
Ed25519 key kept in a file, its outbox delivers them to policy_api, which verifies and keeps them
and shows the latest publicly; `audit verify` (API and CLI) compares the database with the latest
published checkpoint and reports the entries missing since. Real apps on loopback, no mocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from services.case_api.domain import audit
from services.cli import app as cli
from shared import signing
from shared.db import Database
from shared.schemas.checkpoints import ChainCheckpoint
from shared.timeutil import FrozenClock
from tests.case_api.helpers import move, staff_case
from tests.support.sqlcount import count_statements

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "checkpoint.pem"
    signing.generate_key_file(path)
    return path


@pytest.fixture
def witness(make_app, live, key_file):
    """policy_api on loopback, configured with case_api's checkpoint public key."""
    pem = signing.public_pem(signing.load_private_key(key_file))
    app = make_app("policy_api", checkpoint_public_key=pem)
    return {"server": live(app), "app": app}


def _append(url: str, case_id: str, n: int) -> None:
    """Entries that seal no row (confidential reads): removing them changes no case-file row."""
    db = Database(url, pool_size=1)
    try:
        with db.write() as s:
            for _ in range(n):
                audit.append(s, actor="admin-1", action="case.confidential_read", case_id=case_id,
                             detail={"fields": ["employee_id"]}, now=T0)
    finally:
        db.dispose()


async def test_a_checkpoint_is_signed_published_and_truncation_is_reported(make_app, client, token, databases,
                                                                           witness, key_file):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, policy_api_url=witness["server"].url,
                   checkpoint_key_file=str(key_file))
    c = client(app)
    cid = (await staff_case(c, token))["id"]
    assert (await move(c, token, cid, "triaged")).status_code == 200
    _append(databases["case_api"].url, cid, 3)
    cp = app.state.checkpointer.run_once()
    assert cp is not None and app.state.checkpointer.run_once() is None  # head unchanged: nothing new
    assert app.state.relay.drain() == 1
    public = client(make_app("policy_api"))
    latest = (await public.get("/v1/public/checkpoints/latest")).json()
    assert (latest["seq"], latest["head_hash"], latest["key_id"]) == (cp.seq, cp.head_hash, signing.key_id(
        signing.load_private_key(key_file)))
    r = (await c.get("/v1/audit/verify", headers=token("auditor"))).json()
    assert r["ok"] is True and r["checkpoint"]["ok"] is True and r["checkpoint"]["source"] == "witness"
    assert r["checkpoint"]["signature_valid"] is True and r["checkpoint"]["seq"] == cp.seq

    # the newest three entries are deleted and the head moved back: the chain agrees with itself ...
    with databases["case_api"].engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_entries WHERE seq > :s"), {"s": cp.seq - 3})
        conn.execute(text("UPDATE audit_head SET seq = e.seq, hash = e.hash FROM (SELECT seq, hash FROM audit_entries "
                          "WHERE seq = :s) AS e WHERE audit_head.id = 1"), {"s": cp.seq - 3})
    r = (await c.get("/v1/audit/verify", headers=token("auditor"))).json()
    assert r["first_broken_seq"] is None and r["row_problems"] == []
    # ... but not with the witness
    assert r["ok"] is False and r["checkpoint"]["ok"] is False
    assert (r["checkpoint"]["missing_from_seq"], r["checkpoint"]["missing_count"]) == (cp.seq - 2, 3)
    assert f"entries {cp.seq - 2}..{cp.seq}" in r["checkpoint"]["problem"]
    out = CliRunner().invoke(cli, ["audit", "verify", "--database-url", databases["case_api"].url,
                                   "--witness-url", witness["server"].url, "--key-file", str(key_file)])
    assert out.exit_code == 1 and '"missing_count": 3' in out.output, out.output


async def test_the_witness_keeps_only_what_verifies(make_app, client, token, witness, key_file, tmp_path):
    c = client(witness["app"])
    svc = token("service:case_api", subject="service:case_api")
    key = signing.load_private_key(key_file)
    draft = ChainCheckpoint(seq=7, head_hash="a" * 64, at=T0, key_id=signing.key_id(key), signature="-")
    good = draft.model_copy(update={"signature": signing.sign(key, draft.payload())})
    url = "/v1/internal/checkpoints"
    assert (await c.post(url, json=good.model_dump(mode="json"))).status_code == 401
    assert (await c.post(url, json=good.model_dump(mode="json"), headers=token("admin"))).status_code == 403
    r = await c.post(url, json=good.model_dump(mode="json"), headers=svc)
    assert r.status_code == 201, r.text
    assert (await c.post(url, json=good.model_dump(mode="json"), headers=svc)).status_code == 200  # redelivery
    forged = good.model_copy(update={"head_hash": "b" * 64})  # signature of another head
    assert (await c.post(url, json=forged.model_dump(mode="json"), headers=svc)).status_code == 422
    other = signing.generate_key_file(tmp_path / "other.pem")
    by_other = draft.model_copy(update={"key_id": signing.key_id(other), "seq": 8})
    by_other = by_other.model_copy(update={"signature": signing.sign(other, by_other.payload())})
    assert (await c.post(url, json=by_other.model_dump(mode="json"), headers=svc)).status_code == 422
    # a validly signed, different head for a seq already witnessed: kept, flagged, refused
    rewritten = draft.model_copy(update={"head_hash": "c" * 64})
    rewritten = rewritten.model_copy(update={"signature": signing.sign(key, rewritten.payload())})
    r = await c.post(url, json=rewritten.model_dump(mode="json"), headers=svc)
    assert r.status_code == 422 and r.json()["conflicts"] is True
    listed = (await c.get("/v1/public/checkpoints")).json()
    assert sorted((x["head_hash"][0], x["conflicts"]) for x in listed) == [("a", False), ("c", True)]
    assert (await c.get("/v1/public/checkpoints/latest")).json()["head_hash"] == "a" * 64
    unconfigured = client(make_app("policy_api"))
    assert (await unconfigured.post(url, json=good.model_dump(mode="json"), headers=svc)).status_code == 503


async def test_the_checkpoint_list_has_a_fixed_query_shape(make_app, client, token, witness, key_file):
    app = witness["app"]
    c = client(app)
    svc = token("service:case_api", subject="service:case_api")
    key = signing.load_private_key(key_file)
    counts, seq = [], 0
    for n in (1, 50):
        for _ in range(n):
            seq += 1
            d = ChainCheckpoint(seq=seq, head_hash=f"{seq:064x}", at=T0 + timedelta(seconds=seq),
                                key_id=signing.key_id(key), signature="-")
            d = d.model_copy(update={"signature": signing.sign(key, d.payload())})
            assert (await c.post("/v1/internal/checkpoints", json=d.model_dump(mode="json"),
                                 headers=svc)).status_code == 201
        with count_statements(app.state.db) as counted:
            r = await c.get("/v1/public/checkpoints", params={"limit": 50})
        assert len(r.json()) == min(seq, 50)
        counts.append(counted.n)
    assert counts[0] == counts[1]


async def test_the_latest_checkpoint_is_on_the_transparency_page_and_in_the_feed(make_app, client, token, witness,
                                                                                 key_file):
    c = client(witness["app"])
    key = signing.load_private_key(key_file)
    d = ChainCheckpoint(seq=41, head_hash="d" * 64, at=T0, key_id=signing.key_id(key), signature="-")
    d = d.model_copy(update={"signature": signing.sign(key, d.payload())})
    assert "records-integrity" not in (await c.get("/transparency")).text  # nothing witnessed yet
    r = await c.post("/v1/internal/checkpoints", json=d.model_dump(mode="json"),
                     headers=token("service:case_api", subject="service:case_api"))
    assert r.status_code == 201
    page = (await c.get("/transparency")).text
    assert "entry 41" in page and "d" * 64 in page and signing.key_id(key) in page
    assert "entrada 41" in (await c.get("/transparency", params={"lang": "es"})).text
    feed = (await c.get("/v1/feed.atom")).text
    assert "urn:civicsocial:audit-checkpoint:41:" in feed and "audit entry 41" in feed


def test_the_council_report_cites_the_latest_checkpoint(token, witness, key_file):
    key = signing.load_private_key(key_file)
    d = ChainCheckpoint(seq=42, head_hash="e" * 64, at=T0, key_id=signing.key_id(key), signature="-")
    d = d.model_copy(update={"signature": signing.sign(key, d.payload())})
    with httpx.Client(base_url=witness["server"].url, timeout=60) as c:
        assert c.post("/v1/internal/checkpoints", json=d.model_dump(mode="json"),
                      headers=token("service:case_api", subject="service:case_api")).status_code == 201
        r = c.post("/v1/council-reports", headers=token("policy_approver"))
        assert r.status_code in (200, 201), r.text
        html = c.get(r.json()["html_url"], headers=token("policy_approver")).text
    assert "entry 42" in html and "e" * 64 in html and "publishes no signed audit checkpoint" not in html
