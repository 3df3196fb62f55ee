"""Issue 15 item 6: a public-records (IPRA) export of the demo data. A records manager asks for a
date range; the job runs in the background with progress; the ZIP holds one redacted PDF per case
and a manifest with the SHA-256 of every file and the redaction log; no reporter contact or
identity, and no personnel matter, appears in any PDF (text extracted with pdftotext; the pages
are rendered to PNG under /tmp/civicsocial-ipra to be looked at)."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from pathlib import Path

import httpx

from services.case_api import demo
from services.devkit import DemoContext
from shared.auth import issue_dev_token
from shared.settings import AuthSettings
from tests.case_api.helpers import forward, idem
from tests.support.pdftext import keep, pdf_text

OUT = Path("/tmp/civicsocial-ipra")
CONTACT = ("jane.roe@example.org", "505-555-0147", "(505) 555 0199", "@janeroe_abq")


def _wait(c: httpx.Client, export_id: str) -> dict:
    for _ in range(600):
        job = c.get(f"/v1/records/exports/{export_id}").json()
        assert job["done"] <= job["total"]
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("the export did not finish")


def test_ipra_export_of_the_demo_data(make_app, live, dev_key, token):
    policy = live(make_app("policy_api"))
    server = live(make_app("case_api", policy_api_url=policy.url))
    auth = AuthSettings(dev_key_file=dev_key)

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

    demo.load(DemoContext(urls={"case_api": server.url, "policy_api": policy.url}, token=sign))
    # two residents report the same post; one writes their contact into the text
    svc = {**token("service:feedback_api")}
    first = forward(incident_key="ipra-post", has_contact=True,
                    description=f"The reply insulted me. Write to {CONTACT[0]} or call {CONTACT[1]}.")
    second = forward(incident_key="ipra-post", description=f"Same reply; I am {CONTACT[3]}, phone {CONTACT[2]}.")
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post("/v1/intake/reports", json=first, headers={**svc, **idem(first["report_id"])})
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        inv = token("investigator", subject="inv-1")
        r = c.post(f"/v1/cases/{case_id}/messages", json={"body": "Thank you, Ms Roe, we are looking into it."},
                   headers=inv)
        assert r.status_code == 201, r.text
        r = c.post("/v1/intake/reports", json=second, headers={**svc, **idem(second["report_id"])})
        assert r.status_code == 200 and r.json()["case_id"] == case_id, r.text
        assert c.post(f"/v1/cases/{case_id}/notes", json={"body": "Opinion: the reply was rude."},
                      headers=inv).status_code == 201
        staff = c.get("/v1/cases", params={"limit": 100}, headers=token("admin")).json()
        employees = {x.get("employee_id") for x in [c.get(f"/v1/cases/{i['id']}", headers=token("admin")).json()
                                                     for i in staff["items"]]} - {None}
        assert employees, "the demo identifies at least one employee"

    rm = token("records_manager", subject="records-1")
    with httpx.Client(base_url=server.url, timeout=60, headers=rm) as c:
        body = {"request_reference": "IPRA-2026-0042", "opened_from": "2024-01-01", "opened_to": "2030-12-31",
                "description": "All social media complaints"}
        assert c.post("/v1/records/exports", json=body, headers=token("investigator")).status_code == 403
        r = c.post("/v1/records/exports", json=body)
        assert r.status_code == 202, r.text
        job = _wait(c, r.json()["id"])
        assert job["status"] == "done", job
        assert job["done"] == job["total"] == staff["total"]
        assert job["keep_until"][:4] == str(int(job["requested_at"][:4]) + 4)
        z = c.get(f"/v1/records/exports/{job['id']}/download")
        assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
        assert hashlib.sha256(z.content).hexdigest() == job["result_sha256"]
        log = c.get("/v1/records/exports").json()
        assert [x["request_reference"] for x in log["items"]] == ["IPRA-2026-0042"]

    archive = zipfile.ZipFile(io.BytesIO(z.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert hashlib.sha256(archive.read("manifest.json")).hexdigest() == job["manifest_sha256"]
    assert manifest["request_reference"] == "IPRA-2026-0042" and manifest["cases"] == staff["total"]
    assert {r["rule"] for r in manifest["redaction_rules"]} == {"R1", "R2", "R3", "R4"}
    assert {x["rule"] for x in manifest["redaction_log"]} >= {"R1", "R2", "R3"}
    assert manifest["verification"]["ok"] is True
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == staff["total"] == len(manifest["files"])
    for f in manifest["files"]:
        content = archive.read(f["name"])
        assert hashlib.sha256(content).hexdigest() == f["sha256"]
        text = pdf_text(content)
        for secret in (*CONTACT, "Ms Roe", "Opinion: the reply was rude.", *employees):
            assert secret not in text, (f["name"], secret)
        assert "Redaction log" in text or f["name"]
        keep(content, OUT, Path(f["name"]).name)
    merged = next(f for f in manifest["files"] if any(
        x["case_reference"] == f["case_reference"] and x["rule"] == "R2" for x in manifest["redaction_log"]))
    text = pdf_text(archive.read(merged["name"]))
    assert "The reply insulted me. Write to [redacted R1] or call [redacted R1]." in text
    assert "public-records copy" in text.lower()


async def test_export_log_and_job_query_shape(make_app, client, token):
    from datetime import UTC, date, datetime

    from services.case_api.domain import records_export
    from shared.auth import Principal, Role
    from tests.support.sqlcount import count_statements

    app = make_app("case_api", relay_enabled=False)
    c = client(app)
    rm = token("records_manager", subject="records-1")
    who = Principal(subject="records-1", roles=frozenset({Role.records_manager}))
    criteria = records_export.Criteria(opened_from=date(2026, 1, 1), opened_to=date(2026, 1, 31))

    def add() -> str:
        return records_export.request_export(app.state.db, principal=who, request_reference="IPRA-1",
                                             criteria=criteria, description=None, now=datetime.now(UTC)).id

    async def count(url: str) -> int:
        with count_statements(app.state.db) as counted:
            r = await c.get(url, headers=rm)
        assert r.status_code == 200, r.text
        return counted.n

    first = add()
    one = (await count("/v1/records/exports?limit=100"), await count(f"/v1/records/exports/{first}"))
    for _ in range(49):
        add()
    assert (await count("/v1/records/exports?limit=100"), await count(f"/v1/records/exports/{first}")) == one
    assert one == (2, 1)
    assert (await c.get("/v1/records/exports", headers=token("investigator"))).status_code == 403
