"""Issue 15 item 5: retention and legal hold. Purging an expired case passes verification (each
row reported "destroyed under schedule case_file on D"), and on SQLite leaves its content in
neither the database file nor its -wal; a legal hold on the employee stops the purge until it is
released; the schedule is configurable and names the source of each default."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import make_url

from services.case_api.domain import audit
from shared.timeutil import FrozenClock
from tests.case_api.helpers import forward, idem, move
from tests.support.rawfile import read_raw
from tests.support.sqlcount import count_statements

T0 = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
SEVEN_YEARS = timedelta(days=7 * 365)
T_OLD = datetime(2015, 1, 5, 16, 0, tzinfo=UTC)  # more than six years before any run of the tests


async def _closed_case(c, token, marker: str, employee: str | None = None) -> str:
    svc = token("service:feedback_api", subject="service:feedback_api")
    body = forward(description=f"Reply insulted me {marker}", links=[f"https://facebook.com/abqpolice/posts/{marker}"])
    r = await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
    cid = r.json()["case_id"]
    inv = token("investigator", subject="inv-1")
    assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": f"note {marker}"}, headers=inv)).status_code == 201
    if employee:
        assert (await move(c, token, cid, "triaged")).status_code == 200
        assert (await move(c, token, cid, "investigating")).status_code == 200
        r = await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": employee}, headers=inv)
        assert r.status_code == 200, r.text
        r = await c.post(f"/v1/cases/{cid}/finding", json={"finding": "unfounded"}, headers=inv)
        assert r.status_code == 200, r.text
        r = await move(c, token, cid, "closed", outcome_summary="Reviewed; no violation found.")
    else:
        r = await move(c, token, cid, "dismissed", reason="Not an official account.",
                       outcome_summary="This account is not an official City account.")
    assert r.status_code == 200, r.text
    return cid


def _raw_files(url: str) -> list[Path]:
    path = Path(make_url(url).database or "")
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]


async def test_purging_an_expired_case_verifies_and_leaves_nothing_readable(make_app, client, token, databases,
                                                                            db_backend):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, relay_enabled=False)
    c = client(app)
    marker = "DESTROYME-" + uuid.uuid4().hex
    keep = "KEEPME-" + uuid.uuid4().hex
    cid = await _closed_case(c, token, marker)
    clock.advance(SEVEN_YEARS)
    kept = await _closed_case(c, token, keep)  # closed today: not expired
    rm = token("records_manager", subject="records-1")
    schedule = (await c.get("/v1/retention/schedule", headers=rm)).json()
    by_class = {x["record_class"]: x for x in schedule}
    assert by_class["export_requests"]["source"].startswith("1.21.2.519 NMAC")
    assert set(by_class) >= {"report_content", "evidence", "reporter_contact", "case_file", "audit_entries",
                             "monitoring_posts"}
    assert (await c.post("/v1/retention/purge", headers=token("investigator"))).status_code == 403
    r = await c.post("/v1/retention/purge", headers=rm)
    assert r.status_code == 200, r.text
    report = r.json()
    assert len(report["cases_destroyed"]) == 1 and report["refused"] == []
    assert (await c.get(f"/v1/cases/{cid}", headers=token("intake"))).status_code == 404
    assert (await c.get(f"/v1/cases/{kept}", headers=token("intake"))).status_code == 200
    result = audit.verify(app.state.db)
    assert result.ok, (result.chain, result.row_problems)
    on = clock.now().date().isoformat()
    statuses = {(d["table"], d["status"]) for d in result.destroyed}
    assert ("cases", f"destroyed under schedule case_file on {on}") in statuses
    assert {t for t, _ in statuses} >= {"cases", "case_reports", "case_notes"}
    if db_backend == "sqlite":
        assert report["compacted"] is True
        files = _raw_files(databases["case_api"].url)
        assert files
        # read by a child process: closing a descriptor of the file here would drop this
        # process's SQLite locks on it (tests/support/rawfile.py)
        raws = {f.name: read_raw(f) for f in files}
        for name, raw in raws.items():
            assert marker.encode() not in raw, f"{name} still holds the destroyed text"
        assert any(keep.encode() in raw for raw in raws.values())  # the test can fail: live text is found


async def test_a_legal_hold_on_the_employee_stops_the_purge_until_released(make_app, client, token):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, relay_enabled=False)
    c = client(app)
    cid = await _closed_case(c, token, "held-" + uuid.uuid4().hex, employee="EMP-7001")
    clock.advance(SEVEN_YEARS)
    rm = token("records_manager", subject="records-1")
    r = await c.post("/v1/legal-holds", json={"employee_id": "emp-7001", "reason": "Litigation: Doe v. City"},
                     headers=rm)
    assert r.status_code == 201, r.text
    hold = r.json()
    assert (await c.post("/v1/legal-holds", json={"reason": "x"}, headers=rm)).status_code == 422
    assert (await c.post("/v1/legal-holds", json={"case_id": cid, "reason": "x"},
                         headers=token("investigator"))).status_code == 403
    report = (await c.post("/v1/retention/purge", headers=rm)).json()
    assert report["cases_destroyed"] == [] and len(report["held"]) == 1
    assert (await c.get(f"/v1/cases/{cid}", headers=token("intake"))).status_code == 200
    assert [h["id"] for h in (await c.get("/v1/legal-holds?active=true", headers=rm)).json()] == [hold["id"]]
    r = await c.post(f"/v1/legal-holds/{hold['id']}/release", json={"reason": "Case settled"}, headers=rm)
    assert r.status_code == 200 and r.json()["released_by"] == "records-1"
    assert (await c.post(f"/v1/legal-holds/{hold['id']}/release", json={"reason": "again"},
                         headers=rm)).status_code == 409
    report = (await c.post("/v1/retention/purge", headers=rm)).json()
    assert len(report["cases_destroyed"]) == 1
    assert audit.verify(app.state.db).ok


async def test_a_hold_on_a_case_and_a_shorter_report_content_period(make_app, client, token):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, relay_enabled=False, retention_days={"report_content": 365})
    c = client(app)
    marker = "content-" + uuid.uuid4().hex
    cid = await _closed_case(c, token, marker)
    other = await _closed_case(c, token, "other-" + uuid.uuid4().hex)
    rm = token("records_manager", subject="records-1")
    assert (await c.post("/v1/legal-holds", json={"case_id": other, "reason": "Records request pending"},
                         headers=rm)).status_code == 201
    clock.advance(timedelta(days=400))
    report = (await c.post("/v1/retention/purge", headers=rm)).json()
    assert report["cases_destroyed"] == [] and len(report["content_destroyed"]) == 1 and len(report["held"]) == 1
    case = (await c.get(f"/v1/cases/{cid}", headers=token("intake"))).json()
    assert marker not in str(case) and case["summary"].startswith("[destroyed under retention schedule report_content")
    assert case["reports"][0]["description"] is None
    assert audit.verify(app.state.db).ok
    again = (await c.post("/v1/retention/purge", headers=rm)).json()
    assert again["content_destroyed"] == []  # destroyed once


async def test_legal_holds_list_query_shape(make_app, client, token):
    app = make_app("case_api", relay_enabled=False)
    c = client(app)
    rm = token("records_manager", subject="records-1")

    async def add() -> None:
        r = await c.post("/v1/legal-holds", json={"employee_id": f"emp-{uuid.uuid4().hex[:8]}", "reason": "hold"},
                         headers=rm)
        assert r.status_code == 201

    async def count(url: str) -> int:
        with count_statements(app.state.db) as counted:
            assert (await c.get(url, headers=rm)).status_code == 200
        return counted.n

    await add()
    one = await count("/v1/legal-holds?limit=100")
    for _ in range(49):
        await add()
    assert await count("/v1/legal-holds?limit=100") == one


async def test_cli_purge_and_the_four_year_export_request_log(make_app, client, token, databases):
    from typer.testing import CliRunner

    from services.case_api.domain import records_export
    from services.cli import app as cli
    from shared.auth import Principal, Role

    clock = FrozenClock(T_OLD)
    app = make_app("case_api", clock=clock, relay_enabled=False)
    c = client(app)
    await _closed_case(c, token, "cli-" + uuid.uuid4().hex)
    who = Principal(subject="records-1", roles=frozenset({Role.records_manager}))
    job = records_export.request_export(
        app.state.db, principal=who, request_reference="IPRA-OLD", description=None, now=clock.now(),
        criteria=records_export.Criteria(opened_from=T_OLD.date(), opened_to=T_OLD.date()))
    clock.advance(timedelta(days=4 * 365 - 2))  # the log is kept four years
    rm = token("records_manager", subject="records-1")
    assert (await c.post("/v1/retention/purge", headers=rm)).json()["export_requests_destroyed"] == 0
    assert (await c.get(f"/v1/records/exports/{job.id}", headers=rm)).status_code == 200
    # `civicsocial cases purge` uses the real clock, years after T_OLD: the case and the request log go
    out = CliRunner().invoke(cli, ["cases", "purge", "--database-url", databases["case_api"].url])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output.strip().splitlines()[-1])
    assert len(report["cases_destroyed"]) >= 1 and report["export_requests_destroyed"] == 1
    assert (await c.get(f"/v1/records/exports/{job.id}", headers=rm)).status_code == 404
    assert audit.verify(app.state.db).ok
