"""Staff notifications (issue 17) against a real SMTP server (aiosmtpd on loopback, STARTTLS and
authentication): the right people hear of a case event or a deadline, once, with nothing
personal in the message, and never anyone recused from the case."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

import services.case_api.main  # noqa: F401 - registers every case_api table before the first reset
from services.case_api import demo
from services.case_api.domain import employees
from services.case_api.domain.models import OutboxMessage
from services.case_api.domain.notification_models import NotificationRecord
from services.devkit import DemoContext
from shared.auth import issue_dev_token
from shared.settings import AuthSettings
from shared.timeutil import FrozenClock
from tests.case_api.helpers import move, staff_case
from tests.support.smtp import smtp_sink

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def sink(tmp_path):
    with smtp_sink(tmp_path) as s:
        yield s


def _app(make_app, sink, clock, **notify):
    return make_app("case_api", clock=clock, relay_enabled=False, monitoring_sync_seconds=0,
                    notify={**(sink.settings() if sink else {"poll_seconds": 0}), **notify})


def _directory(app, *people: tuple[str, str | None]) -> None:
    for user, dept in people:
        employees.create(app.state.db, fields=employees.EmployeeFields(user_name=user, department=dept), now=T0)


async def _enrol(c, token, subject: str, *roles: str, department: str | None = None, modes=None) -> None:
    r = await c.put("/v1/notifications/preferences", json={"modes": modes or {}},
                    headers=token(*roles, subject=subject, department=department))
    assert r.status_code == 200, r.text


def _send(app):
    app.state.notifier.tick()
    app.state.relay.drain()


def _to(sink) -> Counter[tuple[str, str]]:
    return Counter((m["To"], m["Subject"]) for m in sink.messages)


async def _team(c, token, app):
    _directory(app, ("intake-1", None), ("dir-police", "Police"), ("dir-parks", "Parks"), ("hr-1", None))
    await _enrol(c, token, "intake-1", "intake")
    await _enrol(c, token, "dir-police", "department_director", department="Police")
    await _enrol(c, token, "dir-parks", "department_director", department="Parks")
    await _enrol(c, token, "hr-1", "hr")


async def test_a_new_case_reaches_intake_and_its_department_director_and_says_only_what_happened(
        make_app, client, token, sink):
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock)
    c = client(app)
    await _team(c, token, app)
    case = await staff_case(c, token, summary="Reply called Jane Roe a liar.")
    clock.advance(timedelta(minutes=1))
    _send(app)
    queue = [m for m in sink.messages if m["Subject"].startswith("New case")]
    assert sorted(m["To"] for m in queue) == ["dir-police@cabq.gov", "intake-1@cabq.gov"]  # not Parks' director
    m = queue[0]
    ref = case["reference"]
    assert m["Subject"] == f"New case {ref} in your queue"
    assert m["From"] == "no-reply@cabq.gov" and m["Auto-Submitted"] == "auto-generated"
    assert m["Message-ID"].endswith("@cabq.gov>")
    body = m.get_payload(decode=True).decode()
    assert body.strip().splitlines() == [f"A new case, {ref}, is in your department's queue.", "",
                                         f"https://staff.cabq.gov/cases/{case['id']}"]
    for message in sink.messages:
        text = message.as_string()
        assert "Jane Roe" not in text and "liar" not in text and "acct-police-fb" not in text


async def test_assigned_to_me_is_sent_once_however_many_passes(make_app, client, token, sink):
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock)
    c = client(app)
    _directory(app, ("inv-2", None))
    case = await staff_case(c, token)
    r = await c.post(f"/v1/cases/{case['id']}/assignee", json={"assignee": "inv-2"},
                     headers=token("investigator", subject="inv-1"))
    assert r.status_code == 200, r.text
    for _ in range(3):
        _send(app)
        clock.advance(timedelta(minutes=5))
    assert _to(sink)[("inv-2@cabq.gov", f"Case {case['reference']} assigned to you")] == 1


async def test_the_accused_and_a_conflicted_colleague_never_hear_of_their_case(make_app, client, token, sink):
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock)
    c = client(app)
    await _team(c, token, app)
    _directory(app, ("intake-2", None))
    await _enrol(c, token, "intake-2", "intake")
    case = await staff_case(c, token)
    cid = case["id"]
    assert (await move(c, token, cid, "triaged")).status_code == 200
    assert (await move(c, token, cid, "investigating")).status_code == 200
    r = await c.post(f"/v1/cases/{cid}/employee", json={"employee_id": "DIR-Police"},
                     headers=token("investigator", subject="inv-1"))
    assert r.status_code == 200, r.text
    r = await c.post(f"/v1/cases/{cid}/conflicts", json={"reason": "I am a friend of the employee."},
                     headers=token("intake", subject="intake-2"))
    assert r.status_code == 201, r.text
    _send(app)  # the new case, announced after the subject is known
    clock.advance(timedelta(days=31))  # the investigation's SLA (30 days) has passed
    _send(app)
    got = _to(sink)
    assert got[("intake-1@cabq.gov", f"Case {case['reference']}: deadline passed")] == 1
    assert got[("intake-1@cabq.gov", f"New case {case['reference']} in your queue")] == 1
    assert not [to for to, _ in got if to in ("dir-police@cabq.gov", "intake-2@cabq.gov")]
    assert not [to for to, _ in got if to == "dir-parks@cabq.gov"]  # another department


async def test_two_instances_notify_each_deadline_exactly_once(make_app, client, token, sink):
    clock = FrozenClock(T0)
    one, two = _app(make_app, sink, clock), _app(make_app, sink, clock)
    c = client(one)
    _directory(one, ("intake-1", None))
    await _enrol(c, token, "intake-1", "intake")
    cases = [await staff_case(c, token) for _ in range(3)]

    def race() -> None:
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(app) -> None:
            try:
                barrier.wait()
                app.state.notifier.tick()
                barrier.wait()
                app.state.relay.drain()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(a,)) for a in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors

    for step in (timedelta(hours=1), timedelta(hours=30), timedelta(hours=20), timedelta(days=2)):
        clock.advance(step)
        race()
        # the lease holder ran the pass; make it lapse so the other instance may take over next time
        clock.advance(timedelta(seconds=one.state.settings.notify.lease_seconds + 1))
        race()
    got = _to(sink)
    for case in cases:
        ref = case["reference"]
        for subject in (f"New case {ref} in your queue", f"Case {ref}: deadline soon", f"Case {ref}: deadline passed"):
            assert got[("intake-1@cabq.gov", subject)] == 1, (subject, got)
    assert sum(got.values()) == 9


async def test_digest_gathers_a_day_in_one_email(make_app, client, token, sink):
    clock = FrozenClock(T0)  # 08:00 UTC, before the digest hour (13:00)
    app = _app(make_app, sink, clock)
    c = client(app)
    _directory(app, ("inv-2", None))
    await _enrol(c, token, "inv-2", "investigator", modes={"case.assigned": "digest", "case.sla_due_soon": "digest"})
    refs = []
    for _ in range(2):
        case = await staff_case(c, token)
        refs.append(case["reference"])
        r = await c.post(f"/v1/cases/{case['id']}/assignee", json={"assignee": "inv-2"},
                         headers=token("investigator", subject="inv-1"))
        assert r.status_code == 200
    _send(app)
    assert sink.messages == []
    clock.set(T0.replace(hour=13, minute=5))
    _send(app)
    _send(app)
    assert len(sink.messages) == 1
    m = sink.messages[0]
    assert m["Subject"] == "Your daily summary: 4 notifications" and m["To"] == "inv-2@cabq.gov"
    body = m.get_payload(decode=True).decode()
    for ref in refs:
        assert f"Case {ref} assigned to you" in body and f"Case {ref}: deadline soon" in body


async def test_nothing_is_sent_while_email_is_unset(make_app, client, token):
    clock = FrozenClock(T0)
    app = _app(make_app, None, clock)
    c = client(app)
    _directory(app, ("intake-1", None))
    await _enrol(c, token, "intake-1", "intake")
    await staff_case(c, token)
    _send(app)
    with app.state.db.read() as s:
        assert s.exec(select(OutboxMessage)).all() == []
        modes = {r.mode for r in s.exec(select(NotificationRecord))}
    assert modes == {"no_address"}  # no email domain either: nobody has an address


async def test_preferences_are_my_own_and_bounded(make_app, client, token):
    app = make_app("case_api")
    c = client(app)
    me = token("hr", subject="hr-1")
    r = await c.get("/v1/notifications/preferences", headers=me)
    assert r.status_code == 200
    assert r.json()["modes"]["case.assigned"] == "immediate" and r.json()["roles"] == []
    r = await c.put("/v1/notifications/preferences", json={"modes": {"case.sla_due_soon": "digest"}},
                    headers=token("hr", "auditor", subject="hr-1", department="Police"))
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["auditor", "hr"] and r.json()["department"] == "Police"
    assert r.json()["modes"]["case.sla_due_soon"] == "digest"
    for bad in ({"modes": {"policy.review_due": "digest"}}, {"modes": {"case.assigned": "hourly"}},
                {"modes": {"nope": "off"}}, {"modes": {}, "person": "someone-else"}):
        r = await c.put("/v1/notifications/preferences", json=bad, headers=me)
        assert r.status_code == 422, (bad, r.text)
    other = await c.get("/v1/notifications/preferences", headers=token("hr", subject="hr-2"))
    assert other.json()["modes"]["case.sla_due_soon"] == "immediate"
    assert (await c.get("/v1/notifications/preferences")).status_code == 401
    assert (await c.get("/v1/notifications/preferences",
                        headers=token("service:feedback_api"))).status_code == 403


def test_the_demo_enrols_staff_so_make_run_shows_notifications(make_app, live, dev_key, sink):
    policy = live(make_app("policy_api"))
    app = make_app("case_api", policy_api_url=policy.url, relay_enabled=False, notify=sink.settings())
    server = live(app)
    auth = AuthSettings(dev_key_file=dev_key)

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

    demo.load(DemoContext(urls={"case_api": server.url, "policy_api": policy.url}, token=sign))
    _send(app)
    got = _to(sink)
    assert any(to == "demo-investigator@cabq.gov" and subject.endswith("assigned to you") for to, subject in got)
    assert any(to == "demo-intake@cabq.gov" and subject.startswith("New case") for to, subject in got)
