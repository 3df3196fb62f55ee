"""Recusal (issue 14, item 2): the subject employee, anyone the case names as involved and anyone who
declared a conflict can neither read nor touch the case; each such call answers exactly what a
case that does not exist answers, and is audited as a recusal refusal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.case_api.domain.models import AuditEntry, Case
from tests.case_api.helpers import forward, idem, move

STAFF_ROLES = ("intake", "investigator", "hr", "department_director", "pio", "auditor", "admin")
MISSING = "00000000-0000-7000-8000-000000000000"


async def _accused_case(c, token, employee: str = "EMP-1101 ") -> dict[str, Any]:
    """A Police case from a public report (so it has a reporter and evidence), investigated and
    sustained against ``employee``, with a note, a message and a restorative action."""
    body = forward(evidence=[{"id": "ev-1", "media_type": "image/png", "size_bytes": 10, "sha256": "a" * 64}],
                   has_contact=True)
    r = await c.post("/v1/intake/reports", json=body, headers={**token("service:feedback_api"),
                                                                **idem(body["report_id"])})
    assert r.status_code == 201, r.text
    cid = r.json()["case_id"]
    inv = token("investigator", subject="inv-1")
    assert (await move(c, token, cid, "triaged")).status_code == 200
    assert (await move(c, token, cid, "investigating")).status_code == 200
    assert (await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": employee}, headers=inv)).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/notes", json={"body": "Screenshots archived."}, headers=inv)
    assert r.status_code == 201
    assert (await c.post(f"/v1/cases/{cid}/messages", json={"body": "Thank you."}, headers=inv)).status_code == 201
    r = await c.post(f"/v1/cases/{cid}/finding", json={"finding": "sustained", "severity": 3}, headers=inv)
    assert r.status_code == 200, r.text
    r = await c.post(f"/v1/cases/{cid}/restorative-actions", headers=token("hr", subject="hr-1"),
                     json={"kind": "public_correction", "owner": "pio-1", "due_on": "2030-01-31"})
    assert r.status_code == 201, r.text
    return {"case_id": cid, "report_id": body["report_id"], "action_id": r.json()["id"]}


def _calls(case_id: str, report_id: str, action_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every case endpoint, with a body that would succeed for someone allowed to make the call."""
    base = f"/v1/cases/{case_id}"
    return [
        ("GET", base, None),
        ("POST", f"{base}/transitions", {"to": "closed", "outcome_summary": "Handled."}),
        ("POST", f"{base}/transitions", {"to": "dismissed", "reason": "troll", "outcome_summary": "Closed."}),
        ("POST", f"{base}/reopen", {"reason": "please"}),
        ("POST", f"{base}/assignee", {"assignee": "emp-1101"}),
        ("POST", f"{base}/employee", {"employee_id": "someone-else"}),
        ("POST", f"{base}/finding", {"finding": "unfounded"}),
        ("POST", f"{base}/decision", {"action": "retraining", "justification": "I know this employee well enough."}),
        ("GET", f"{base}/decisions", None),
        ("POST", f"{base}/decisions/{MISSING}/approval", None),
        ("POST", f"{base}/notes", {"body": "This report is from a known troll, please dismiss"}),
        ("GET", f"{base}/notes", None),
        ("POST", f"{base}/messages", {"body": "Please consider withdrawing this report"}),
        ("GET", f"{base}/messages", None),
        ("GET", f"{base}/reports/{report_id}/contact", None),
        ("GET", f"{base}/evidence/ev-1", None),
        ("POST", f"{base}/restorative-actions", {"kind": "public_apology", "owner": "x", "due_on": "2030-01-31"}),
        ("GET", f"{base}/restorative-actions", None),
        ("POST", f"/v1/restorative-actions/{action_id}/status", {"status": "cancelled"}),
        ("GET", f"/v1/audit/cases/{case_id}", None),
        ("POST", f"{base}/conflicts", {"reason": "it is me"}),
        ("POST", f"{base}/proposed-action", {"action": "retraining"}),
        ("GET", f"{base}/due-process", None),
        ("POST", f"{base}/due-process/{MISSING}/appeal-outcome", {"outcome": "overturned", "reason": "mine"}),
        ("POST", f"{base}/involved", {"person_id": "emp-9999"}),
    ]


