"""Issue 19 item 4: policy feedback without JavaScript on /report (R-24-89 §1.B), with the API's
checks, page titles that say what happened, and errors and confirmations that are shown."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import Stack
from tests.browser.helpers import RECEIPT, assert_accessible, screenshot
from tests.browser.test_widget import STRINGS

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "es"])
def test_policy_feedback_without_javascript(browser: Any, stack: Stack, demo_data: None, lang: str) -> None:
    t = STRINGS[lang]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.route("**/widget/v1/static/widget.js*", lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(f"{stack.feedback.url}/report?lang={lang}")
        assert page.locator("#cs-feedback-form-nojs").count() == 1
        assert page.title() == t["app.title"]
        assert_accessible(page, f"{lang}-nojs-page-with-feedback")

        # Sent empty: the same checks as POST /v1/feedback; the title says there is an error.
        page.fill("#cs-fb-text", "Kept after an error")
        page.click("#cs-fb-submit")
        page.wait_for_selector("#cs-feedback-form-nojs .cs-error-summary")
        assert page.title().startswith(t["errors.title_prefix"])
        assert page.get_attribute("#cs-feedback-form-nojs .cs-error-summary", "role") == "alert"
        assert t["error.policy_required"] in page.inner_text("#cs-fb-target-error")
        assert page.get_attribute("#cs-fb-target", "aria-invalid") == "true"
        assert page.input_value("#cs-fb-text") == "Kept after an error"
        assert page.evaluate("document.activeElement.classList.contains('cs-error-summary')")
        ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
        assert len(ids) == len(set(ids)), "ids are unique"
        assert_accessible(page, f"{lang}-nojs-feedback-errors")
        screenshot(page, f"{lang}-11-nojs-feedback-errors")

        # A section of a published policy, a rating, the text.
        options = page.locator("#cs-fb-target option")
        assert options.count() >= 3, "policies and their sections are offered"
        page.select_option("#cs-fb-target", index=2)
        page.check("#cs-fb-rating-4")
        page.fill("#cs-fb-text", "Please say how quickly the City answers comments.")
        page.click("#cs-fb-submit")
        page.wait_for_selector("#cs-confirm-heading")
        assert page.title().startswith(t["confirm.heading.feedback"])
        assert page.inner_text("#cs-confirm-heading") == t["confirm.heading.feedback"]
        receipt = " ".join(page.inner_text("#cs-receipt-code").split())
        assert RECEIPT.match(receipt), receipt
        assert t["next.feedback.received"] in page.inner_text("#cs-next")
        assert_accessible(page, f"{lang}-nojs-feedback-confirmation")
        screenshot(page, f"{lang}-12-nojs-feedback-confirmation")

        # Following up: the status, with what it means.
        page.fill("#cs-receipt", receipt)
        page.click("#cs-status-submit")
        page.wait_for_selector("#cs-status-value")
        assert t["status.kind.policy_feedback"] in page.inner_text("#cs-status-result")
        assert t["status.means.received"] in page.inner_text("#cs-status-result")
        ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
        assert len(ids) == len(set(ids)), "ids are unique"
        assert_accessible(page, f"{lang}-nojs-feedback-status")
    finally:
        context.close()

    r = httpx.post(stack.feedback.url + "/v1/receipts/status", json={"receipt": receipt.replace(" ", "")}, timeout=10)
    assert r.status_code == 200 and r.json()["kind"] == "policy_feedback"


def test_nojs_feedback_refuses_a_version_that_is_not_published(stack: Stack, demo_data: None) -> None:
    """The form's hidden choice is only a convenience: the server checks it as the API does."""
    page = httpx.get(f"{stack.feedback.url}/report?lang=en", timeout=10)
    token = page.text.split('name="form_token" value="')[1].split('"')[0]
    r = httpx.post(f"{stack.feedback.url}/report/feedback", timeout=10, headers={"Sec-Fetch-Site": "same-origin"},
                   data={"lang": "en", "form_token": token, "target": "p-nope|v-nope|", "text": "Hello"})
    assert r.status_code == 200 and 'id="cs-fb-target-error"' in r.text
    assert "<title>Error:" in r.text and "cs-confirm-heading" not in r.text
