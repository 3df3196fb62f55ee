"""The audit trail in the database: every change is an entry; a row edited or deleted directly
in SQL is detected by the endpoint and the CLI, which name the first broken link."""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from services.cli import app as cli
from tests.case_api.helpers import move, staff_case


@contextmanager
def tamper(databases):
    """A connection that writes to the database directly, as someone with owner rights would: on
    PostgreSQL they first have to switch off the append-only trigger (and we switch it back on)."""
    engine = databases["case_api"].engine
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if pg:
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        try:
            yield conn
        finally:
            if pg:
                conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))


async def _history(c, token) -> str:
    case = await staff_case(c, token)
    await move(c, token, case["id"], "triaged")
    await c.post(f"/v1/cases/{case['id']}/notes", json={"body": "Called the PIO."}, headers=token("investigator"))
    await move(c, token, case["id"], "investigating")
    return case["id"]


async def test_changes_are_chained_and_verify(make_app, client, token):
    c = client(make_app("case_api"))
    case_id = await _history(c, token)
    aud = token("auditor")
    r = await c.get("/v1/audit/verify", headers=aud)
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["entries_checked"] == 4
    entries = (await c.get(f"/v1/audit/cases/{case_id}", headers=aud)).json()
    assert [e["action"] for e in entries] == ["case.created", "case.transition", "note.added", "case.transition"]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    assert (await c.get("/v1/audit/verify", headers=token("investigator"))).status_code == 403


async def test_direct_sql_update_is_detected(make_app, client, token, databases):
    c = client(make_app("case_api"))
    await _history(c, token)
    with tamper(databases) as conn:
        conn.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2"))
    r = (await c.get("/v1/audit/verify", headers=token("auditor"))).json()
    assert r["ok"] is False and r["first_broken_seq"] == 2 and "edited" in r["problem"]


async def test_direct_sql_delete_is_detected_in_the_middle_and_at_the_end(make_app, client, token, databases):
    c = client(make_app("case_api"))
    await _history(c, token)
    with tamper(databases) as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 4"))
    r = (await c.get("/v1/audit/verify", headers=token("admin"))).json()
    assert r["ok"] is False and r["first_broken_seq"] == 4
    with tamper(databases) as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    r = (await c.get("/v1/audit/verify", headers=token("admin"))).json()
    assert r["ok"] is False and r["first_broken_seq"] == 2


async def test_cli_audit_verify(make_app, client, token, databases):
    c = client(make_app("case_api"))
    await _history(c, token)
    url = databases["case_api"].url
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", "--database-url", url])
    assert ok.exit_code == 0 and '"ok": true' in ok.output
    with tamper(databases) as conn:
        conn.execute(text("UPDATE audit_entries SET detail = '{\"to\": \"closed\"}' WHERE seq = 3"))
    bad = runner.invoke(cli, ["audit", "verify", "--database-url", url])
    assert bad.exit_code == 1 and '"first_broken_seq": 3' in bad.output


async def test_direct_sql_edit_of_a_case_row_is_detected_and_refused(make_app, client, token, databases):
    c = client(make_app("case_api"))
    case_id = await _history(c, token)
    other = await staff_case(c, token, department="Parks")
    aud = token("auditor")
    assert (await c.get("/v1/audit/verify", headers=aud)).json()["rows_checked"] == 3  # two cases and a note
    with databases["case_api"].engine.begin() as conn:  # someone quietly moves a case, and deletes another
        conn.execute(text("UPDATE cases SET department = 'Transit' WHERE id = :id"), {"id": case_id})
        conn.execute(text("DELETE FROM cases WHERE id = :id"), {"id": other["id"]})
    r = (await c.get("/v1/audit/verify", headers=aud)).json()
    assert r["ok"] is False and r["first_broken_seq"] is None  # the chain itself is intact ...
    problems = {p["id"]: p["problem"] for p in r["row_problems"]}
    assert "edited outside" in problems[case_id] and "deleted" in problems[other["id"]]
    # ... and nobody can build on the edited record until it is sorted out
    r = await move(c, token, case_id, "dismissed", reason="cover it up")
    assert r.status_code == 409 and r.json()["integrity"] == "broken"


async def test_a_case_row_inserted_in_sql_is_detected(make_app, client, token, databases):
    c = client(make_app("case_api"))
    await _history(c, token)
    with databases["case_api"].engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (id, reference, source, state, state_entered_at, department, categories, summary, "
            "links, evidence, created_at, updated_at) VALUES ('forged', 'C-FAKE-0001', 'staff', 'closed', "
            "'2026-01-01 00:00:00+00:00', 'Police', '[]', 'x', '[]', '[]', '2026-01-01 00:00:00+00:00', "
            "'2026-01-01 00:00:00+00:00')"))
    r = (await c.get("/v1/audit/verify", headers=token("auditor"))).json()
    assert r["ok"] is False and r["row_problems"] == [
        {"table": "cases", "id": "forged", "case_id": "forged",
         "problem": "row has no audit entry (inserted outside the application)", "differs": []}]


async def test_postgresql_refuses_updates_and_deletes_of_audit_entries(make_app, client, token, databases):
    engine = databases["case_api"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only (SQLite relies on the chain)")
    c = client(make_app("case_api"))
    await _history(c, token)
    for stmt in ("UPDATE audit_entries SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_entries WHERE seq = 1"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True
