"""Policy staff triage residents' policy feedback (issue 20 item 5): list by state and policy, view,
consider, reply through the receipt (the resident reads it on the status page), close with an
outcome, reopen; who may; bounds; query shape."""

from __future__ import annotations

from sqlalchemy import select

from services.feedback_api.domain.models import FeedbackTriageEvent, Submission
from shared.timeutil import FrozenClock
from tests.feedback_api.factories import FeedbackFactory, utc
from tests.support.sqlcount import count_statements

FEEDBACK = {"policy_id": "pol-1", "version_id": "ver-1", "text": "Please define 'arguing with the public'."}


async def _file(c, **overrides) -> dict:
    r = await c.post("/v1/feedback", json={**FEEDBACK, **overrides})
    assert r.status_code == 201, r.text
    return r.json()


async def test_triage_reply_through_the_receipt_and_close(fb_app, client, token):
    clock = FrozenClock(utc(2026, 11, 25, 15, 30))
    app = fb_app(clock=clock)
    c = client(app)
    filed = await _file(c, contact_email="resident@example.org")
    ref, receipt = filed["reference"], filed["receipt"]
    staff = token("policy_editor", subject="editor-ann")

    r = await c.get(f"/v1/staff/feedback/{ref}", headers=staff)
    assert r.status_code == 200
    d = r.json()
    assert d["state"] == "received" and d["allowed_actions"] == ["answer", "close", "consider"]
    assert d["messages"] == [] and d["history"] == [] and "contact" not in str(d)
    assert (await c.post("/v1/receipts/status", json={"receipt": receipt})).json()["feedback_state"] == "received"

    r = await c.post(f"/v1/staff/feedback/{ref}/transitions", json={"action": "consider", "note": "for SMP-1 2026"},
                     headers=staff)
    assert r.status_code == 200 and r.json()["state"] == "considered"
    status = (await c.post("/v1/receipts/status", json={"receipt": receipt})).json()
    assert status["status"] == "under_review" and status["feedback_state"] == "considered"
    assert "for SMP-1" not in str(status)  # a staff note stays with staff

    r = await c.post(f"/v1/staff/feedback/{ref}/replies",
                     json={"body": "Thank you. The new draft defines it in section 3."}, headers=staff)
    assert r.status_code == 201 and r.json()["state"] == "answered"
    status = (await c.post("/v1/receipts/status", json={"receipt": receipt})).json()
    assert status["feedback_state"] == "answered"
    assert status["messages"] == [{"from": "city", "body": "Thank you. The new draft defines it in section 3.",
                                   "on": "2026-11-25"}]

    r = await c.post(f"/v1/staff/feedback/{ref}/transitions",
                     json={"action": "close", "outcome": "Section 3 of SMP-1 2026.1 now defines it."},
                     headers=token("policy_approver", subject="approver-bo"))
    assert r.status_code == 200
    d = r.json()
    assert d["state"] == "closed" and d["allowed_actions"] == ["reopen"]
    assert [(h["action"], h["from_state"], h["to_state"], h["actor"]) for h in d["history"]] == [
        ("consider", "received", "considered", "editor-ann"), ("answer", "considered", "answered", "editor-ann"),
        ("close", "answered", "closed", "approver-bo")]
    assert d["history"][0]["note"] == "for SMP-1 2026" and d["history"][0]["at"].startswith("2026-11-25T15:30")
    status = (await c.post("/v1/receipts/status", json={"receipt": receipt})).json()
    assert status["status"] == "closed" and status["outcome_summary"] == "Section 3 of SMP-1 2026.1 now defines it."

    # closed: no more replies, and the same transition twice is refused with what is allowed
    r = await c.post(f"/v1/staff/feedback/{ref}/replies", json={"body": "One more thing."}, headers=staff)
    assert r.status_code == 409 and r.json()["allowed"] == ["reopen"]
    assert r.headers["content-type"] == "application/problem+json"
    r = await c.post(f"/v1/staff/feedback/{ref}/transitions", json={"action": "reopen"}, headers=staff)
    assert r.json()["state"] == "considered" and r.json()["outcome_summary"] is None


async def test_the_page_of_feedback_filters_by_state_and_policy(fb_app, client, token):
    c = client(fb_app())
    a = await _file(c)
    b = await _file(c, policy_id="pol-2")
    await _file(c)
    staff = token("policy_approver")
    await c.post(f"/v1/staff/feedback/{a['reference']}/transitions", json={"action": "consider"}, headers=staff)
    await c.post(f"/v1/staff/feedback/{b['reference']}/transitions", json={"action": "close"}, headers=staff)

    async def refs(**params) -> set[str]:
        r = await c.get("/v1/staff/feedback", params=params, headers=staff)
        assert r.status_code == 200
        return {i["reference"] for i in r.json()["items"]}

    assert await refs(state="considered") == {a["reference"]}
    assert await refs(state="closed") == {b["reference"]}
    assert len(await refs(state="received")) == 1
    assert await refs(policy_id="pol-2") == {b["reference"]}
    assert await refs(policy_id="pol-1", state="closed") == set()
    assert (await c.get("/v1/staff/feedback", params={"state": "lost"}, headers=staff)).status_code == 422
    items = (await c.get("/v1/staff/feedback", headers=staff)).json()["items"]
    assert {i["state"] for i in items} == {"considered", "closed", "received"}


