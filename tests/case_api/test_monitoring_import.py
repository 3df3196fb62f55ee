"""Issue 18 item 3: imports at any size. A 20,000-row CSV from the command line (streamed in
batches, progress bar, per-row error report, idempotent on re-run), and a file larger than the
1 MiB body cap streamed to the API."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from services.case_api.domain import monitoring
from services.cli import app as cli
from shared.schemas.registry import AccountPublic, Platform
from tests.support.sqlcount import count_statements

T0 = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
BAD_EVERY = 1000  # every 1000th row has a bad URL


def _sync(db, *handles: str) -> None:
    accounts = [AccountPublic.model_validate({
        "id": f"acct-{h}", "platform": Platform.facebook, "handle": h, "profile_url": f"https://facebook.com/{h}",
        "department": "Police", "purpose": "news", "status": "active", "pio_name": None, "pio_title": None})
        for h in handles]
    with db.write() as s:
        monitoring.sync_registry(s, accounts=accounts, now=T0, cadence=monitoring.Cadence(), actor="test")


def _csv(n: int, *, offset: int = 0) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Post URL", "Account", "Timestamp", "Content", "Comments"])
    for i in range(offset, offset + n):
        url = "https://not a url/" if i % BAD_EVERY == 7 else f"https://www.facebook.com/abqpolice/posts/{i}?fbclid=z"
        text = "You are clearly an idiot." if i % 97 == 0 else f"Road work update {i}: Central Ave lanes reopen."
        w.writerow([url, "@abqpolice", (T0 + timedelta(minutes=i)).strftime("%m/%d/%Y %H:%M"), text,
                    "resident: when?\nabqpolice: Next week, thanks for asking." if i % 5 == 0 else ""])
    return buf.getvalue()


def test_twenty_thousand_rows_from_the_command_line(make_app, databases, tmp_path):
    app = make_app("case_api", relay_enabled=False, monitoring_sync_seconds=0)
    _sync(app.state.db, "abqpolice")
    export = tmp_path / "archive.csv"
    export.write_text(_csv(20_000), encoding="utf-8")
    report = tmp_path / "refused.csv"
    url = databases["case_api"].url
    started = time.monotonic()
    run = CliRunner().invoke(cli, ["monitoring", "import", str(export), "--format", "archivesocial",
                                   "--errors", str(report), "--database-url", url])
    elapsed = time.monotonic() - started
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    bad = sum(1 for i in range(20_000) if i % BAD_EVERY == 7)
    assert summary == {**summary, "received": 20_000, "imported": 20_000 - bad, "duplicates": 0, "refused": bad}
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [int(r["row"]) for r in rows] == [i + 1 for i in range(20_000) if i % BAD_EVERY == 7]
    assert all("contains spaces" in r["reason"] for r in rows)
    assert "importing" in run.stderr  # the progress bar
    print(f"20,000 rows imported in {elapsed:.1f}s")
    with app.state.db.read() as s:
        from sqlmodel import func, select

        from services.case_api.domain.models import MonitoredPost

        assert s.exec(select(func.count()).select_from(MonitoredPost)).one() == 20_000 - bad
        flagged = s.exec(select(func.count()).select_from(MonitoredPost)
                         .where(MonitoredPost.risk_score >= 0.9)).one()
        assert flagged == len([i for i in range(20_000) if i % 97 == 0 and i % BAD_EVERY != 7])
    # idempotent on the post URL: a second run imports nothing
    again = CliRunner().invoke(cli, ["monitoring", "import", str(export), "--format", "csv", "--quiet",
                                     "--database-url", url])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["duplicates"] == 20_000 - bad


async def test_a_large_file_streams_to_the_api_in_batches(make_app, client, token):
    app = make_app("case_api", relay_enabled=False, monitoring_sync_seconds=0)
    _sync(app.state.db, "abqpolice")
    c = client(app)
    mon = token("monitor")
    body = _csv(8_000).encode()
    assert len(body) > 1024 * 1024  # past the default body cap that used to answer 413
    r = await c.post("/v1/monitoring/imports", headers=mon, json={"format": "csv", "csv": body.decode()})
    assert r.status_code in (413, 422)  # the JSON import stays bounded
    with count_statements(app.state.db) as counted:
        r = await c.post("/v1/monitoring/imports/stream", params={"format": "archivesocial"}, content=body,
                         headers={**mon, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    out = r.json()
    bad = sum(1 for i in range(8_000) if i % BAD_EVERY == 7)
    assert (out["received"], out["imported"], out["refused_total"]) == (8_000, 8_000 - bad, bad)
    assert [x["row"] for x in out["refused"]] == [i + 1 for i in range(8_000) if i % BAD_EVERY == 7]
    assert counted.n < 8_000 / 5  # batched: statements per batch, not per row
    # a second part of the same file, numbered on from row 8001, and JSON Lines
    part2 = _csv(10, offset=8_000).encode()
    r = await c.post("/v1/monitoring/imports/stream", params={"format": "csv", "first_row": 8_001}, content=part2,
                     headers={**mon, "Content-Type": "text/csv"})
    assert r.json()["imported"] == 9 and r.json()["refused"][0]["row"] == 8_008  # row 8 of the part: i = 8007
    lines = "\n".join(json.dumps({"url": f"https://x.com/abqpolice/status/{i}", "account_id": "acct-abqpolice",
                                  "posted_at": T0.isoformat(), "text": "hello"}) for i in range(3))
    r = await c.post("/v1/monitoring/imports/stream", params={"format": "json"},
                     content=(lines + "\nnot json\n").encode(), headers={**mon, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["refused"]) == (3, [{"row": 4, "reason": "line 4 is not JSON"}])
    # writers only
    r = await c.post("/v1/monitoring/imports/stream", content=part2, headers=token("investigator"))
    assert r.status_code == 403
