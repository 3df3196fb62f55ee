"""The rest of the staff events (issue 17): a decision awaiting approval, restorative actions and
monitoring reviews due and overdue (the latter also to the team chat channel, a real local HTTP
receiver), what /metrics counts per channel, a refused delivery parked dead and retried, and
the query shape of the preferences endpoint."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import services.case_api.main  # noqa: F401 - registers every case_api table before the first reset
from services.case_api.domain.models import MonitoredAccount, OutboxMessage, Review
from services.case_api.domain.notification_models import NotificationPreference
from shared.outbox import overview, retry_dead
from shared.timeutil import FrozenClock
from tests.case_api.helpers import sustained
from tests.case_api.test_notifications import T0, _app, _directory, _enrol, _send, _team, _to
from tests.support.live import free_port
from tests.support.smtp import smtp_sink
from tests.support.sqlcount import count_statements


@pytest.fixture
def sink(tmp_path):
    with smtp_sink(tmp_path) as s:
        yield s


class _Chat:
    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.status = 200
        chat = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                chat.posts.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(chat.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"


@pytest.fixture
def chat():
    receiver = _Chat()
    yield receiver
    receiver.server.shutdown()


async def test_an_amendment_awaits_approval_from_hr_but_not_from_its_author(make_app, client, token, sink):
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock)
    c = client(app)
    await _team(c, token, app)
    _directory(app, ("hr-2", None))
    await _enrol(c, token, "hr-2", "hr")
    case = await sustained(c, token, employee="emp-31", severity=2)
    cid = case["id"]
    r = await c.post(f"/v1/cases/{cid}/decision", json={"action": case["recommendation"]["action"]},
                     headers=token("hr", subject="hr-1"))
    assert r.status_code == 200, r.text
    r = await c.post(f"/v1/cases/{cid}/decision", headers=token("hr", subject="hr-2"), json={
        "action": "termination", "justification": "The post named the resident's child.",
        "amendment_reason": "New evidence: a second, deleted reply was recovered."})
    assert r.status_code == 200, r.text
    _send(app)
    subject = f"Case {case['reference']}: decision awaiting your approval"
    got = _to(sink)
    assert got[("hr-1@cabq.gov", subject)] == 1 and got[("dir-police@cabq.gov", subject)] == 1
    assert got[("hr-2@cabq.gov", subject)] == 0  # the amendment's author does not approve it
    assert "child" not in "".join(m.as_string() for m in sink.messages)


async def test_restorative_action_due_then_overdue_reaches_its_owner_once_each(make_app, client, token, sink):
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock)
    c = client(app)
    _directory(app, ("pio-1", "Police"))
    case = await sustained(c, token, employee="emp-31", severity=2)
    due = (T0 + timedelta(days=2)).date()
    r = await c.post(f"/v1/cases/{case['id']}/restorative-actions", headers=token("hr", subject="hr-1"),
                     json={"kind": "public_correction", "owner": "pio-1", "due_on": due.isoformat()})
    assert r.status_code == 201, r.text
    _send(app)
    _send(app)
    clock.advance(timedelta(days=3))
    _send(app)
    _send(app)
    got = _to(sink)
    ref = case["reference"]
    assert got[("pio-1@cabq.gov", f"Case {ref}: restorative action due")] == 1
    assert got[("pio-1@cabq.gov", f"Case {ref}: restorative action overdue")] == 1


def _review(app, *, due_on: date, department: str = "Police") -> str:
    with app.state.db.write() as s:
        s.add(MonitoredAccount(account_id="acct-police-fb", department=department, platform="facebook",
                               handle="@abqpolice", status="active", first_seen_at=T0, updated_at=T0))
        s.flush()
        review = Review(account_id="acct-police-fb", department=department, period_start=date(2026, 9, 1),
                        period_end=date(2026, 11, 30), due_on=due_on, status="scheduled", created_at=T0,
                        updated_at=T0)
        s.add(review)
        s.flush()
        return review.id


async def test_a_monitoring_review_due_reaches_monitors_and_the_team_channel(make_app, client, token, sink, chat):
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock, chat_webhook_url=chat.url, allow_private_targets=True)
    c = client(app)
    _directory(app, ("mon-1", None), ("dir-parks", "Parks"))
    await _enrol(c, token, "mon-1", "monitor")
    await _enrol(c, token, "dir-parks", "department_director", department="Parks")
    review_id = _review(app, due_on=(T0 + timedelta(days=3)).date())
    _send(app)
    clock.advance(timedelta(days=4))
    _send(app)
    got = _to(sink)
    ref = "@abqpolice 2026-09-01/2026-11-30"
    assert got == {("mon-1@cabq.gov", f"Monitoring review {ref} due"): 1,
                   ("mon-1@cabq.gov", f"Monitoring review {ref} overdue"): 1}
    assert [p["text"].splitlines()[0] for p in chat.posts] == [f"Monitoring review {ref} due",
                                                               f"Monitoring review {ref} overdue"]
    assert f"https://staff.cabq.gov/monitoring/reviews/{review_id}" in chat.posts[0]["text"]
    metrics = (await c.get("/metrics")).text
    assert 'civicsocial_notifications_sent_total{channel="email"} 2.0' in metrics
    assert 'civicsocial_notifications_sent_total{channel="chat"} 2.0' in metrics
    assert 'civicsocial_notifications_pending{channel="email"} 0.0' in metrics


async def test_a_refused_chat_post_is_dead_counted_and_can_be_retried(make_app, client, token, chat):
    clock = FrozenClock(T0)
    app = _app(make_app, None, clock, chat_webhook_url=chat.url, allow_private_targets=True)
    c = client(app)
    _review(app, due_on=T0.date())
    chat.status = 403
    _send(app)
    ops = overview(app.state.db, OutboxMessage, now=clock.now())
    assert ops.dead == 1 and ops.dead_messages[0].topic == "notify_chat"
    assert 'civicsocial_notifications_failed_total{channel="chat"} 1.0' in (await c.get("/metrics")).text
    chat.status = 200
    retry_dead(app.state.db, OutboxMessage, message_id=ops.dead_messages[0].id, now=clock.now())
    app.state.relay.drain()
    assert len(chat.posts) == 2 and overview(app.state.db, OutboxMessage, now=clock.now()).dead == 0


async def test_chat_refuses_a_private_target_unless_allowed(make_app, client, token, chat):
    clock = FrozenClock(T0)
    app = _app(make_app, None, clock, chat_webhook_url=chat.url)  # loopback, not allowed in production
    _review(app, due_on=T0.date())
    _send(app)
    assert chat.posts == []
    assert overview(app.state.db, OutboxMessage, now=clock.now()).dead == 1


@pytest.mark.parametrize("rows", [1, 50])
async def test_preferences_query_shape(make_app, client, token, rows):
    app = make_app("case_api")
    c = client(app)
    with app.state.db.write() as s:
        for i in range(rows):
            s.add(NotificationPreference(person_key=f"p-{i}", modes={"case.assigned": "digest"}, roles=["hr"],
                                         updated_at=datetime(2026, 12, 1, tzinfo=UTC)))
    me = token("hr", subject="p-0")
    with count_statements(app.state.db) as counted:
        assert (await c.get("/v1/notifications/preferences", headers=me)).status_code == 200
    assert counted.n == 1


async def test_the_employees_response_and_appeal_reach_the_handlers_never_the_employee(make_app, client, token, sink):
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock)
    c = client(app)
    _directory(app, ("hr-1", None), ("inv-2", None), ("emp-50", "Police"))
    await _enrol(c, token, "hr-1", "hr")
    await _enrol(c, token, "emp-50", "hr")  # an HR employee who is the subject of this case
    case = await sustained(c, token, employee="emp-50", severity=2)
    cid, rec = case["id"], case["recommendation"]["action"]
    r = await c.post(f"/v1/cases/{cid}/assignee", json={"assignee": "inv-2"},
                     headers=token("investigator", subject="inv-1"))
    assert r.status_code == 200, r.text
    hr1 = token("hr", subject="hr-1")
    r = await c.post(f"/v1/cases/{cid}/proposed-action", json={"action": rec, "reason": "Policy 3.2"}, headers=hr1)
    assert r.status_code == 201, r.text
    me = token("pio", department="Police", subject="EMP-50")
    nid = (await c.get("/v1/notices", headers=me)).json()[0]["id"]
    r = await c.post(f"/v1/notices/{nid}/response", json={"text": "I was provoked by Jane Roe."}, headers=me)
    assert r.status_code == 200, r.text
    assert (await c.post(f"/v1/cases/{cid}/decision", json={"action": rec}, headers=hr1)).status_code == 200
    r = await c.post(f"/v1/notices/{nid}/appeal", json={"grounds": "The post was not mine."}, headers=me)
    assert r.status_code == 200, r.text
    _send(app)
    got = _to(sink)
    ref = case["reference"]
    for to in ("hr-1@cabq.gov", "inv-2@cabq.gov"):
        assert got[(to, f"Case {ref}: employee response filed")] == 1
        assert got[(to, f"Case {ref}: appeal filed")] == 1
    assert not [to for to, _ in got if to == "emp-50@cabq.gov"]
    text = "".join(m.as_string() for m in sink.messages)
    assert "Jane Roe" not in text and "not mine" not in text


async def test_a_review_marked_missed_before_the_notifier_saw_it_still_gets_its_overdue_notice(
        make_app, client, token, sink):
    """The scheduler marks a review ``missed`` as soon as its due date passes; if that ran before
    the notification loop looked, the overdue notice must still go out, once. A review missed
    long ago (before the notifier was switched on) gets none."""
    clock = FrozenClock(T0)
    app = _app(make_app, sink, clock)
    c = client(app)
    _directory(app, ("mon-1", None))
    await _enrol(c, token, "mon-1", "monitor")
    review_id = _review(app, due_on=(T0 - timedelta(days=1)).date())
    with app.state.db.write() as s:
        review = s.get(Review, review_id)
        review.status = "missed"
        s.add(review)
        s.add(Review(account_id="acct-police-fb", department="Police", period_start=date(2026, 3, 1),
                     period_end=date(2026, 5, 31), due_on=(T0 - timedelta(days=60)).date(), status="missed",
                     created_at=T0, updated_at=T0))
    _send(app)
    _send(app)
    assert _to(sink) == {("mon-1@cabq.gov", "Monitoring review @abqpolice 2026-09-01/2026-11-30 overdue"): 1}
