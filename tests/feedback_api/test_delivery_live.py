"""Never lose a report: with real services on loopback ports (no mocks), a report filed while
case_api is stopped reaches case_api exactly once after it comes back, and case_api's status
events flow back to the receipt view."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from services.feedback_api.domain.models import OutboxMessage
from tests.feedback_api.conftest import report_body
from tests.support.live import LiveServer, free_port

pytestmark = pytest.mark.slow


class Recorder:
    """Wraps the real case_api app and notes the status of every intake call it answers."""

    def __init__(self, app) -> None:
        self.app = app
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name):
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/intake/"):
            await self.app(scope, receive, send)
            return

        async def recording_send(message):
            if message["type"] == "http.response.start":
                self.calls.append((scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, recording_send)


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_report_filed_while_case_api_is_down_arrives_exactly_once(fb_app, make_app, live, databases, token):
    fb_port, case_port = free_port(), free_port()
    case_app = make_app("case_api", feedback_api_url=f"http://127.0.0.1:{fb_port}", relay_poll_seconds=0.05)
    recorder = Recorder(case_app)
    feedback = live(fb_app(case_api_url=f"http://127.0.0.1:{case_port}", outbox_poll_seconds=0.05,
                           outbox_base_backoff_seconds=0.05, outbox_max_backoff_seconds=0.3), port=fb_port)
    fb_engine = databases["feedback_api"].engine
    case_engine = databases["case_api"].engine
    admin = token("admin")

    def outbox(column=None):
        with Session(fb_engine) as s:
            return s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() if column is None \
                else s.execute(select(func.max(column))).scalar_one()

    with httpx.Client(base_url=feedback.url, timeout=10) as c:
        filed = c.post("/v1/reports", json=report_body()).json()
        same_post = c.post("/v1/reports", json=report_body(description="Me too, same post.")).json()
        # case_api is down: the relay keeps trying and keeps the messages
        wait_for(lambda: (outbox(OutboxMessage.attempts) or 0) >= 3, what="retries while case_api is down")
        status = c.get("/v1/ops/outbox", headers=admin).json()
        assert status["pending"] == 2 and status["dead"] == 0 and status["oldest_pending_age_seconds"] >= 0
        assert recorder.calls == []

        case = LiveServer(recorder, case_port).start()
        try:
            wait_for(lambda: outbox() == 0, what="delivery after case_api came back")
            with Session(case_engine) as s:
                reports = s.execute(text("SELECT report_id FROM case_reports")).scalars().all()
                cases = s.execute(text("SELECT count(*) FROM cases")).scalar_one()
            assert len(reports) == 2 and len(set(reports)) == 2  # each report once
            assert cases == 1  # the same post: one case
            intake = [st for path, st in recorder.calls if path == "/v1/intake/reports"]
            assert intake.count(201) == 1 and all(st in (200, 201) for st in intake)
            assert c.get("/v1/ops/outbox", headers=admin).json()["pending"] == 0

            # a reporter message follows the same road, once
            r = c.post("/v1/receipts/messages", json={"receipt": filed["receipt"], "body": "It was deleted at noon."})
            assert r.status_code == 201
            wait_for(lambda: outbox() == 0, what="message delivery")
            with Session(case_engine) as s:
                bodies = s.execute(text("SELECT body FROM case_messages")).scalars().all()
            assert bodies.count("It was deleted at noon.") == 1
            assert same_post["reference"] != filed["reference"]

            # and back: a handler writes to the reporter in case_api; the receipt view shows it
            with Session(case_engine) as s:
                case_id = s.execute(text("SELECT id FROM cases")).scalar_one()
                report_id = s.execute(text("SELECT report_id FROM case_reports WHERE reference = :r"),
                                      {"r": filed["reference"]}).scalar_one()
            staff = token("admin", "intake", "investigator", subject="inv-1")
            with httpx.Client(base_url=case.url, timeout=10) as cc:  # to one report of the case (issue 14 item 5)
                r = cc.post(f"/v1/cases/{case_id}/messages", json={"body": "Thank you, we are on it.",
                                                                   "report_id": report_id}, headers=staff)
                assert r.status_code == 201, r.text

            def city_message() -> bool:
                view = c.post("/v1/receipts/status", json={"receipt": filed["receipt"]}).json()
                return any(m["from"] == "city" and m["body"] == "Thank you, we are on it." for m in view["messages"])

            wait_for(city_message, what="the handler's message in the receipt view")
        finally:
            case.stop()
