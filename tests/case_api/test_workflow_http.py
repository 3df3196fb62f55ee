"""The workflow over HTTP: transitions, the ladder's recommendation (a repeat is heavier), the
justified override, SLAs with a controllable clock, and reporter-visible events in the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.case_api.domain.models import OutboxMessage
from shared.timeutil import FrozenClock
from tests.case_api.helpers import forward, idem, move, staff_case, sustained

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_illegal_transition_is_409_problem(make_app, client, token):
    c = client(make_app("case_api"))
    case = await staff_case(c, token)
    r = await move(c, token, case["id"], "closed")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("invalid-transition") and body["current_state"] == "received"
    r = await move(c, token, case["id"], "dismissed")
    assert r.status_code == 422  # a dismissal needs a reason
    r = await move(c, token, case["id"], "dismissed", reason="Not an official City account.")
    assert r.status_code == 422  # and a public outcome the reporter reads (issue 14 item 5)
    assert r.json()["errors"][0]["loc"] == ["body", "outcome_summary"]
    r = await move(c, token, case["id"], "dismissed", reason="Not an official City account.",
                   outcome_summary="The account is not run by the City.")
    assert r.status_code == 200 and r.json()["state"] == "dismissed"
    r = await c.post(f"/v1/cases/{case['id']}/reopen", json={"reason": "It is the Parks account after all."},
                     headers=token("investigator"))
    assert r.status_code == 200 and r.json()["state"] == "triaged" and r.json()["reopen_reason"]


async def test_second_sustained_finding_for_same_employee_recommends_heavier_action(make_app, client, token):
    clock = FrozenClock(T0)
    c = client(make_app("case_api", clock=clock, policy_api_url="http://127.0.0.1:9"))  # nothing listens there
    first = await sustained(c, token, employee="emp-42", severity=1)
    assert first["recommendation"]["action"] == "retraining"
    assert first["recommendation"]["prior_count"] == 0
    assert first["recommendation"]["matrix_version"] == "2026-1"
    # policy_api is not running here: the decision still proceeds, with the policy status "unknown"
    assert first["recommendation"]["policy"]["status"] == "unknown"
    clock.advance(timedelta(days=30))
    second = await sustained(c, token, employee="emp-42", severity=1)
    rec = second["recommendation"]
    assert rec["prior_count"] == 1 and rec["priors"][0]["reference"] == first["reference"]
    assert rec["action"] == "verbal_counseling"
    other = await sustained(c, token, employee="emp-7", severity=1)
    assert other["recommendation"]["action"] == "retraining"


async def test_priors_outside_the_lookback_window_do_not_count(make_app, client, token):
    clock = FrozenClock(T0)
    c = client(make_app("case_api", clock=clock))
    await sustained(c, token, employee="emp-9", severity=2)
    clock.advance(timedelta(days=25 * 31))
    later = await sustained(c, token, employee="emp-9", severity=2)
    assert later["recommendation"]["prior_count"] == 0


async def test_override_refused_without_justification_and_recorded_with_one(make_app, client, token):
    c = client(make_app("case_api"))
    case = await sustained(c, token, employee="emp-1", severity=3)
    assert case["recommendation"]["action"] == "written_reprimand"
    url = f"/v1/cases/{case['id']}/decision"
    hr = token("hr", subject="hr-1")
    r = await c.post(url, json={"action": "verbal_counseling"}, headers=hr)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "justification"]
    r = await c.post(url, json={"action": "verbal_counseling", "justification": "short"}, headers=hr)
    assert r.status_code == 422
    r = await c.post(url, json={"action": "verbal_counseling", "decision": "x"}, headers=hr)
    assert r.status_code == 422
    just = "The post was removed within minutes and the employee apologised unprompted."
    r = await c.post(url, json={"action": "verbal_counseling", "justification": just}, headers=hr)
    assert r.status_code == 200, r.text
    d = r.json()["decision"]
    assert d["differs"] is True and d["recommended"] == "written_reprimand" and d["justification"] == just
    assert r.json()["state"] == "actions"
    # investigators do not decide discipline
    r = await c.post(url, json={"action": "written_reprimand"}, headers=token("investigator"))
    assert r.status_code == 403
    r = await move(c, token, case["id"], "closed", role="hr", outcome_summary="Action taken; post corrected.")
    assert r.status_code == 200 and r.json()["closed_at"]


async def test_decision_matching_recommendation_needs_no_justification(make_app, client, token):
    c = client(make_app("case_api"))
    case = await sustained(c, token, employee="emp-2", severity=2)
    r = await c.post(f"/v1/cases/{case['id']}/decision", json={"action": case["recommendation"]["action"]},
                     headers=token("department_director", department="Police", subject="dir-1"))
    assert r.status_code == 200 and r.json()["decision"]["differs"] is False


async def test_sustained_needs_employee_and_severity(make_app, client, token):
    c = client(make_app("case_api"))
    case = await staff_case(c, token)
    await move(c, token, case["id"], "triaged")
    await move(c, token, case["id"], "investigating")
    r = await c.post(f"/v1/cases/{case['id']}/finding", json={"finding": "sustained"}, headers=token("investigator"))
    assert r.status_code == 422
    r = await c.post(f"/v1/cases/{case['id']}/finding", json={"finding": "unfounded"}, headers=token("investigator"))
    assert r.status_code == 200 and r.json()["recommendation"] is None
    assert (await move(c, token, case["id"], "actions")).status_code == 409
    assert (await move(c, token, case["id"], "closed")).status_code == 200


async def test_due_soon_and_overdue_follow_the_state_sla(make_app, client, token):
    clock = FrozenClock(T0)
    c = client(make_app("case_api", clock=clock, sla_hours={"received": 48, "triaged": 120}))
    a = await staff_case(c, token)
    staff = token("investigator")
    clock.advance(timedelta(hours=10))
    b = await staff_case(c, token)
    soon = (await c.get("/v1/cases/due-soon", params={"within_hours": 40}, headers=staff)).json()
    assert [x["id"] for x in soon["items"]] == [a["id"]]
    clock.advance(timedelta(hours=40))  # a: 50h old (overdue), b: 40h old
    over = (await c.get("/v1/cases/overdue", headers=staff)).json()
    assert [x["id"] for x in over["items"]] == [a["id"]]
    await move(c, token, a["id"], "triaged")  # new state, new clock
    over = (await c.get("/v1/cases/overdue", headers=staff)).json()
    assert over["total"] == 0
    clock.advance(timedelta(hours=9))
    over = (await c.get("/v1/cases/overdue", headers=staff)).json()
    assert [x["id"] for x in over["items"]] == [b["id"]]


async def test_status_changes_and_messages_are_queued_for_the_reporter(make_app, client, token, databases):
    app = make_app("case_api")
    c = client(app)
    svc = token("service:feedback_api", subject="service:feedback_api")
    body = forward()
    case_id = (await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})).json()[
        "case_id"]
    await move(c, token, case_id, "triaged")
    r = await c.post(f"/v1/cases/{case_id}/messages", json={"body": "Thank you, we are looking into it."},
                     headers=token("intake"))
    assert r.status_code == 201
    await move(c, token, case_id, "dismissed", reason="Duplicate of an earlier case.",
               outcome_summary="This report duplicated another that is being handled.")
    with databases["case_api"].engine.connect() as conn:
        payloads = [row[0] for row in conn.execute(select(OutboxMessage.payload).order_by(OutboxMessage.created_at))]
    events = [p["event"] for p in payloads if p["report_id"] == body["report_id"]]
    assert [(e["kind"], e["status"]) for e in events] == [
        ("status", "under_review"), ("message", None), ("status", "closed")]
    assert events[2]["outcome_summary"] == "This report duplicated another that is being handled."
    assert "Duplicate of an earlier case." not in str(payloads)  # the internal reason stays internal
