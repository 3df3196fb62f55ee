"""The one access policy (issue 14, item 4; ``domain/access.py``, table in docs/case_api.md): PIOs
never see the disciplinary action, auditors never see the employee (in the case or its audit
trail), the reporter receives only the public outcome, and reading the employee is audited."""

from __future__ import annotations

from sqlalchemy import select

from services.case_api.domain import access
from services.case_api.domain.models import AuditEntry, OutboxMessage
from services.case_api.domain.topics import REPORT_EVENT
from tests.case_api.helpers import forward, idem, move, sustained

ACTIONS = ("retraining", "verbal_counseling", "written_reprimand", "suspension", "termination")


async def _decided(c, token, employee: str = "emp-77"):
    case = await sustained(c, token, employee=employee, severity=3, department="Police")
    hr = token("hr", subject="hr-1")
    r = await c.post(f"/v1/cases/{case['id']}/decision", json={"action": case["recommendation"]["action"]}, headers=hr)
    assert r.status_code == 200, r.text
    return r.json()


async def test_pios_never_see_the_disciplinary_action(make_app, client, token):
    c = client(make_app("case_api"))
    case = await _decided(c, token)
    pio = token("pio", department="Police", subject="pio-1")
    body = (await c.get(f"/v1/cases/{case['id']}", headers=pio)).json()
    assert body["decision"] is None and body["disciplinary_visible"] is False
    assert "action" not in body["recommendation"] and "restorative" not in body["recommendation"]
    assert not any(a in str(body) for a in ACTIONS)
    assert (await c.get(f"/v1/cases/{case['id']}/decisions", headers=pio)).status_code == 403
    for sub in ("notes", "restorative-actions"):
        listed = (await c.get(f"/v1/cases/{case['id']}/{sub}", headers=pio)).text
        assert not any(a in listed for a in ACTIONS)
    # the director of the department and HR do see it
    for h in (token("department_director", department="police", subject="d-1"), token("hr", subject="hr-2")):
        seen = (await c.get(f"/v1/cases/{case['id']}", headers=h)).json()
        assert seen["decision"]["action"] == case["decision"]["action"] and seen["disciplinary_visible"]


async def test_auditors_never_see_the_employee_even_in_the_audit_trail(make_app, client, token):
    c = client(make_app("case_api"))
    case = await _decided(c, token, employee="EMP-77")
    cid = case["id"]
    inv = token("investigator", subject="inv-1")
    assert (await c.post(f"/v1/cases/{cid}/involved", json={"person_id": "emp-88"}, headers=inv)).status_code == 200
    # the accused tries to read their case (a recusal refusal whose actor is the employee)
    accused = token("pio", department="Police", subject="emp-77")
    assert (await c.get(f"/v1/cases/{cid}", headers=accused)).status_code == 404
    # a second sustained case for the same employee: its recommendation lists the first as a prior
    second = await sustained(c, token, employee="emp-77", severity=1, department="Police")
    aud = token("auditor", subject="aud-1")
    for case_id in (cid, second["id"]):
        body = (await c.get(f"/v1/cases/{case_id}", headers=aud)).json()
        assert body["employee_id"] is None and body["involved"] == [] and "priors" not in body["recommendation"]
        trail = await c.get(f"/v1/audit/cases/{case_id}", headers=aud)
        assert trail.status_code == 200
        text = trail.text.lower()
        assert "emp-77" not in text and "emp-88" not in text, text
        assert all(e["redacted"] for e in trail.json())
    actions = {e["action"] for e in (await c.get(f"/v1/audit/cases/{cid}", headers=aud)).json()}
    assert {"case.employee_identified", "case.finding_recorded", "case.involved_recorded",
            "case.recusal_refused"} <= actions
    # an admin reads the full trail (the hashes are of the full entries)
    full = (await c.get(f"/v1/audit/cases/{cid}", headers=token("admin", subject="admin-1"))).json()
    assert "emp-77" in str(full).lower() and "emp-88" in str(full).lower()
    again = (await c.get(f"/v1/audit/cases/{cid}", headers=token("admin", subject="admin-1"))).json()
    assert again[-1]["action"] == "case.confidential_read" and again[-1]["actor"] == "admin-1"  # audited
    assert (await c.get("/v1/audit/verify", headers=aud)).json()["ok"] is True


async def test_the_reporter_receives_only_the_public_outcome(make_app, client, token, databases):
    c = client(make_app("case_api", relay_enabled=False))
    body = forward()
    svc = {**token("service:feedback_api"), **idem(body["report_id"])}
    r = await c.post("/v1/intake/reports", json=body, headers=svc)
    cid = r.json()["case_id"]
    inv = token("investigator", subject="inv-1")
    await move(c, token, cid, "triaged")
    await move(c, token, cid, "investigating")
    await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "emp-secret-1"}, headers=inv)
    await c.post(f"/v1/cases/{cid}/notes", json={"body": "internal: interview notes"}, headers=inv)
    r = await c.post(f"/v1/cases/{cid}/finding", headers=inv, json={
        "finding": "sustained", "severity": 3, "summary": "The post was removed and corrected."})
    rec = r.json()["recommendation"]["action"]
    await c.post(f"/v1/cases/{cid}/decision", json={"action": rec}, headers=token("hr"))
    assert (await move(c, token, cid, "closed", outcome_summary="Corrected.")).status_code == 200
    with databases["case_api"].engine.connect() as conn:
        payloads = [p for (p,) in conn.execute(select(OutboxMessage.payload).where(
            OutboxMessage.topic == REPORT_EVENT.name))]
    assert payloads
    for p in payloads:
        event = p["event"]
        assert set(event) <= {"event_id", "kind", "status", "outcome_summary", "message", "at"}
        assert event["status"] in (None, "received", "under_review", "closed")
        flat = str(p).lower()
        for secret in ("emp-secret-1", "interview", "sustained", rec, "severity", "finding"):
            assert secret not in flat, (secret, p)
    assert access.public_view(status="closed", outcome_summary="x") == {"status": "closed", "outcome_summary": "x"}


async def test_reading_the_employee_or_the_involved_is_audited(make_app, client, token, databases):
    c = client(make_app("case_api"))
    case = await sustained(c, token, employee="emp-5", severity=1, department="Police")
    inv = token("investigator", subject="inv-1")
    await c.post(f"/v1/cases/{case['id']}/involved", json={"person_id": "emp-6"}, headers=inv)
    await c.get(f"/v1/cases/{case['id']}", headers=token("hr", subject="hr-9"))
    await c.get(f"/v1/cases/{case['id']}", headers=token("pio", department="Police", subject="pio-9"))
    with databases["case_api"].engine.connect() as conn:
        reads = [(e.actor, e.detail["fields"]) for e in conn.execute(
            select(AuditEntry).where(AuditEntry.action == "case.confidential_read"))]
    assert reads == [("hr-9", ["employee_id", "involved"])]  # the PIO saw neither: nothing to audit
