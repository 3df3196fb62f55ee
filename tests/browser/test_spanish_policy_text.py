"""Issue 20 item 3 in a real browser: the Spanish Transparency page shows a policy's Spanish text,
labelled as a translation of the authoritative English, on a phone, and passes axe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.browser.conftest import SCREENSHOTS, Stack
from tests.browser.helpers import assert_accessible, screenshot

pytestmark = pytest.mark.browser


def test_spanish_policy_text_on_the_transparency_page(browser: Any, stack: Stack, demo_data: None,
                                                     token: Callable[..., dict[str, str]]) -> None:
    base = stack.policy.url
    policy = httpx.get(f"{base}/v1/policies", timeout=10).json()["items"][0]
    version_id = policy["current_version"]["id"]
    editor = token("policy_editor", subject="translator-1")
    sections = httpx.get(f"{base}/v1/policies/{policy['id']}/versions/{version_id}", headers=editor,
                         timeout=10).json()["sections"]
    body = {"sections": [{"section_id": sections[0]["id"], "heading": "Propósito y alcance",
                          "body_markdown": "Esta política rige las cuentas **oficiales** de la Ciudad."}]}
    r = httpx.put(f"{base}/v1/policies/{policy['id']}/versions/{version_id}/translations/es", json=body,
                  headers=editor, timeout=10)
    assert r.status_code == 200, r.text

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{base}/transparency/policies/{policy['id']}?lang=es")
        assert page.is_visible("#translation-note")
        assert page.inner_text(f"#h-{sections[0]['key']}") == "Propósito y alcance"
        assert page.get_attribute(f"#h-{sections[1]['key']}", "lang") == "en"
        english = page.get_attribute("#translation-note a", "href")
        assert english is not None and "lang=es" not in english
        assert_accessible(page, "es-policy-translated")
        page.locator("#translation-note").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "es-policy-translated-phone.png"))
        screenshot(page, "es-policy-translated-full")
    finally:
        context.close()
