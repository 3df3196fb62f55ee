"""Issue 19 in a real browser: the receipt is fully visible on phones and at 400% zoom (embedded,
on the Transparency page and on /report), and the widget never fails silently (a refused origin
or a script that does not run shows the link to the full-page form)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, Stack
from tests.browser.helpers import RECEIPT, assert_accessible, screenshot, send_checked, widget_frame
from tests.browser.test_widget import STRINGS, open_host

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def file_report(target: Any, *, lang: str = "en") -> str:
    """Fill in and send the smallest valid report; the receipt's text once it is shown."""
    nojs = target.locator("#cs-report-form-nojs").count() == 1
    if not nojs:  # the widget's home view first
        target.click("#cs-choose-report")
    target.select_option("#cs-account", "__other")
    target.fill("#cs-account_text", "@ABQPolice")
    target.select_option("#cs-platform", "facebook")
    target.check("#cs-category-0")
    text = "A reply insulted a resident." if lang == "en" else "Una respuesta insultó a un vecino."
    target.fill("#cs-description", text)
    target.click("#cs-report-submit")
    if not nojs:  # the widget checks the answers first; the plain form sends at once
        send_checked(target)
    target.wait_for_selector("#cs-confirm-heading", timeout=15_000)
    receipt: str = " ".join(target.inner_text("#cs-receipt-code").split())
    assert RECEIPT.match(receipt), receipt
    return receipt


CLIPPED = """() => {
    const code = document.getElementById('cs-receipt-code');
    const box = code.closest('.cs-receipt').getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    const out = [];
    for (const g of code.querySelectorAll('.cs-receipt-group')) {
        const r = g.getBoundingClientRect();
        if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.right > width + 0.5 || r.left < -0.5) {
            out.push([g.textContent, r.left, r.right, box.left, box.right, width]);
        }
        if (g.scrollWidth > g.clientWidth + 1) out.push(['overflow', g.textContent]);
    }
    if (document.documentElement.scrollWidth > width + 1) out.push(['page scrolls sideways']);
    return out;
}"""


def assert_receipt_visible(target: Any, where: str) -> None:
    assert target.evaluate(CLIPPED) == [], where
    groups = target.locator("#cs-receipt-code .cs-receipt-group").all_inner_texts()
    assert len(groups) == 4 and all(len(g) == 4 for g in groups), (where, groups)


@pytest.mark.parametrize("width", [320, 360, 390])
def test_receipt_fully_visible_embedded_on_a_phone(browser: Any, stack: Stack, width: int) -> None:
    lang = "es" if width == 320 else "en"
    context, page = open_host(browser, stack, lang=lang, width=width)
    try:
        frame = widget_frame(page)
        file_report(frame, lang=lang)
        assert_receipt_visible(frame, f"embedded {width}px")
        t = STRINGS[lang]
        assert t["confirm.reference_what"] in frame.inner_text(".cs-reference-box")
        assert t["confirm.receipt_what"] in frame.inner_text(".cs-receipt")
        assert frame.locator("#cs-print").count() == 1
        assert t["next.heading"] in frame.inner_text("#cs-next")
        assert_accessible(frame, f"{lang}-confirmation-{width}px")
        screenshot(page, f"{lang}-receipt-{width}px")
        if width == 390:
            # What a resident sees on a phone (390 x 844): the receipt at the top of the screen.
            page.set_viewport_size({"width": 390, "height": 844})
            top = page.evaluate("document.querySelector('[data-civicsocial-widget] iframe')"
                                ".getBoundingClientRect().top + window.scrollY")
            offset = frame.evaluate("document.getElementById('cs-confirm-heading').getBoundingClientRect().top")
            page.evaluate("y => window.scrollTo(0, y)", top + offset - 16)
            page.wait_for_timeout(200)
            page.screenshot(path=str(SCREENSHOTS / "receipt-phone.png"))
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SCREENSHOTS / "receipt-phone.png", DOCS_SCREENSHOTS / "receipt-phone.png")
    finally:
        context.close()


def test_receipt_fully_visible_at_400_percent_zoom_on_report_page(browser: Any, stack: Stack) -> None:
    """400% zoom of a 1280 px window is a 320 CSS px viewport with four device pixels per CSS px."""
    for script in (True, False):
        context = browser.new_context(viewport={"width": 320, "height": 720}, device_scale_factor=4)
        if not script:
            context.route("**/widget/v1/static/widget.js*", lambda route: route.abort())
        page = context.new_page()
        try:
            page.goto(f"{stack.feedback.url}/report?lang=en")
            if script:
                page.wait_for_selector("html.cs-ready")
            file_report(page)
            assert_receipt_visible(page, f"/report 400% zoom, script={script}")
            assert_accessible(page, f"report-page-confirmation-400pct-script-{script}")
            screenshot(page, f"en-receipt-400pct-{'js' if script else 'nojs'}")
        finally:
            context.close()


def test_receipt_fully_visible_in_the_transparency_page_widget(browser: Any, stack: Stack, demo_data: None) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{stack.policy.url}/transparency?lang=es")
        frame = widget_frame(page)
        file_report(frame, lang="es")
        assert_receipt_visible(frame, "transparency 320px")
        page.locator("[data-civicsocial-widget]").scroll_into_view_if_needed()
        screenshot(page, "es-transparency-receipt-320px")
    finally:
        context.close()


def test_refused_origin_shows_the_full_page_link(browser: Any, stack: Stack) -> None:
    """A page whose origin is not in FEEDBACK_API_FRAME_ANCESTORS: the browser refuses the frame,
    and the loader, never hearing "ready", puts a sentence and the full-page link in its place."""
    t = STRINGS["en"]
    context, page = open_host(browser, stack, lang="en", origin=stack.host.other_origin)
    try:
        page.wait_for_selector(".civicsocial-failed:not([hidden])", timeout=15_000)
        assert page.inner_text(".civicsocial-failed") == t["loader.failed"]
        assert page.locator("[data-civicsocial-widget] iframe").is_hidden()
        link = page.locator(".civicsocial-full-page a")
        assert link.is_visible() and link.get_attribute("href") == f"{stack.feedback.url}/report?lang=en"
        assert_accessible(page, "en-host-refused-origin")
        screenshot(page, "en-host-refused-origin")
    finally:
        context.close()


def test_widget_script_failure_shows_the_link_in_the_frame_and_on_the_page(browser: Any, stack: Stack) -> None:
    t = STRINGS["es"]
    context = browser.new_context(viewport={"width": 390, "height": 800})
    context.route("**/widget/v1/static/widget.js*", lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(f"{stack.host.origin}/?lang=es")
        page.wait_for_selector("iframe", state="attached")
        frame = page.query_selector("[data-civicsocial-widget] iframe").content_frame()
        frame.wait_for_selector("#cs-script-failed", state="visible", timeout=10_000)
        assert frame.get_attribute("#cs-script-failed a", "href") == "/report?lang=es"
        assert frame.get_attribute("#cs-script-failed a", "target") == "_top"
        page.wait_for_selector(".civicsocial-failed:not([hidden])", timeout=15_000)
        assert page.inner_text(".civicsocial-failed") == t["loader.failed"]
        assert page.locator(".civicsocial-full-page a").get_attribute("href").endswith("/report?lang=es")
        screenshot(page, "es-host-script-failed")
    finally:
        context.close()
