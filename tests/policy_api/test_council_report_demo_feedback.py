"""The Council report on the demo data of policy_api and feedback_api together (issue 20 item 5): the
demo's feedback is answered through its receipt and linked to the draft it informed, and the report
counts it and says what changed. ``CIVICSOCIAL_REPORT_OUT=dir`` also writes the HTML and PDF there."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx

from services.devkit import DemoContext
from services.feedback_api import demo as feedback_demo
from services.policy_api import demo as policy_demo
from shared.auth import issue_dev_token
from shared.timeutil import FrozenClock
from tests.support.live import free_port

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_demo_report_counts_the_demo_feedback(make_app, live, token, auth_settings, tmp_path):
    fb_port, port = free_port(), free_port()
    case_api = live(make_app("case_api"))
    policy = live(make_app("policy_api", clock=FrozenClock(NOW), public_base_url=f"http://127.0.0.1:{port}",
                           case_api_url=case_api.url, feedback_api_url=f"http://127.0.0.1:{fb_port}"), port)
    feedback = live(make_app("feedback_api", secrets_dir=str(tmp_path / "secrets"), policy_api_url=policy.url,
                             case_api_url=case_api.url), fb_port)

    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth_settings, "dev", subject=subject, roles=roles, department=department)

    ctx = DemoContext(urls={"policy_api": policy.url, "feedback_api": feedback.url, "case_api": case_api.url},
                      token=sign)
    policy_demo.load(ctx)
    feedback_demo.load(ctx)
    with httpx.Client(base_url=policy.url, timeout=120) as c:
        report = c.post("/v1/council-reports", headers=token("records_manager", subject="emp-2003")).json()
        html = c.get(report["html_url"], headers=token("admin")).text
        out = os.environ.get("CIVICSOCIAL_REPORT_OUT")
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            Path(out, "council-report-demo.html").write_text(html)
            Path(out, "council-report-demo.pdf").write_bytes(c.get(report["pdf_url"], headers=token("admin")).content)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Residents' feedback on the policies (§1.B): 2 received, 1 answered, 0 closed, 0 not yet looked at; " \
           "1 link" in text
    assert "SMP-1 2 0 1 1 0 1" in text
    assert "version 2026.1 (draft)" in text
    assert "Corrections: the draft now says they are posted within one business day." in text
    assert text.count("Yes — ") == 8  # the version in force was approved attesting every element
