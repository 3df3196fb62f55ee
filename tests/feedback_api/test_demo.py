"""The demo loader files reports and feedback over HTTP against real running services; the reports
reach case_api through the outbox (two about the same post become one case)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from services.devkit import DemoContext
from services.feedback_api import demo
from shared.auth import issue_dev_token
from shared.settings import AuthSettings
from tests.support.live import free_port

pytestmark = pytest.mark.slow


def test_demo_reports_reach_case_api(fb_app, make_app, live, dev_key, databases):
    fb_port = free_port()
    policy = live(make_app("policy_api"))
    case = live(make_app("case_api", feedback_api_url=f"http://127.0.0.1:{fb_port}", policy_api_url=policy.url))
    feedback = live(fb_app(policy_api_url=policy.url, case_api_url=case.url, outbox_poll_seconds=0.05,
                           rate_submit_per_client="5/minute"), port=fb_port)
    auth = AuthSettings(dev_key_file=dev_key)

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth, "dev", subject=subject, roles=roles, department=department)

    ctx = DemoContext(urls={"policy_api": policy.url, "feedback_api": feedback.url, "case_api": case.url}, token=sign)
    demo.load(ctx)
    demo.load(ctx)  # a second run leaves a non-empty database alone (and stays under the rate limit)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with Session(databases["case_api"].engine) as s:
            reports = s.execute(text("SELECT count(*) FROM case_reports")).scalar_one()
            cases = s.execute(text("SELECT count(*) FROM cases")).scalar_one()
        if reports == 3:
            break
        time.sleep(0.05)
    assert (reports, cases) == (3, 2)
