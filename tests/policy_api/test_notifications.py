"""Policy notifications (issue 17) against a real SMTP server: everyone a newly published version
binds is asked once to acknowledge it, and the records team hears once that a review is due;
the same machinery as case_api's (outbox, lease, ledger)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

import services.policy_api.main  # noqa: F401 - registers every policy_api table before the first reset
from tests.policy_api.helpers import create_draft, full_sections, publish, published_policy
from tests.policy_api.test_registry import create_account
from tests.support.smtp import smtp_sink


@pytest.fixture
def sink(tmp_path):
    with smtp_sink(tmp_path) as s:
        yield s


def _app(make_app, clock, sink, **over):
    return make_app("policy_api", clock=clock, case_api_url="http://127.0.0.1:9", notify=sink.settings(),
                    notify_review_to=["records-1"], **over)


def _send(app):
    app.state.notifier.tick()
    app.state.relay.drain()


def _to(sink) -> Counter[tuple[str, str]]:
    return Counter((m["To"], m["Subject"]) for m in sink.messages)


async def test_each_bound_person_is_asked_once_per_published_version(make_app, client, token, clock, sink):
    app = _app(make_app, clock, sink)
    api = client(app)
    records = token("records_manager")
    account = await create_account(api, lambda *r, **k: token(*r, **k))
    for emp in ("emp-1001", "emp-1002"):
        r = await api.post(f"/v1/accounts/{account['id']}/privileges/grant",
                           json={"employee_id": emp, "reason": "coordinator"}, headers=records)
        assert r.status_code in (200, 201), r.text
    policy, version = await published_policy(api, token, identifier="AI 1-19")
    r = await api.post(f"/v1/policies/{policy['id']}/bindings", json={"employee_id": "emp-2000"}, headers=records)
    assert r.status_code == 201
    ack = f"/v1/policies/{policy['id']}/versions/{version['id']}/acknowledgements"
    assert (await api.post(ack, headers=token("pio", subject="emp-1002"))).status_code == 201  # already done
    _send(app)
    _send(app)
    subject = "Please acknowledge policy AI 1-19"
    assert _to(sink) == {("emp-1001@cabq.gov", subject): 1, ("emp-2000@cabq.gov", subject): 1}
    m = sink.messages[0]
    body = m.get_payload(decode=True).decode()
    assert body.strip().splitlines() == ["A new version of policy AI 1-19 applies to you. "
                                         "Please read and acknowledge it.", "",
                                         f"https://staff.cabq.gov/policies/{policy['id']}"]
    # a new version binds them again: asked again, once
    draft = await create_draft(api, token, policy["id"], sections=full_sections(" Revised."))
    await publish(api, token, policy["id"], draft["id"])
    _send(app)
    _send(app)
    got = _to(sink)
    assert got[("emp-1001@cabq.gov", subject)] == 2 and got[("emp-1002@cabq.gov", subject)] == 1
    assert got[("emp-2000@cabq.gov", subject)] == 2


async def test_a_review_due_is_announced_once_to_the_records_team(make_app, client, token, clock, sink):
    app = _app(make_app, clock, sink)
    api = client(app)
    await published_policy(api, token, identifier="AI 1-19")  # published 2025-03-01: due 2026-03-01
    _send(app)
    assert sink.messages == []
    clock.advance(timedelta(days=340))  # within 30 days of the due date
    _send(app)
    clock.advance(timedelta(days=20))
    _send(app)
    assert _to(sink) == {("records-1@cabq.gov", "Policy AI 1-19: review due"): 1}


async def test_two_instances_ask_each_person_once(make_app, client, token, clock, sink):
    one, two = _app(make_app, clock, sink), _app(make_app, clock, sink)
    api = client(one)
    policy, _ = await published_policy(api, token, identifier="AI 1-19")
    for emp in ("emp-1", "emp-2", "emp-3"):
        await api.post(f"/v1/policies/{policy['id']}/bindings", json={"employee_id": emp},
                       headers=token("records_manager"))
    for _ in range(2):
        for app in (one, two, two, one):
            app.state.notifier.tick()
        clock.advance(timedelta(seconds=one.state.settings.notify.lease_seconds + 1))
    one.state.relay.drain()
    two.state.relay.drain()
    assert sorted(_to(sink).values()) == [1, 1, 1]


async def test_a_city_system_hears_once_per_version_with_no_one_named(make_app, client, token, clock, sink):
    from tests.case_api.test_webhooks import _Receiver

    receiver = _Receiver()
    try:
        app = make_app("policy_api", clock=clock, case_api_url="http://127.0.0.1:9",
                       notify={**sink.settings(), "allow_private_targets": True})
        api = client(app)
        admin = token("admin", subject="admin-1")
        r = await api.post("/v1/webhooks/subscriptions", headers=admin,
                           json={"url": receiver.url, "events": ["policy.acknowledgement_required"]})
        assert r.status_code == 201, r.text
        receiver.secrets["s"] = r.json()["secret"]
        r = await api.post("/v1/webhooks/subscriptions", headers=admin,
                           json={"url": receiver.url, "events": ["case.assigned"]})
        assert r.status_code == 422  # not a policy_api event
        assert (await api.get("/v1/webhooks/subscriptions", headers=token("records_manager"))).status_code == 403
        policy, _ = await published_policy(api, token, identifier="AI 1-19")
        for emp in ("emp-1", "emp-2"):
            await api.post(f"/v1/policies/{policy['id']}/bindings", json={"employee_id": emp},
                           headers=token("records_manager"))
        _send(app)
        _send(app)
        assert len(receiver.verified) == 1 and receiver.refused == []
        body = receiver.verified[0][1]
        assert body["type"] == "policy.acknowledgement_required"
        assert body["data"] == {"reference": "AI 1-19", "link": f"https://staff.cabq.gov/policies/{policy['id']}"}
        assert "emp-" not in str(body)
        assert len(sink.messages) == 2  # the two people themselves, by email
    finally:
        receiver.server.shutdown()
