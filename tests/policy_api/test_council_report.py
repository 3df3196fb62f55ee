"""The Executive Communication to Council (R-24-89 §2), generated against a live policy_api (whose
Transparency page it fetches over HTTP, as served) and a live case_api (its public metrics)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from datetime import UTC, datetime

import httpx

from services.devkit import DemoContext
from services.policy_api import demo
from shared.auth import issue_dev_token
from shared.timeutil import FrozenClock
from tests.support.live import free_port

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def _policy_server(make_app, live, *, case_api_url: str):
    port = free_port()
    app = make_app("policy_api", clock=FrozenClock(NOW), public_base_url=f"http://127.0.0.1:{port}",
                   case_api_url=case_api_url)
    return live(app, port)


def _load_demo(server, auth_settings) -> None:
    def sign(*, roles, department=None, subject="demo-loader"):
        return issue_dev_token(auth_settings, "dev", subject=subject, roles=roles, department=department)

    demo.load(DemoContext(urls={"policy_api": server.url}, token=sign))


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_report_on_the_demo_data(make_app, live, token, auth_settings):
    case_api = live(make_app("case_api"))
    server = _policy_server(make_app, live, case_api_url=case_api.url)
    _load_demo(server, auth_settings)
    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.post("/v1/council-reports", headers=token("policy_editor")).status_code == 403
        assert c.post("/v1/council-reports").status_code == 401
        r = c.post("/v1/council-reports", headers=token("records_manager", subject="emp-2003"))
        assert r.status_code == 201, r.text
        report = r.json()
        page = c.get("/transparency")
        html = c.get(report["html_url"], headers=token("policy_approver"))
        pdf = c.get(report["pdf_url"], headers=token("admin"))
    assert html.status_code == 200 and "style-src 'sha256-" in html.headers["content-security-policy"]
    assert hashlib.sha256(html.content).hexdigest() == report["html_sha256"]
    text = _text(html.text)
    # (a) the policy in force, (b) all eight elements with their covering sections quoted
    assert "SMP-1 Social Media Policy for Official City Accounts" in text and "version 2025.1" in text
    for n, title in enumerate(["Behavioral expectations", "Content specifications", "Prohibition on personal attacks",
                               "Response guidelines", "Monitoring and review", "Disciplinary actions",
                               "Restorative actions", "Policy review"], start=1):
        assert f"§1.A.{n} {title}" in text
    assert "PIOs review their accounts' activity each month" in text  # a quote, changed in 2025.1
    assert "version 2025.1 2025-03-01 Yes" in text and "version 2024.1 2024-09-01 No" in text
    assert "NOT COVERED" not in text and "8 of 8" in text
    # AI 1-19: overdue, never reviewed, unrevised since 2022
    assert re.search(r"AI 1-19 is OVERDUE for review \(due 2023-07-01\); its text is unrevised since 2022", text)
    assert "never reviewed" in text
    # (d) the Transparency page as served: hash of the same bytes a resident gets
    assert hashlib.sha256(page.content).hexdigest() in text and f"{server.url}/transparency" in text
    assert text.count("listed") >= 2 and "NOT listed" not in text
    # (e)/(f) case_api answered; (g) no chain head exposed; (h) the clock, in Denver time
    assert "Cases in total" in text and "Not available: case_api did not answer" not in text
    assert "Not available: case_api publishes no signed audit checkpoint" in text
    assert "2026-12-01 10:00 MST" in text and "Marked sent Not yet" in text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True)
    pdf_text = " ".join(out.stdout.decode().split())
    assert "Policy review" in pdf_text and "unrevised since 2022" in pdf_text


def test_case_api_down_says_not_available(make_app, live, token, auth_settings):
    server = _policy_server(make_app, live, case_api_url="http://127.0.0.1:9")
    _load_demo(server, auth_settings)
    with httpx.Client(base_url=server.url, timeout=60) as c:
        report = c.post("/v1/council-reports", headers=token("policy_approver")).json()
        text = _text(c.get(report["html_url"], headers=token("policy_approver")).text)
    assert "Not available: case_api did not answer" in text


def test_marked_sent_once_and_not_in_the_future(make_app, live, token, auth_settings):
    server = _policy_server(make_app, live, case_api_url="http://127.0.0.1:9")
    _load_demo(server, auth_settings)
    with httpx.Client(base_url=server.url, timeout=60) as c:
        report = c.post("/v1/council-reports", headers=token("admin")).json()
        assert report["sent_at"] is None and report["approved_at"] and report["due_by"]
        url = f"/v1/council-reports/{report['id']}/sent"
        assert c.post(url, json={"sent_at": "2027-01-01T00:00:00Z"}, headers=token("admin")).status_code == 422
        assert c.post(url, headers=token("policy_editor")).status_code == 403
        sent = c.post(url, json={"note": "EC-26-101"}, headers=token("records_manager", subject="emp-2003"))
        assert sent.status_code == 200, sent.text
        assert sent.json()["sent_by"] == "emp-2003" and sent.json()["sent_note"] == "EC-26-101"
        assert sent.json()["sent_at"].startswith("2026-12-01T17:00")
        assert c.post(url, headers=token("admin")).status_code == 409
        listed = c.get("/v1/council-reports", headers=token("policy_approver")).json()
        assert listed["total"] == 1 and listed["items"][0]["sent_by"] == "emp-2003"
        log = c.get("/v1/changes", params={"entity_type": "council_report"}, headers=token("admin")).json()
        assert {e["action"] for e in log["items"]} == {"council_report.generated", "council_report.sent"}