def _problem(r) -> tuple[int, Any]:
    body = r.json() if r.headers.get("content-type", "").startswith("application/") else r.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("instance", "request_id")}
    return r.status_code, body


async def _probe(c, headers: dict[str, str], real: dict[str, str]) -> int:
    """Make every call on the real case and on a case (and action, report) that does not exist;
    the answers must be the same. Returns how many reached the case (404 rather than 403)."""
    reached = 0
    for (method, url, body), (_, missing_url, _) in zip(
            _calls(real["case_id"], real["report_id"], real["action_id"]),
            _calls(MISSING, real["report_id"], MISSING), strict=True):
        got = await c.request(method, url, json=body, headers=headers)
        expected = await c.request(method, missing_url, json=body, headers=headers)
        assert _problem(got) == _problem(expected), (method, url, got.status_code, got.text, expected.text)
        assert got.status_code in (403, 404), (method, url, got.status_code)
        reached += got.status_code == 404
    for lst in ("/v1/cases", "/v1/cases/overdue", "/v1/cases/due-soon?within_hours=2160"):
        r = await c.get(lst, headers=headers)
        assert r.status_code == 200 and real["case_id"] not in r.text, (lst, r.text)
    return reached


def _snapshot(databases, case_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    with databases["case_api"].engine.connect() as conn:
        row = conn.execute(select(Case).where(Case.id == case_id)).mappings().one()
        entries = [(e.actor, e.action) for e in conn.execute(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq))]
    return dict(row), entries


async def test_the_accused_succeeds_at_nothing_through_every_staff_role(make_app, client, token, databases):
    c = client(make_app("case_api"))
    real = await _accused_case(c, token)
    before, entries_before = _snapshot(databases, real["case_id"])
    assert before["employee_id"] == "emp-1101"  # stored by key
    reached = 0
    # one role at a time, the token's subject spelt three ways, the department claim spelt two
    for i, role in enumerate(STAFF_ROLES):
        subject = ("emp-1101", "EMP-1101", " Emp-1101 ")[i % 3]
        dept = ("Police", "police")[i % 2] if role in ("department_director", "pio") else None
        reached += await _probe(c, token(role, department=dept, subject=subject), real)
    # and every role at once
    reached += await _probe(c, token(*STAFF_ROLES, department="Police", subject="emp-1101"), real)
    after, entries_after = _snapshot(databases, real["case_id"])
    assert after == before
    new = entries_after[len(entries_before):]
    assert entries_after[:len(entries_before)] == entries_before
    assert reached > len(STAFF_ROLES) * 5
    assert {a for _, a in new} == {"case.recusal_refused"} and len(new) == reached
    assert {actor for actor, _ in new} <= {"emp-1101", "EMP-1101", " Emp-1101 "}
    with databases["case_api"].engine.connect() as conn:
        details = [e.detail for e in conn.execute(
            select(AuditEntry).where(AuditEntry.action == "case.recusal_refused"))]
    assert {d["reason"] for d in details} == {"subject"}
    assert {"case.read", "note.add", "message.send", "case.decision", "contact.read", "evidence.read",
            "audit.read", "conflict.declare"} <= {d["attempted"] for d in details}


