"""Issue 15 item 7: any case as a PDF and as JSON for staff: timeline, every report's testimony,
evidence with hashes, decisions and amendments, restorative actions, and the verification result at
export time; the export itself is audited with the SHA-256 of what was handed out."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.case_api.helpers import forward, idem, move
from tests.support.pdftext import keep, pdf_text
from tests.support.sqlcount import count_statements

SHA = "c" * 64
OUT = Path("/tmp/civicsocial-case-file")  # PDFs and PNGs kept to be looked at


def _ev(eid: str, sha: str) -> dict:
    return {"id": eid, "media_type": "image/jpeg", "size_bytes": 2048, "sha256": sha}


async def _decided_case(c, token) -> tuple[str, dict, dict]:
    svc = token("service:feedback_api", subject="service:feedback_api")
    a = forward(incident_key="file-1", description="The reply mocked a resident's disability.",
                evidence=[_ev("ev-first", "d" * 64)], seen_on="2026-11-17")
    b = forward(incident_key="file-1", description="I also saw the reply before it was deleted at 3 pm.",
                evidence=[_ev("ev-second", SHA)], categories=["disrespectful_response"])
    cid = (await c.post("/v1/intake/reports", json=a, headers={**svc, **idem(a["report_id"])})).json()["case_id"]
    r = await c.post("/v1/intake/reports", json=b, headers={**svc, **idem(b["report_id"])})
    assert r.json()["case_id"] == cid
    inv = token("investigator", subject="inv-1")
    assert (await move(c, token, cid, "triaged")).status_code == 200
    assert (await move(c, token, cid, "investigating")).status_code == 200
    assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": "Screenshot matches the archive."},
                         headers=inv)).status_code == 201
    assert (await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "emp-4242"}, headers=inv)).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/finding", json={"finding": "sustained", "severity": 2}, headers=inv)
    assert r.status_code == 200, r.text
    r = await c.post(f"/v1/cases/{cid}/decision", json={"action": r.json()["recommendation"]["action"]},
                     headers=token("hr", subject="hr-1"))
    assert r.status_code == 200, r.text
    r = await c.post(f"/v1/cases/{cid}/restorative-actions", json={"kind": "public_correction", "owner": "pio-1",
                                                             "due_on": "2026-12-20",
                                                             "description": "Correct the reply publicly."},
                     headers=token("hr", subject="hr-1"))
    assert r.status_code == 201, r.text
    return cid, a, b


async def test_case_file_as_json_has_every_part_and_the_verification(make_app, client, token):
    app = make_app("case_api", relay_enabled=False)
    c = client(app)
    cid, a, b = await _decided_case(c, token)
    r = await c.get(f"/v1/cases/{cid}/file?format=json", headers=token("hr", subject="hr-1"))
    assert r.status_code == 200, r.text
    assert hashlib.sha256(r.content).hexdigest() == r.headers["x-content-sha256"]
    doc = r.json()
    assert [x["description"] for x in doc["reports"]] == [a["description"], b["description"]]
    assert {e["id"]: e["sha256"] for e in doc["evidence"]} == {"ev-first": "d" * 64, "ev-second": SHA}
    assert doc["case"]["employee_id"] == "emp-4242" and doc["employee_visible"] is True
    assert [d["status"] for d in doc["decisions"]] == ["in_force"]
    assert doc["restorative_actions"][0]["kind"] == "public_correction"
    assert doc["notes"][0]["body"] == "Screenshot matches the archive."
    actions = [t["action"] for t in doc["timeline"]]
    assert actions[0] == "case.created" and "case.report_attached" in actions and "case.finding_recorded" in actions
    assert doc["verification"]["ok"] is True and doc["verification"]["entries_checked"] >= len(actions)
    # the export is in the trail, with the hash of the bytes handed out
    trail = (await c.get(f"/v1/audit/cases/{cid}?limit=100", headers=token("auditor"))).json()
    exported = [e for e in trail if e["action"] == "case.file_exported"]
    assert exported and exported[-1]["detail"]["sha256"] == r.headers["x-content-sha256"]
    # an auditor's export leaves the employee out, as the case view does
    doc = (await c.get(f"/v1/cases/{cid}/file", headers=token("auditor"))).json()
    assert doc["case"]["employee_id"] is None and doc["employee_visible"] is False
    assert "emp-4242" not in str(doc)
    # roles that may not export, and another department
    assert (await c.get(f"/v1/cases/{cid}/file", headers=token("pio"))).status_code == 403
    parks = token("department_director", department="Parks and Recreation")
    assert (await c.get(f"/v1/cases/{cid}/file", headers=parks)).status_code == 404


async def test_case_file_as_pdf_shows_both_testimonies_and_hashes(make_app, client, token):
    app = make_app("case_api", relay_enabled=False)
    c = client(app)
    cid, a, b = await _decided_case(c, token)
    r = await c.get(f"/v1/cases/{cid}/file?format=pdf", headers=token("investigator", subject="inv-2"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    keep(r.content, OUT, "staff-case-file.pdf")
    flat = pdf_text(r.content)
    for needle in (a["description"], b["description"], SHA, "public_correction", "verified",
                   "Screenshot matches the archive.", "case.report_attached"):
        assert needle in flat, needle


async def test_case_file_query_shape(make_app, client, token):
    """The case file reads the same number of statements for 1 and for 40 notes (the verification
    walks the chain in batches of 1000 entries: constant here)."""
    app = make_app("case_api", relay_enabled=False)
    c = client(app)
    cid, _, _ = await _decided_case(c, token)
    inv = token("investigator", subject="inv-1")

    async def count() -> int:
        with count_statements(app.state.db) as counted:
            r = await c.get(f"/v1/cases/{cid}/file", headers=token("hr", subject="hr-1"))
        assert r.status_code == 200
        return counted.n

    one = await count()
    for i in range(40):
        assert (await c.post(f"/v1/cases/{cid}/notes", json={"body": f"note {i}"}, headers=inv)).status_code == 201
    assert await count() == one
