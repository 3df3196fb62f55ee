"""Due process (issue 14, item 3): a proposed action with notice to the employee, their response by
a due date, the final decision, an appeal and its outcome; an overturned finding is no prior."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.case_api.domain.due_process import TRANSITIONS, Step, Windows, check
from shared.errors import Conflict, InvalidTransition
from shared.timeutil import FrozenClock
from tests.case_api.helpers import sustained

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_the_machine_and_its_windows():
    w = Windows(response_days=10, response_days_by_action={"termination": 15}, appeal_days=15)
    day = T0.date()
    assert w.response_due("termination", day) == day + timedelta(days=15)
    assert w.response_due("retraining", day) == day + timedelta(days=10)
    due = w.response_due("retraining", day)
    check(Step.noticed, Step.responded, today=due, due_on=due)
    with pytest.raises(Conflict):
        check(Step.noticed, Step.responded, today=due + timedelta(days=1), due_on=due)
    with pytest.raises(Conflict):  # no decision while the employee may still respond
        check(Step.noticed, Step.decided, today=due, due_on=due)
    check(Step.noticed, Step.decided, today=due + timedelta(days=1), due_on=due)
    with pytest.raises(InvalidTransition):
        check(Step.decided, Step.responded, today=day)
    with pytest.raises(InvalidTransition):
        check(Step.overturned, Step.appealed, today=day)


async def test_notice_response_decision_appeal_and_overturn(make_app, client, token):
    clock = FrozenClock(T0)
    c = client(make_app("case_api", clock=clock, response_window_days=7, due_process_required=True))
    first = await sustained(c, token, employee="emp-50", severity=2)
    cid, rec = first["id"], first["recommendation"]["action"]
    hr1 = token("hr", subject="hr-1")
    # required: no decision without notice
    assert (await c.post(f"/v1/cases/{cid}/decision", json={"action": rec}, headers=hr1)).status_code == 409
    r = await c.post(f"/v1/cases/{cid}/proposed-action", json={"action": rec, "reason": "Policy 3.2"}, headers=hr1)
    assert r.status_code == 201 and r.json()["response_due_on"] == "2026-11-09"
    # the employee (recused from the case itself) sees their notice, and nobody else's
    me = token("pio", department="Police", subject="EMP-50")
    notices = (await c.get("/v1/notices", headers=me)).json()
    assert [(n["case_reference"], n["proposed_action"], n["step"]) for n in notices] == [
        (first["reference"], rec, "noticed")]
    assert "summary" not in notices[0] and "reports" not in notices[0]
    assert (await c.get("/v1/notices", headers=token("pio", department="Police", subject="emp-51"))).json() == []
    nid = notices[0]["id"]
    other = token("pio", department="Police", subject="emp-51")
    r = await c.post(f"/v1/notices/{nid}/response", json={"text": "x"}, headers=other)
    assert r.status_code == 404
    # no decision while the window is open
    assert (await c.post(f"/v1/cases/{cid}/decision", json={"action": rec}, headers=hr1)).status_code == 409
    r = await c.post(f"/v1/notices/{nid}/response", json={"text": "I was provoked; see the thread."}, headers=me)
    assert r.status_code == 200 and r.json()["step"] == "responded"
    r = await c.post(f"/v1/cases/{cid}/decision", json={"action": rec}, headers=hr1)
    assert r.status_code == 200 and r.json()["state"] == "actions"
    # the appeal, within its window
    r = await c.post(f"/v1/notices/{nid}/appeal", json={"grounds": "The post was not mine."}, headers=me)
    assert r.status_code == 200 and r.json()["step"] == "appealed"
    url = f"/v1/cases/{cid}/due-process/{nid}/appeal-outcome"
    overturn = {"outcome": "overturned", "reason": "The account was shared; authorship not proven."}
    assert (await c.post(url, json=overturn, headers=hr1)).status_code == 403  # the decider
    r = await c.post(url, json=overturn, headers=token("hr", subject="hr-2"))
    assert r.status_code == 200 and r.json()["step"] == "overturned"
    history = (await c.get(f"/v1/cases/{cid}/decisions", headers=hr1)).json()
    assert [d["status"] for d in history] == ["withdrawn"]
    proceedings = (await c.get(f"/v1/cases/{cid}/due-process", headers=hr1)).json()
    assert [p["step"] for p in proceedings] == ["overturned"]
    assert (await c.get(f"/v1/cases/{cid}/due-process", headers=token("pio", department="Police"))).status_code == 403
    # the overturned finding is no prior
    second = await sustained(c, token, employee="emp-50", severity=2)
    assert second["recommendation"]["prior_count"] == 0


async def test_a_lapsed_window_allows_the_decision_and_closes_the_response(make_app, client, token):
    clock = FrozenClock(T0)
    c = client(make_app("case_api", clock=clock, response_window_days_by_action={"termination": 3},
                        appeal_window_days=2))
    case = await sustained(c, token, employee="emp-60", severity=4)
    hr1 = token("hr", subject="hr-1")
    r = await c.post(f"/v1/cases/{case['id']}/proposed-action", json={"action": "termination"}, headers=hr1)
    assert r.json()["response_due_on"] == "2026-11-05"
    assert (await c.post(f"/v1/cases/{case['id']}/proposed-action", json={"action": "termination"},
                         headers=hr1)).status_code == 409
    clock.advance(timedelta(days=4))
    me = token("investigator", subject="emp-60")
    nid = r.json()["id"]
    assert (await c.post(f"/v1/notices/{nid}/response", json={"text": "late"}, headers=me)).status_code == 409
    action = case["recommendation"]["action"]
    body = {"action": "termination", "justification": "Threats against a resident, repeated after warning."}
    if action == "termination":
        body = {"action": action}
    assert (await c.post(f"/v1/cases/{case['id']}/decision", json=body, headers=hr1)).status_code == 200
    clock.advance(timedelta(days=3))
    assert (await c.post(f"/v1/notices/{nid}/appeal", json={"grounds": "late"}, headers=me)).status_code == 409


@given(st.lists(st.sampled_from(list(Step)), max_size=10))
def test_only_the_machine_s_moves_are_allowed(targets):
    current = Step.noticed
    for target in targets:
        if target in TRANSITIONS[current]:
            check(current, target, today=T0.date())
            current = target
        else:
            with pytest.raises(InvalidTransition):
                check(current, target, today=T0.date())
    assert current in TRANSITIONS