async def test_involved_persons_and_declared_conflicts_are_recused(make_app, client, token, databases):
    c = client(make_app("case_api"))
    real = await _accused_case(c, token)
    cid = real["case_id"]
    inv = token("investigator", subject="inv-1")
    # a colleague named as involved
    r = await c.post(f"/v1/cases/{cid}/involved", json={"person_id": "EMP-2202"}, headers=inv)
    assert r.status_code == 200 and r.json()["involved"] == ["emp-2202"]
    assert (await c.get(f"/v1/cases/{cid}", headers=token("pio", department="Police"))).json()["involved"] == []
    assert await _probe(c, token("pio", department="Police", subject="emp-2202"), real) > 0
    # an HR officer who knows the employee declares a conflict; they held the case
    assert (await c.post(f"/v1/cases/{cid}/assignee", json={"assignee": "hr-7"}, headers=inv)).status_code == 200
    hr7 = token("hr", subject="HR-7")
    assert (await c.get(f"/v1/cases/{cid}", headers=hr7)).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/conflicts", json={"reason": "The employee is my brother-in-law."}, headers=hr7)
    assert r.status_code == 201 and r.json()["recused"] is True
    case = (await c.get(f"/v1/cases/{cid}", headers=inv)).json()
    assert case["assignee"] is None  # unassigned on declaring
    assert await _probe(c, token("hr", subject="hr-7"), real) > 0
    # none of them can be assigned to it (422, audited)
    for person in ("emp-1101", "Emp-2202", "hr-7"):
        r = await c.post(f"/v1/cases/{cid}/assignee", json={"assignee": person}, headers=inv)
        assert r.status_code == 422 and person.lower() not in r.text.lower()
    with databases["case_api"].engine.connect() as conn:
        reasons = [e.detail["reason"] for e in conn.execute(
            select(AuditEntry).where(AuditEntry.action == "case.recusal_refused"))]
    assert {"involved", "conflict", "assignee"} <= set(reasons)
    # an assignee cannot be made the subject of the case they hold
    other = (await c.post("/v1/cases", json={"categories": ["other"], "summary": "x", "department": "Police"},
                          headers=token("intake"))).json()
    await move(c, token, other["id"], "triaged")
    r = await c.post(f"/v1/cases/{other['id']}/assignee", json={"assignee": "inv-2"}, headers=inv)
    assert r.status_code == 200
    r = await c.post(f"/v1/cases/{other['id']}/employee", json={"employee_id": "INV-2"}, headers=inv)
    assert r.status_code == 409


async def test_a_director_who_is_the_subject_is_decided_by_hr_with_an_outside_approver(make_app, client, token):
    c = client(make_app("case_api", department_directors={"police": "DIR-POLICE-1"}))
    real = await _accused_case(c, token, employee="dir-police-1")
    cid = real["case_id"]
    # the accused director: 404 as for any case they do not see
    r = await c.post(f"/v1/cases/{cid}/decision", json={"action": "retraining", "justification": "x" * 30},
                     headers=token("department_director", department="Police", subject="dir-police-1"))
    assert r.status_code == 404
    # their deputy, another director of the department: HR decides
    deputy = token("department_director", department="Police", subject="dir-police-2")
    case = (await c.get(f"/v1/cases/{cid}", headers=deputy)).json()
    r = await c.post(f"/v1/cases/{cid}/decision", json={"action": case["recommendation"]["action"]}, headers=deputy)
    assert r.status_code == 409
    hr1 = token("hr", department="Human Resources", subject="hr-1")
    r = await c.post(f"/v1/cases/{cid}/decision", json={"action": case["recommendation"]["action"]}, headers=hr1)
    assert r.status_code == 200 and r.json()["state"] == "finding_recorded" and r.json()["decision"] is None
    pending = (await c.get(f"/v1/cases/{cid}/decisions", headers=hr1)).json()
    assert [(d["status"], d["approval_rule"]) for d in pending] == [("pending", "director_is_subject")]
    url = f"/v1/cases/{cid}/decisions/{pending[0]['id']}/approval"
    assert (await c.post(url, headers=hr1)).status_code == 403  # not the decider
    assert (await c.post(url, headers=token("hr", department="police", subject="hr-apd"))).status_code == 403
    assert (await c.post(url, headers=deputy)).status_code == 403  # a director of the department
    r = await c.post(url, headers=token("hr", department="Human Resources", subject="hr-2"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "actions" and r.json()["decision"]["approved_by"] == "hr-2"
