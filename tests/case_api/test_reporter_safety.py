"""Reporter safety (issue 14 item 5): only intake and investigators write to a reporter; a message
goes to one report and never names another reporter's reference; a dismissal always carries a
public outcome; the reporter adds evidence after filing and may ask once for reconsideration."""

from __future__ import annotations

from sqlalchemy import select

from services.case_api.domain.models import CaseMessage, OutboxMessage
from services.case_api.domain.reporter_safety import names_reference
from tests.case_api.helpers import forward, idem, move

SVC = ("service:feedback_api",)


async def _two_reports_one_case(c, token) -> tuple[str, dict, dict]:
    svc = token(*SVC, subject="service:feedback_api")
    first = forward(incident_key="post-77", reference="R-7K2P-QXAB")
    second = forward(incident_key="post-77", reference="R-9MZT-WW12")
    a = (await c.post("/v1/intake/reports", json=first, headers={**svc, **idem(first["report_id"])})).json()
    b = (await c.post("/v1/intake/reports", json=second, headers={**svc, **idem(second["report_id"])})).json()
    assert a["case_id"] == b["case_id"]
    return a["case_id"], first, second


def _events(databases) -> list[tuple[str, dict]]:
    with databases["case_api"].engine.connect() as conn:
        return [(p["report_id"], p["event"]) for (p,) in conn.execute(
            select(OutboxMessage.payload).order_by(OutboxMessage.created_at, OutboxMessage.id))]


async def test_only_intake_and_investigators_write_to_a_reporter(make_app, client, token):
    c = client(make_app("case_api"))
    svc = token(*SVC, subject="service:feedback_api")
    body = forward()
    cid = (await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})).json()["case_id"]
    for role in ("pio", "admin", "hr", "department_director", "auditor"):
        r = await c.post(f"/v1/cases/{cid}/messages", json={"body": "Please withdraw."},
                         headers=token(role, department="Police"))
        assert r.status_code == 403, role
    for role in ("intake", "investigator"):
        r = await c.post(f"/v1/cases/{cid}/messages", json={"body": "Thank you."}, headers=token(role))
        assert r.status_code == 201, role
        assert r.json()["report_id"] == body["report_id"]  # the case's only report


async def test_a_message_goes_to_one_report_never_to_all(make_app, client, token, databases):
    c = client(make_app("case_api", relay_enabled=False))
    cid, _first, second = await _two_reports_one_case(c, token)
    inv = token("investigator")
    r = await c.post(f"/v1/cases/{cid}/messages", json={"body": "Could you send the screenshot?"}, headers=inv)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "report_id"]
    r = await c.post(f"/v1/cases/{cid}/messages", json={"body": "Hello", "report_id": "not-on-this-case"}, headers=inv)
    assert r.status_code == 404
    before = len(_events(databases))
    r = await c.post(f"/v1/cases/{cid}/messages",
                     json={"body": "Could you send the screenshot?", "report_id": second["report_id"]}, headers=inv)
    assert r.status_code == 201 and r.json()["report_id"] == second["report_id"]
    sent = _events(databases)[before:]
    assert [(rid, e["kind"]) for rid, e in sent] == [(second["report_id"], "message")]
    with databases["case_api"].engine.connect() as conn:
        stored = conn.execute(select(CaseMessage.report_id).where(CaseMessage.case_id == cid)).scalars().all()
    assert stored == [second["report_id"]]


async def test_a_message_never_names_another_reporters_reference(make_app, client, token):
    c = client(make_app("case_api", relay_enabled=False))
    cid, _first, second = await _two_reports_one_case(c, token)
    inv = token("intake")
    for body in ["Another resident (R-7K2P-QXAB) reported this too.", "see r 7k2p qxab", "R7K2PQXAB"]:
        r = await c.post(f"/v1/cases/{cid}/messages", json={"body": body, "report_id": second["report_id"]},
                         headers=inv)
        assert r.status_code == 422, body
    # their own reference is fine
    r = await c.post(f"/v1/cases/{cid}/messages",
                     json={"body": "About your report R-9MZT-WW12: thank you.", "report_id": second["report_id"]},
                     headers=inv)
    assert r.status_code == 201


