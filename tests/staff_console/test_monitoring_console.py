"""Issue 18 in the console, in Debian's Chromium against real services on loopback: a reviewer reads
each sampled post (text, link, Albuquerque time, account, thread, screenshot link, score and rule),
and a PIO checks a draft: an argumentative reply is flagged with the policy section quoted, a
courteous one passes. axe on each state; screenshots looked at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.browser.helpers import assert_accessible
from tests.staff_console.conftest import shoot, sign_in
from tests.staff_console.monitoring_helpers import period_ended_last_week

pytestmark = pytest.mark.browser


def test_a_reviewer_reads_the_sampled_posts(browser, console_stack, token):
    policy, case = console_stack.policy.url, console_stack.case.url
    acct = httpx.post(policy + "/v1/accounts", headers=token("records_manager"), timeout=10, json={
        "platform": "facebook", "handle": "abqpolice", "profile_url": "https://www.facebook.com/abqpolice",
        "department": "Police", "purpose": "News"}).json()
    assert httpx.post(case + "/v1/monitoring/sync", headers=token("monitor"), timeout=10).status_code == 200
    period_ended_last_week(console_stack.case.app, acct["id"])
    at = datetime.now(UTC).replace(hour=18, minute=30, second=0, microsecond=0) - timedelta(days=30)
    posts = [
        {"url": "https://www.facebook.com/abqpolice/posts/1?fbclid=abc", "account_id": acct["id"],
         "posted_at": at.isoformat(), "text": "Road closed on Central between 4th and 8th for the parade.",
         "screenshot": "https://archive.example.org/abqpolice/1.png",
         "comments": [{"author": "resident", "text": "Why wasn't this announced earlier?"},
                      {"author": "abqpolice", "text": "Maybe check your facts before you post next time."}]},
        {"url": "https://www.facebook.com/abqpolice/posts/2", "account_id": acct["id"],
         "posted_at": (at + timedelta(hours=1)).isoformat(), "text": "Free car seat checks this Saturday."},
    ]
    r = httpx.post(case + "/v1/monitoring/imports", headers=token("monitor"), timeout=10,
                   json={"format": "json", "posts": posts})
    assert r.status_code == 200 and r.json()["imported"] == 2, r.text
    monitor = sign_in(browser, console_stack.console, "monitor", subject="emp-monitor")
    monitor.goto(console_stack.console.url + "/monitoring?within_days=366")
    monitor.click("table:has(#r-due) tbody a")
    monitor.fill("#start-sample_size", "2")
    monitor.click("text=Draw the sample and start")
    main = monitor.text_content("main")
    assert "Among the highest risk scores" in main and "arguing with or mocking the public" in main
    assert "Maybe check your facts" in main and "Why wasn't this announced earlier?" in main
    local = at.astimezone(__import__("zoneinfo").ZoneInfo("America/Denver")).strftime("%Y-%m-%d %H:%M")
    assert local in main
    assert "As imported: https://www.facebook.com/abqpolice/posts/1?fbclid=abc" in main
    assert monitor.get_attribute("a:has-text('Open the imported screenshot')", "href") == posts[0]["screenshot"]
    assert monitor.text_content("section.card h2 >> nth=0").startswith("Post 1")
    assert_accessible(monitor, "review with posts")
    shoot(monitor, "review-posts")
    monitor.context.close()


def test_a_pio_checks_a_draft(browser, console_stack):
    pio = sign_in(browser, console_stack.console, "pio", department="Parks and Recreation", subject="emp-pio")
    pio.click("nav >> text=Draft check")
    assert pio.title().startswith("Check a draft")
    assert_accessible(pio, "draft check")
    pio.fill("#draft-text", "Maybe check your facts before you post next time. The schedule was on our website.")
    pio.fill("#draft-replying_to", "Why is the pool still closed? Typical.")
    pio.click("button:has-text('Check the draft')")
    main = pio.text_content("main")
    assert "Problems found: 1" in main and "Arguing with or mocking a member of the public" in main
    assert "check your facts" in main and "Acknowledge the concern" in main
    assert "arguing with members of the public" in main  # the section, quoted
    assert "The draft was not stored." in main
    assert_accessible(pio, "draft check with a problem")
    shoot(pio, "draft-check")
    pio.fill("#draft-text", "Thanks for asking! The pool opens May 24; the schedule is at cabq.gov/pools.")
    pio.click("button:has-text('Check the draft')")
    assert "No problem found" in pio.text_content("main")
    assert_accessible(pio, "draft check passed")
    pio.context.close()
