"""The tamper suite (issue 15): a whole case file is built through the API — two reports about
one post (with evidence metadata and its blob hash), reporter and staff messages, a note, an
involved person, a sustained finding, due process, a decision, a restorative action, and a
monitoring review whose failed item attaches to the case — and then edited directly in the
database, as someone with owner rights would. Every update, insert and delete on every sealed
table is reported by the verification, naming the table, the row and what differs; a later
legitimate write refuses to seal over an edited row; an untouched database verifies ok."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from services.case_api.domain import audit, sealing
from services.case_api.domain.models import Base
from shared.db import Database
from shared.post_urls import incident_key
from shared.timeutil import FrozenClock
from tests.case_api.helpers import forward, idem, move

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POST = "https://facebook.com/abqpolice/posts/77"
EVIDENCE = {"id": "ev-1", "media_type": "image/png", "size_bytes": 1234, "sha256": "ab" * 32}
# the column each update edits (a text column every row has)
EDIT = {"cases": "summary", "case_reports": "reference", "case_notes": "body", "case_messages": "body",
        "case_decisions": "action", "restorative_actions": "owner", "due_process": "proposed_action",
        "case_parties": "declared_by", "reviews": "reviewer", "review_findings": "item_key",
        "monitored_posts": "text"}
# what a forged copy must change besides its id to pass the table's unique constraints
FORGE = {"cases": {"reference": "C-FORGED-1"}, "case_reports": {"report_id": "forged-report"},
         "case_messages": {"external_id": None}, "case_decisions": {"version": 99},
         "case_parties": {"person_key": "forged"}, "review_findings": {"item_key": "forged"},
         "reviews": {"period_start": T0.date() + timedelta(days=3000)}, "monitored_posts": {"url_key": "f" * 64}}


def test_every_table_of_the_case_file_is_sealed() -> None:
    assert set(EDIT) <= set(sealing.REGISTRY)


@contextmanager
def tamper(engine: Engine) -> Iterator[Any]:
    """A transaction with foreign keys and triggers off (owner rights: the append-only trigger and
    referential checks are no obstacle to someone who holds them)."""
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if not sqlite:
                    conn.execute(text("SET LOCAL session_replication_role = replica"))
                yield conn
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


@pytest.fixture
async def registry(make_app, client, token, live):
    """policy_api with one Police account, on loopback (the monitoring sync reads it)."""
    server = live(make_app("policy_api"))
    c = client(make_app("policy_api"))
    r = await c.post("/v1/accounts", headers=token("admin", subject="records-admin"), json={
        "platform": "facebook", "handle": "abqpolice", "profile_url": "https://facebook.com/abqpolice",
        "department": "Police", "purpose": "news"})
    assert r.status_code == 201, r.text
    return {"url": server.url, "account_id": r.json()["id"]}


@pytest.fixture
async def case_file(registry, make_app, client, token) -> dict[str, Any]:
    clock = FrozenClock(T0)
    c = client(make_app("case_api", clock=clock, policy_api_url=registry["url"]))
    svc = token("service:feedback_api", subject="service:feedback_api")
    key = incident_key(POST)
    first = forward(incident_key=key, links=[POST], evidence=[EVIDENCE], has_contact=True)
    r = await c.post("/v1/intake/reports", json=first, headers={**svc, **idem(first["report_id"])})
    assert r.status_code == 201, r.text
    cid = r.json()["case_id"]
    second = forward(incident_key=key, links=[POST], description="I saw the same reply before it was deleted.")
    r = await c.post("/v1/intake/reports", json=second, headers={**svc, **idem(second["report_id"])})
    assert r.status_code == 200 and r.json()["case_id"] == cid, r.text
    r = await c.post(f"/v1/intake/reports/{first['report_id']}/messages", headers={**svc, **idem("m-1")},
                     json={"message_id": "m-1", "body": "I have another screenshot."})
    assert r.status_code == 201, r.text
    inv, hr = token("investigator", subject="inv-1"), token("hr", subject="hr-1")
    assert (await c.post(f"/v1/cases/{cid}/messages", json={"body": "Thank you, please send it.",
                                                            "report_id": first["report_id"]},
                         headers=token("intake", subject="intake-1"))).status_code == 201
    assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": "Called the PIO."}, headers=inv)).status_code == 201
    assert (await move(c, token, cid, "triaged")).status_code == 200
    assert (await move(c, token, cid, "investigating")).status_code == 200
    assert (await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "emp-7"}, headers=inv)).status_code == 200
    assert (await c.post(f"/v1/cases/{cid}/involved", json={"person_id": "emp-8"}, headers=inv)).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/finding", json={"finding": "sustained", "severity": 2}, headers=inv)
    assert r.status_code == 200, r.text
    action = r.json()["recommendation"]["action"]
    r = await c.post(f"/v1/cases/{cid}/proposed-action", json={"action": action, "reason": "Policy 3.2"},
                     headers=hr)
    assert r.status_code in (200, 201), r.text
    notices = (await c.get("/v1/notices", headers=token("investigator", subject="emp-7"))).json()
    notice_id = (notices["items"] if isinstance(notices, dict) else notices)[0]["id"]
    r = await c.post(f"/v1/notices/{notice_id}/response", json={"text": "I was provoked."},
                     headers=token("investigator", subject="emp-7"))
    assert r.status_code in (200, 201), r.text
    assert (await c.post(f"/v1/cases/{cid}/decision", json={"action": action}, headers=hr)).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/restorative-actions", headers=hr, json={
        "kind": "public_correction", "owner": "pio-1", "due_on": "2026-12-20", "description": "Correct it."})
    assert r.status_code == 201, r.text
    # monitoring: a review of the account whose failed item about the same post attaches to the case
    mon = token("monitor", subject="mon-1")
    assert (await c.post("/v1/monitoring/sync", headers=mon)).status_code == 200
    clock.advance(timedelta(days=100))
    r = await c.post("/v1/monitoring/imports", headers=mon, json={"format": "json", "posts": [
        {"url": POST, "account_id": registry["account_id"], "posted_at": (T0 + timedelta(days=2)).isoformat(),
         "text": "Read the rules before you post.", "comments": []}]})
    assert r.json()["imported"] == 1, r.text
    review = (await c.get("/v1/monitoring/reviews", headers=mon)).json()["items"][0]
    r = await c.post(f"/v1/monitoring/reviews/{review['id']}/start", json={"sample_size": 1}, headers=mon)
    assert r.status_code == 200, r.text
    post_id = r.json()["sample"][0]
    r = await c.post(f"/v1/monitoring/reviews/{review['id']}/findings", headers=mon, json={
        "post_id": post_id, "item_key": "no_personal_attacks", "result": "fail", "note": "Mocked a resident."})
    assert r.status_code == 201 and r.json()["case_id"] == cid, r.text
    return {"client": c, "case_id": cid, "restorative_id": (await c.get(
        f"/v1/cases/{cid}/restorative-actions", headers=hr)).json()[0]["id"], "review_id": review["id"],
        "post_id": post_id}


async def _verify(c, token) -> dict[str, Any]:
    r = await c.get("/v1/audit/verify", headers=token("auditor"))
    assert r.status_code == 200, r.text
    return r.json()


def _first_ids(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT id FROM "{t}" ORDER BY id')).scalars().first() for t in EDIT}


async def test_an_untouched_case_file_verifies(case_file, token, databases):
    r = await _verify(case_file["client"], token)
    assert r["ok"] is True and r["row_problems"] == [] and r["first_broken_seq"] is None
    ids = _first_ids(databases["case_api"].engine)
    assert all(ids.values()), ids  # the case file has a row in every sealed table
    assert r["rows_checked"] >= len(EDIT)


async def test_an_update_of_every_table_is_named_with_what_differs(case_file, token, databases):
    engine = databases["case_api"].engine
    ids = _first_ids(engine)
    with tamper(engine) as conn:
        for table, column in EDIT.items():
            conn.execute(text(f'UPDATE "{table}" SET "{column}" = :v WHERE id = :id'),
                         {"v": "tampered", "id": ids[table]})
    r = await _verify(case_file["client"], token)
    assert r["ok"] is False and r["first_broken_seq"] is None  # the chain itself is intact
    found = {p["table"]: p for p in r["row_problems"]}
    assert set(found) == set(EDIT)
    for table, column in EDIT.items():
        assert found[table]["id"] == ids[table] and "edited outside" in found[table]["problem"]
        assert found[table]["differs"] == [column], (table, found[table])


async def test_a_changed_evidence_hash_is_named(case_file, token, databases):
    engine = databases["case_api"].engine
    cid = case_file["case_id"]
    with engine.connect() as conn:
        evidence = conn.execute(select(Base.metadata.tables["cases"].c.evidence)
                                .where(Base.metadata.tables["cases"].c.id == cid)).scalar_one()
    assert evidence[0]["sha256"] == EVIDENCE["sha256"]  # the blob's hash is part of the sealed record
    evidence[0]["sha256"] = "cd" * 32
    with tamper(engine) as conn:
        cases = Base.metadata.tables["cases"]
        conn.execute(cases.update().where(cases.c.id == cid).values(evidence=evidence))
    r = await _verify(case_file["client"], token)
    assert [(p["table"], p["id"], p["differs"]) for p in r["row_problems"]] == [("cases", cid, ["evidence"])]


async def test_a_delete_from_every_table_is_named(case_file, token, databases):
    engine = databases["case_api"].engine
    ids = _first_ids(engine)
    with tamper(engine) as conn:
        for table in EDIT:
            conn.execute(text(f'DELETE FROM "{table}" WHERE id = :id'), {"id": ids[table]})
    r = await _verify(case_file["client"], token)
    found = {(p["table"], p["id"]): p["problem"] for p in r["row_problems"]}
    for table in EDIT:
        assert "missing (deleted outside the application)" in found[(table, ids[table])], table


async def test_an_insert_into_every_table_is_named(case_file, token, databases):
    engine = databases["case_api"].engine
    ids = _first_ids(engine)
    with tamper(engine) as conn:
        for table in EDIT:
            t = Base.metadata.tables[table]
            row = dict(conn.execute(select(t).where(t.c.id == ids[table])).mappings().one())
            conn.execute(t.insert().values({**row, "id": f"forged-{table}"[:36], **FORGE.get(table, {})}))
    r = await _verify(case_file["client"], token)
    found = {(p["table"], p["id"]): p["problem"] for p in r["row_problems"]}
    assert len(found) == len(EDIT)
    for table in EDIT:
        assert found[(table, f"forged-{table}"[:36])] == "row has no audit entry (inserted outside the application)"


async def test_a_legitimate_write_refuses_to_seal_over_an_edited_row(case_file, token, databases):
    """Laundering: edit a sealed field in SQL, then make an ordinary change through the API."""
    c, cid = case_file["client"], case_file["case_id"]
    engine = databases["case_api"].engine
    hr = token("hr", subject="hr-1")
    with tamper(engine) as conn:
        conn.execute(text("UPDATE restorative_actions SET owner = 'nobody' WHERE id = :id"),
                     {"id": case_file["restorative_id"]})
    r = await c.post(f"/v1/restorative-actions/{case_file['restorative_id']}/status", headers=hr,
                     json={"status": "in_progress"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["integrity"] == "broken" and body["table"] == "restorative_actions"
    assert body["row_id"] == case_file["restorative_id"] and body["differs"] == ["owner"]
    with tamper(engine) as conn:
        conn.execute(text("UPDATE cases SET summary = 'nothing happened' WHERE id = :id"), {"id": cid})
    r = await move(c, token, cid, "closed", role="hr", outcome_summary="Handled.")
    assert r.status_code == 409 and r.json()["table"] == "cases" and r.json()["differs"] == ["summary"]
    with tamper(engine) as conn:
        conn.execute(text("UPDATE reviews SET reviewer = 'someone' WHERE id = :id"), {"id": case_file["review_id"]})
    # a finding recorded on the review leaves the review row alone: it is not sealed over either
    r = await c.post(f"/v1/monitoring/reviews/{case_file['review_id']}/findings", headers=token("monitor"), json={
        "post_id": case_file["post_id"], "item_key": "respectful_and_professional", "result": "pass"})
    assert r.status_code == 201, r.text
    # nothing was sealed over: the verification still names all three
    problems = {(p["table"], tuple(p["differs"])) for p in (await _verify(c, token))["row_problems"]}
    assert problems == {("restorative_actions", ("owner",)), ("cases", ("summary",)), ("reviews", ("reviewer",))}


async def test_verification_and_the_write_check_walk_the_entire_history(case_file, token, databases):
    """More than 500 later entries on the case do not hide the seal of an edited row."""
    c, cid = case_file["client"], case_file["case_id"]
    db = Database(databases["case_api"].url, pool_size=1)
    try:
        with db.write() as s:
            for _ in range(600):
                audit.append(s, actor="admin-1", action="case.confidential_read", case_id=cid,
                             detail={"fields": ["employee_id"]}, now=T0)
    finally:
        db.dispose()
    assert (await _verify(c, token))["ok"] is True
    with tamper(databases["case_api"].engine) as conn:
        conn.execute(text("UPDATE case_notes SET body = 'rewritten' WHERE case_id = :id"), {"id": cid})
        conn.execute(text("UPDATE cases SET assignee = 'inv-9' WHERE id = :id"), {"id": cid})
    r = await _verify(c, token)
    assert {p["table"] for p in r["row_problems"]} == {"case_notes", "cases"}
    r = await c.post(f"/v1/cases/{cid}/assignee", json={"assignee": "inv-2"}, headers=token("investigator"))
    assert r.status_code == 409 and r.json()["differs"] == ["assignee"]


async def test_postgresql_refuses_truncate_and_the_app_role_cannot_disable_triggers(make_app, client, token,
                                                                                    databases):
    engine = databases["case_api"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("roles and triggers exist on PostgreSQL only (SQLite relies on the chain and checkpoints)")
    c = client(make_app("case_api"))
    r = await c.post("/v1/cases", headers=token("intake"), json={"department": "Police", "summary": "x",
                                                                 "categories": ["personal_attack"]})
    assert r.status_code == 201
    for table in ("audit_entries", "audit_head"):  # even the owner's TRUNCATE is refused
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table}"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    # the application role, granted as deploy/postgres-init.sh grants it
    app_role = f"cs_app_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{app_role}" NOLOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{app_role}"'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{app_role}"'))
    try:
        for stmt in ("TRUNCATE audit_entries", "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only",
                     "ALTER TABLE audit_entries DISABLE TRIGGER ALL", "DROP TRIGGER audit_entries_no_truncate ON "
                     "audit_entries", "SET session_replication_role = replica"):
            with pytest.raises(DBAPIError, match=r"permission denied|must be owner|append-only"), \
                    engine.begin() as conn:
                conn.execute(text(f'SET LOCAL ROLE "{app_role}"'))
                conn.execute(text(stmt))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f'SET LOCAL ROLE "{app_role}"'))
            conn.execute(text("DELETE FROM audit_entries"))
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{app_role}"'))
            conn.execute(text(f'DROP ROLE "{app_role}"'))
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True


async def test_lawful_destruction_verifies_as_destroyed_not_missing(make_app, client, token, databases):
    """The contract the retention purge builds on: delete (or blank) the row, then record_destruction."""
    from datetime import date

    from services.case_api.domain.models import CaseNote

    c = client(make_app("case_api"))
    r = await c.post("/v1/cases", headers=token("intake"), json={"department": "Police", "summary": "x",
                                                                 "categories": ["personal_attack"]})
    cid = r.json()["id"]
    for body in ("kept", "destroyed"):
        assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": body},
                             headers=token("investigator"))).status_code == 201
    db = Database(databases["case_api"].url, pool_size=1)
    try:
        with db.write() as s:
            note = s.scalars(select(CaseNote).where(CaseNote.body == "destroyed")).one()
            note_id = note.id
            s.delete(note)
            sealing.record_destruction(s, case_id=cid, table="case_notes", row_id=note_id, schedule="case_file",
                                       on=date(2031, 1, 2), now=T0)
    finally:
        db.dispose()
    r = await _verify(c, token)
    assert r["ok"] is True, r
    assert [(d["table"], d["id"], d["status"]) for d in r["destroyed"]] == [
        ("case_notes", note_id, "destroyed under schedule case_file on 2031-01-02")]