async def test_only_policy_staff_triage(fb_app, client, token):
    c = client(fb_app())
    ref = (await _file(c))["reference"]
    for role in ("investigator", "intake", "records_manager", "service:case_api", "service:policy_api"):
        h = token(role)
        assert (await c.get(f"/v1/staff/feedback/{ref}", headers=h)).status_code == 403, role
        assert (await c.post(f"/v1/staff/feedback/{ref}/replies", json={"body": "hi"}, headers=h)).status_code == 403
        assert (await c.post(f"/v1/staff/feedback/{ref}/transitions", json={"action": "close"},
                             headers=h)).status_code == 403
    assert (await c.get(f"/v1/staff/feedback/{ref}")).status_code == 401
    for role in ("policy_editor", "policy_approver", "admin"):
        assert (await c.get(f"/v1/staff/feedback/{ref}", headers=token(role))).status_code == 200


async def test_replies_and_notes_are_bounded_and_clean(fb_app, client, token, databases):
    app = fb_app()
    c = client(app)
    ref = (await _file(c))["reference"]
    staff = token("policy_editor")
    url = f"/v1/staff/feedback/{ref}"
    for body in ({"body": ""}, {"body": "x" * 2001}, {"body": "nul\x00here"}, {"body": "ok", "extra": 1},
                 {"body": "ok", "note": "n" * 2001}):
        r = await c.post(url + "/replies", json=body, headers=staff)
        assert r.status_code == 422, body
    assert (await c.post(url + "/replies", json={"body": "   "}, headers=staff)).status_code == 422
    assert (await c.post(url + "/transitions", json={"action": "answer"}, headers=staff)).status_code == 422
    assert (await c.post(url + "/transitions", json={"action": "consider", "outcome": "early"},
                         headers=staff)).status_code == 422
    # nothing was stored by the refused calls
    with app.state.db.read() as s:
        assert s.execute(select(FeedbackTriageEvent)).first() is None
        assert s.execute(select(Submission.triage_state)).scalar_one() == "received"
    # a violation report is not policy feedback; odd references are 404 without a query
    report = await c.post("/v1/reports", json={"account_text": "@abq", "platform": "facebook",
                                               "categories": ["personal_attack"], "description": "rude"})
    assert (await c.get(f"/v1/staff/feedback/{report.json()['reference']}", headers=staff)).status_code == 404
    with count_statements(app.state.db) as counted:
        assert (await c.get("/v1/staff/feedback/..%2Fx", headers=staff)).status_code == 404
        assert (await c.get("/v1/staff/feedback/" + "F" * 80, headers=staff)).status_code == 404
    assert counted.n == 0


async def test_policy_api_reads_a_reference_and_the_counts(fb_app, client, token):
    c = client(fb_app())
    a = await _file(c)
    await _file(c)
    await _file(c, policy_id="pol-2")
    await c.post(f"/v1/staff/feedback/{a['reference']}/replies", json={"body": "Thanks."},
                 headers=token("policy_editor"))
    svc = token("service:policy_api", subject="service:policy_api")
    r = await c.get(f"/v1/internal/policy-feedback/{a['reference']}", headers=svc)
    assert r.status_code == 200
    assert r.json() == {"reference": a["reference"], "policy_id": "pol-1", "version_id": "ver-1",
                        "state": "answered", "received_on": r.json()["received_on"]}
    r = await c.get("/v1/internal/policy-feedback/counts", headers=svc)
    assert r.json()["items"] == [{"policy_id": "pol-1", "state": "answered", "count": 1},
                                 {"policy_id": "pol-1", "state": "received", "count": 1},
                                 {"policy_id": "pol-2", "state": "received", "count": 1}]
    assert (await c.get("/v1/internal/policy-feedback/counts", headers=token("policy_editor"))).status_code == 403


def _feedback_rows(app, n: int) -> list[str]:
    rows = [FeedbackFactory.build() for _ in range(n)]
    with app.state.db.write() as s:
        s.add_all(rows)
    return [r.reference for r in rows]


async def _count(app, c, url, **kw) -> int:
    with count_statements(app.state.db) as counted:
        r = await c.get(url, **kw)
    assert r.status_code == 200, r.text
    return counted.n


async def test_query_shape_of_the_triage_list_and_detail(fb_app, client, token):
    app = fb_app()
    c = client(app)
    staff = token("policy_editor")
    first = _feedback_rows(app, 1)[0]
    list_one = await _count(app, c, "/v1/staff/feedback", params={"state": "received"}, headers=staff)
    detail_one = await _count(app, c, f"/v1/staff/feedback/{first}", headers=staff)
    svc = token("service:policy_api")
    counts_one = await _count(app, c, "/v1/internal/policy-feedback/counts", headers=svc)
    _feedback_rows(app, 49)
    for _ in range(3):  # a history and messages that grow
        await c.post(f"/v1/staff/feedback/{first}/replies", json={"body": "More."}, headers=staff)
    params = {"state": "received", "limit": 100}
    assert len((await c.get("/v1/staff/feedback", params=params, headers=staff)).json()["items"]) == 49
    assert list_one == await _count(app, c, "/v1/staff/feedback", params=params, headers=staff) == 2
    assert detail_one == await _count(app, c, f"/v1/staff/feedback/{first}", headers=staff) == 3
    assert counts_one == await _count(app, c, "/v1/internal/policy-feedback/counts", headers=svc) == 1
