"""Object-level authorisation: another department's case is 404 (not 403, not the data); the
employee concerned is visible only to the roles that need it, and every such read is audited."""

from __future__ import annotations

from sqlalchemy import select

from services.case_api.domain.models import AuditEntry
from tests.case_api.helpers import staff_case, sustained


async def test_department_scoped_roles_see_only_their_department(make_app, client, token):
    c = client(make_app("case_api"))
    police = await staff_case(c, token, department="Police")
    parks = await staff_case(c, token, department="Parks")
    for role in ("department_director", "pio"):
        h = token(role, department="Parks", subject=f"{role}-parks")
        assert (await c.get(f"/v1/cases/{parks['id']}", headers=h)).status_code == 200
        r = await c.get(f"/v1/cases/{police['id']}", headers=h)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        assert "Police" not in r.text
        for sub in ("notes", "messages", "restorative-actions"):
            assert (await c.get(f"/v1/cases/{police['id']}/{sub}", headers=h)).status_code == 404
        listed = (await c.get("/v1/cases", headers=h)).json()
        assert [x["id"] for x in listed["items"]] == [parks["id"]]
        metrics = (await c.get("/v1/metrics", headers=h)).json()
        assert metrics["by_department"] == {"Parks and Recreation": 1}  # "Parks" is an alias
    # a director without a department claim sees nothing
    h = token("department_director", subject="dir-none")
    assert (await c.get(f"/v1/cases/{parks['id']}", headers=h)).status_code == 404
    assert (await c.get("/v1/cases", headers=h)).json()["total"] == 0
    # unknown ids look the same as other departments' ids
    assert (await c.get("/v1/cases/00000000-0000-7000-8000-000000000000", headers=h)).status_code == 404


async def test_writes_on_another_departments_case_are_404(make_app, client, token):
    c = client(make_app("case_api"))
    case = await sustained(c, token, employee="emp-5", severity=2, department="Police")
    parks_dir = token("department_director", department="Parks", subject="dir-parks")
    r = await c.post(f"/v1/cases/{case['id']}/decision", json={"action": "written_reprimand"}, headers=parks_dir)
    assert r.status_code == 404
    r = await c.post(f"/v1/cases/{case['id']}/notes", json={"body": "peek"}, headers=parks_dir)
    assert r.status_code == 404
    police_dir = token("department_director", department="Police", subject="dir-police")
    r = await c.post(f"/v1/cases/{case['id']}/decision", json={"action": case["recommendation"]["action"]},
                     headers=police_dir)
    assert r.status_code == 200


async def test_auditor_is_read_only(make_app, client, token):
    c = client(make_app("case_api"))
    case = await staff_case(c, token)
    aud = token("auditor", subject="aud-1")
    assert (await c.get(f"/v1/cases/{case['id']}", headers=aud)).status_code == 200
    assert (await c.post(f"/v1/cases/{case['id']}/notes", json={"body": "x"}, headers=aud)).status_code == 403
    r = await c.post(f"/v1/cases/{case['id']}/transitions", json={"to": "triaged"}, headers=aud)
    assert r.status_code == 403
    assert (await c.post("/v1/cases", json={"categories": ["other"], "summary": "x"}, headers=aud)).status_code == 403


async def test_employee_identity_only_for_roles_that_need_it_and_reads_are_audited(make_app, client, token,
                                                                                   databases):
    c = client(make_app("case_api"))
    case = await sustained(c, token, employee="emp-77", severity=1, department="Police")
    url = f"/v1/cases/{case['id']}"
    seen = {}
    for role, dept in [("investigator", None), ("hr", None), ("admin", None), ("department_director", "Police"),
                       ("pio", "Police"), ("auditor", None), ("intake", None)]:
        body = (await c.get(url, headers=token(role, department=dept, subject=f"{role}-x"))).json()
        seen[role] = body["employee_id"]
        if body["employee_id"] is None:
            assert "emp-77" not in str(body) and "priors" not in (body["recommendation"] or {})
    assert seen == {"investigator": "emp-77", "hr": "emp-77", "admin": "emp-77", "department_director": "emp-77",
                    "pio": None, "auditor": None, "intake": None}
    with databases["case_api"].engine.connect() as conn:
        readers = [r[0] for r in conn.execute(
            select(AuditEntry.actor).where(AuditEntry.action == "case.confidential_read").order_by(AuditEntry.seq))]
    assert readers == ["investigator-x", "hr-x", "admin-x", "department_director-x"]


async def test_staff_endpoints_need_a_staff_token(make_app, client, token):
    c = client(make_app("case_api"))
    assert (await c.get("/v1/cases")).status_code == 401
    assert (await c.get("/v1/cases", headers=token("service:feedback_api"))).status_code == 403
    assert (await c.get("/v1/cases", headers=token("policy_editor"))).status_code == 403


async def test_nul_characters_are_4xx_never_5xx(make_app, client, token):
    c = client(make_app("case_api"))
    inv = token("investigator")
    for path in ("/v1/cases/abc%00def", "/v1/cases/abc%00def/notes", "/v1/monitoring/reviews/a%00b"):
        r = await c.get(path, headers=inv)
        assert r.status_code in (404, 422), (path, r.status_code)
    r = await c.get("/v1/cases", params={"department": "\x00"}, headers=inv)
    assert r.status_code in (200, 422)
    r = await c.post("/v1/cases", json={"categories": ["other"], "summary": "a\x00b"}, headers=token("intake"))
    assert r.status_code in (201, 422)
    assert r.headers["content-type"].startswith("application/json" if r.status_code == 201 else "application/problem")
