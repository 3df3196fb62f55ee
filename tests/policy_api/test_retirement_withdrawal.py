"""A pending two-person retirement request can be withdrawn by its requester, and only by them; the
withdrawal is change-logged with its reason and the version stays published (issue 20)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from services.policy_api.domain import retirements
from services.policy_api.domain.models import ChangeLogEntry
from tests.policy_api.helpers import published_policy


async def test_the_requester_withdraws_a_pending_retirement(api, app, token, clock):
    policy, version = await published_policy(api, token, identifier="AI 2-20", kind="administrative_instruction")
    base = f"/v1/policies/{policy['id']}/versions/{version['id']}"
    requester, other = token("records_manager", subject="emp-r"), token("policy_approver", subject="emp-a")
    assert (await api.post(base + "/retire/withdraw", headers=requester)).status_code == 409  # nothing pending
    r = await api.post(base + "/retire", json={"reason": "Replaced by SMP-1."}, headers=requester)
    assert r.status_code == 200

    r = await api.post(base + "/retire/withdraw", json={"reason": "Not yet."}, headers=other)
    assert r.status_code == 403 and r.json()["type"] == "urn:civicsocial:problem:not-the-requester"
    assert r.json()["requested_by"] == "emp-r"
    assert (await api.post(base + "/retire/withdraw", headers=token("policy_editor", subject="emp-r"))).status_code \
        == 403  # an editor may not request, so may not withdraw either
    assert (await api.post(base + "/retire/withdraw", json={"reason": "x" * 2001},
                           headers=requester)).status_code == 422

    clock.advance(timedelta(minutes=5))
    r = await api.post(base + "/retire/withdraw", json={"reason": "SMP-1 is not published yet."}, headers=requester)
    assert r.status_code == 200, r.text
    staff = r.json()["staff"]
    assert r.json()["state"] == "published" and staff["retirement_requested_by"] is None
    assert staff["retirement_reason"] is None
    # nothing left to confirm or withdraw; a new request starts the two-person rule again
    assert (await api.post(base + "/retire/confirm", headers=other)).status_code == 409
    assert (await api.post(base + "/retire/withdraw", headers=requester)).status_code == 409
    clock.advance(timedelta(minutes=5))
    assert (await api.post(base + "/retire", json={"reason": "Replaced by SMP-1, now."}, headers=other)).status_code \
        == 200
    clock.advance(timedelta(minutes=5))
    assert (await api.post(base + "/retire/confirm", headers=requester)).status_code == 403  # records staff
    r = await api.post(base + "/retire/confirm", headers=token("policy_approver", subject="emp-b"))
    assert r.status_code == 200 and r.json()["state"] == "retired"
    assert (await api.post(base + "/retire/withdraw", headers=other)).status_code == 409  # retired: too late

    with app.state.db.read() as s:
        logged = s.exec(select(ChangeLogEntry).where(ChangeLogEntry.entity_id == version["id"],
                                                     ChangeLogEntry.action == retirements.WITHDRAWN)).all()
        assert len(logged) == 1 and logged[0].actor == "emp-r"
        assert logged[0].before["retirement_requested_by"] == "emp-r"
        assert logged[0].after["withdrawal_reason"] == "SMP-1 is not published yet."
        steps = retirements.history(s)
    assert [(e.event, e.actor, e.reason) for e in steps] == [
        ("requested", "emp-r", "Replaced by SMP-1."), ("withdrawn", "emp-r", "SMP-1 is not published yet."),
        ("requested", "emp-a", "Replaced by SMP-1, now."), ("retired", "emp-b", "Replaced by SMP-1, now.")]
    assert {e.policy_identifier for e in steps} == {"AI 2-20"}