def test_names_reference_ignores_case_and_punctuation():
    assert names_reference("ref: r-7k2p-qxab.", ["R-7K2P-QXAB"])
    assert not names_reference("R-7K2P", ["R-7K2P-QXAB"])
    assert not names_reference("anything", [])


async def test_a_dismissal_always_carries_a_public_outcome(make_app, client, token, databases):
    c = client(make_app("case_api", relay_enabled=False))
    svc = token(*SVC, subject="service:feedback_api")
    body = forward()
    cid = (await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})).json()["case_id"]
    for outcome in (None, "", "   "):
        extra = {} if outcome is None else {"outcome_summary": outcome}
        r = await move(c, token, cid, "dismissed", role="intake", reason="Not a City account.", **extra)
        assert r.status_code == 422, outcome
        assert r.headers["content-type"] == "application/problem+json"
    r = await move(c, token, cid, "dismissed", role="intake", reason="INTERNAL: not a City account.",
                   outcome_summary="The page you reported is not run by the City.")
    assert r.status_code == 200
    status = [e for rid, e in _events(databases) if rid == body["report_id"] and e["kind"] == "status"]
    assert status[-1]["status"] == "closed"
    assert status[-1]["outcome_summary"] == "The page you reported is not run by the City."


EVIDENCE = {"id": "ev-late-1", "media_type": "image/png", "size_bytes": 1234, "sha256": "b" * 64}


async def test_evidence_added_after_filing_reaches_the_case(make_app, client, token):
    c = client(make_app("case_api", relay_enabled=False))
    svc = token(*SVC, subject="service:feedback_api")
    body = forward()
    cid = (await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})).json()["case_id"]
    url = f"/v1/intake/reports/{body['report_id']}/evidence"
    batch = {"batch_id": "b-1", "evidence": [EVIDENCE]}
    r = await c.post(url, json=batch, headers={**svc, **idem("b-1")})
    assert r.status_code == 201 and r.json() == {"batch_id": "b-1", "added": 1}
    r = await c.post(url, json=batch, headers={**svc, **idem("b-1")})
    assert r.status_code == 200 and r.headers["idempotent-replayed"] == "true"
    assert (await c.post("/v1/intake/reports/nope/evidence", json=batch, headers={**svc, **idem("b-2")})
            ).status_code == 404
    assert (await c.post(url, json=batch, headers=idem("b-3"))).status_code == 401
    assert (await c.post(url, json=batch, headers={**token("intake"), **idem("b-4")})).status_code == 403
    case = (await c.get(f"/v1/cases/{cid}", headers=token("investigator"))).json()
    assert [e["id"] for e in case["evidence"]] == ["ev-late-1"]
    assert [e["id"] for e in case["reports"][0]["evidence"]] == ["ev-late-1"]
    trail = (await c.get(f"/v1/audit/cases/{cid}?limit=100", headers=token("auditor"))).json()
    assert [e["detail"]["evidence_ids"] for e in trail if e["action"] == "case.evidence_added"] == [["ev-late-1"]]
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"]


async def test_a_reconsideration_request_is_kept_on_the_report_once(make_app, client, token):
    c = client(make_app("case_api", relay_enabled=False))
    svc = token(*SVC, subject="service:feedback_api")
    body = forward()
    cid = (await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})).json()["case_id"]
    assert (await move(c, token, cid, "dismissed", role="intake", reason="x", outcome_summary="Not a City account."
                       )).status_code == 200
    url = f"/v1/intake/reports/{body['report_id']}/reconsideration"
    ask = {"request_id": "rq-1", "reason": "It is the City's account: its bio says so."}
    r = await c.post(url, json=ask, headers={**svc, **idem("rq-1")})
    assert r.status_code == 201 and r.json()["recorded"] is True
    again = {"request_id": "rq-2", "reason": "Second try."}
    r = await c.post(url, json=again, headers={**svc, **idem("rq-2")})
    assert r.status_code == 200 and r.json()["recorded"] is False
    report = (await c.get(f"/v1/cases/{cid}", headers=token("intake"))).json()["reports"][0]
    assert report["reconsideration_reason"] == ask["reason"] and report["reconsideration_on"] is not None
    trail = (await c.get(f"/v1/audit/cases/{cid}?limit=100", headers=token("auditor"))).json()
    assert sum(e["action"] == "case.reconsideration_requested" for e in trail) == 1
