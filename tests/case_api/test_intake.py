"""The intake contract with feedback_api: idempotent on the report id, one case per post."""

from __future__ import annotations

from sqlalchemy import func, select

from services.case_api.domain.models import Case, CaseMessage, CaseReport
from tests.case_api.helpers import forward, idem


def _count(databases, model) -> int:
    with databases["case_api"].engine.connect() as c:
        return c.execute(select(func.count()).select_from(model)).scalar_one()


async def test_same_report_twice_is_one_case(make_app, client, token, databases):
    c = client(make_app("case_api"))
    svc = token("service:feedback_api", subject="service:feedback_api")
    body = forward()
    first = await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
    again = await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["case_id"] == first.json()["case_id"]
    assert _count(databases, Case) == 1 and _count(databases, CaseReport) == 1


async def test_reports_about_the_same_post_attach_to_one_case(make_app, client, token, databases):
    c = client(make_app("case_api"))
    svc = token("service:feedback_api", subject="service:feedback_api")
    a = forward(incident_key="post-hash-1", categories=["personal_attack"])
    b = forward(incident_key="post-hash-1", categories=["arguing_with_public"])
    other = forward(incident_key="post-hash-2")
    ra = await c.post("/v1/intake/reports", json=a, headers={**svc, **idem(a["report_id"])})
    rb = await c.post("/v1/intake/reports", json=b, headers={**svc, **idem(b["report_id"])})
    ro = await c.post("/v1/intake/reports", json=other, headers={**svc, **idem(other["report_id"])})
    assert ra.status_code == 201 and rb.status_code == 200 and ro.status_code == 201
    assert rb.json()["case_id"] == ra.json()["case_id"] != ro.json()["case_id"]
    assert _count(databases, Case) == 2 and _count(databases, CaseReport) == 3
    case = (await c.get(f"/v1/cases/{ra.json()['case_id']}", headers=token("investigator"))).json()
    assert set(case["categories"]) == {"personal_attack", "arguing_with_public"}
    assert len(case["reports"]) == 2


async def test_intake_needs_the_feedback_service_role_and_matching_key(make_app, client, token):
    c = client(make_app("case_api"))
    body = forward()
    r = await c.post("/v1/intake/reports", json=body, headers={**token("investigator"), **idem(body["report_id"])})
    assert r.status_code == 403
    r = await c.post("/v1/intake/reports", json=body, headers=idem(body["report_id"]))
    assert r.status_code == 401
    svc = token("service:feedback_api", subject="service:feedback_api")
    r = await c.post("/v1/intake/reports", json=body, headers={**svc, **idem("another-key")})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = await c.post("/v1/intake/reports", json={**body, "extra": 1}, headers={**svc, **idem(body["report_id"])})
    assert r.status_code == 422


async def test_reporter_messages_are_stored_once(make_app, client, token, databases):
    c = client(make_app("case_api"))
    svc = token("service:feedback_api", subject="service:feedback_api")
    body = forward()
    await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
    msg = {"message_id": "m-1", "body": "I have another screenshot."}
    url = f"/v1/intake/reports/{body['report_id']}/messages"
    r1 = await c.post(url, json=msg, headers={**svc, **idem("m-1")})
    r2 = await c.post(url, json=msg, headers={**svc, **idem("m-1")})
    assert r1.status_code == 201 and r2.status_code == 200
    assert _count(databases, CaseMessage) == 1
    r = await c.post("/v1/intake/reports/unknown/messages", json={"message_id": "m-2", "body": "x"},
                     headers={**svc, **idem("m-2")})
    assert r.status_code == 404
