"""Decisions are records, never fields (issue 14, item 3): a changed decision is an amendment with a
reason and a second approver who is not the first decider; both stay in the history; the ladder's
priors count only findings that still stand."""

from __future__ import annotations

from sqlalchemy import select

from services.case_api.domain.models import AuditEntry
from tests.case_api.helpers import move, sustained


async def test_an_amended_decision_shows_both_versions_and_both_approvers(make_app, client, token, databases):
    c = client(make_app("case_api"))
    case = await sustained(c, token, employee="emp-31", severity=2)
    cid, rec = case["id"], case["recommendation"]["action"]
    hr1, hr2, hr3 = (token("hr", subject=f"hr-{i}") for i in (1, 2, 3))
    r = await c.post(f"/v1/cases/{cid}/decision", json={"action": rec}, headers=hr1)
    assert r.status_code == 200 and r.json()["decision"]["version"] == 1
    heavier = {"action": "termination", "justification": "The post named the resident's child and address."}
    # "changed my mind completely" is no longer a silent overwrite
    r = await c.post(f"/v1/cases/{cid}/decision", json=heavier, headers=hr2)
    assert r.status_code == 422 and "amendment_reason" in r.text
    r = await c.post(f"/v1/cases/{cid}/decision", headers=hr2,
                     json={**heavier, "amendment_reason": "New evidence: a second, deleted reply was recovered."})
    assert r.status_code == 200
    assert r.json()["decision"]["action"] == rec  # still the one in force until approved
    r = await c.post(f"/v1/cases/{cid}/decision", headers=hr3,
                     json={**heavier, "amendment_reason": "Another amendment while one is pending."})
    assert r.status_code == 409
    history = (await c.get(f"/v1/cases/{cid}/decisions", headers=hr3)).json()
    assert [(d["version"], d["status"], d["decided_by"]) for d in history] == [
        (1, "in_force", "hr-1"), (2, "pending", "hr-2")]
    assert history[1]["amends"] == history[0]["id"] and history[1]["approval_rule"] == "amendment"
    url = f"/v1/cases/{cid}/decisions/{history[1]['id']}/approval"
    assert (await c.post(url, headers=hr2)).status_code == 403  # its author
    assert (await c.post(url, headers=token("hr", subject="HR-1"))).status_code == 403  # the first decider
    assert (await c.post(url, headers=token("department_director", department="Parks",
                                            subject="dir-parks"))).status_code == 404
    r = await c.post(url, headers=hr3)
    assert r.status_code == 200, r.text
    expected = {"action": "termination", "version": 2, "approved_by": "hr-3", "decided_by": "hr-2",
                "amends": history[0]["id"]}
    assert {k: r.json()["decision"][k] for k in expected} == expected
    assert (await c.post(url, headers=hr3)).status_code == 409  # already in force
    history = (await c.get(f"/v1/cases/{cid}/decisions", headers=hr3)).json()
    assert [(d["version"], d["action"], d["status"], d["approved_by"]) for d in history] == [
        (1, rec, "superseded", None), (2, "termination", "in_force", "hr-3")]
    with databases["case_api"].engine.connect() as conn:
        trail = [(e.action, e.actor) for e in conn.execute(select(AuditEntry).where(
            AuditEntry.case_id == cid, AuditEntry.action.like("case.decision%")).order_by(AuditEntry.seq))]
    assert trail == [("case.decision_recorded", "hr-1"), ("case.decision_proposed", "hr-2"),
                     ("case.decision_approved", "hr-3")]
    # the auditor sees the history; the PIO does not
    assert (await c.get(f"/v1/cases/{cid}/decisions", headers=token("auditor"))).status_code == 200
    assert (await c.get(f"/v1/cases/{cid}/decisions", headers=token("pio", department="Police"))).status_code == 403
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True


async def test_the_reason_length_is_configuration(make_app, client, token):
    c = client(make_app("case_api", amendment_reason_min_chars=5))
    case = await sustained(c, token, employee="emp-32", severity=1)
    hr = token("hr", subject="hr-1")
    await c.post(f"/v1/cases/{case['id']}/decision", json={"action": case["recommendation"]["action"]}, headers=hr)
    r = await c.post(f"/v1/cases/{case['id']}/decision", headers=token("hr", subject="hr-2"), json={
        "action": "termination", "justification": "x" * 25, "amendment_reason": "typo!"})
    assert r.status_code == 200


async def test_priors_count_only_findings_that_still_stand(make_app, client, token):
    c = client(make_app("case_api"))
    first = await sustained(c, token, employee="emp-40", severity=2)
    hr = token("hr", subject="hr-1")
    await c.post(f"/v1/cases/{first['id']}/decision", json={"action": first["recommendation"]["action"]}, headers=hr)
    assert (await move(c, token, first["id"], "closed", role="hr")).status_code == 200
    r = await c.post(f"/v1/cases/{first['id']}/reopen", json={"reason": "The finding was set aside on review."},
                     headers=hr)
    assert r.status_code == 200 and r.json()["finding"] is None and r.json()["decision"] is None
    history = (await c.get(f"/v1/cases/{first['id']}/decisions", headers=hr)).json()
    assert [d["status"] for d in history] == ["withdrawn"]
    second = await sustained(c, token, employee="EMP-40", severity=2)
    assert second["recommendation"]["prior_count"] == 0
