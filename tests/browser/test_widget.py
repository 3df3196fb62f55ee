"""The embedded widget in a real browser: a report with a file through the cross-origin iframe,
the receipt, the status view, both languages, axe-core on every state, keyboard-only use, and
the host page's inability to read what a reporter types."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Stack
from tests.browser.helpers import RECEIPT, assert_accessible, png_bytes, screenshot, send_checked, widget_frame

pytestmark = pytest.mark.browser

# The widget's CSP has no 'unsafe-eval': Playwright's string predicates (wait_for_function)
# cannot run inside the frame, so the tests wait for selectors there.

I18N = Path(__file__).resolve().parents[2] / "services" / "feedback_api" / "widget" / "i18n"
STRINGS = {lang: json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("en", "es")}


def open_host(browser: Any, stack: Stack, *, lang: str | None, width: int = 1000, locale: str = "en-US",
              origin: str | None = None, html_lang: str = "en") -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(f"{origin or stack.host.origin}/?lang={lang or ''}&html_lang={html_lang}")
    return context, page


@pytest.mark.parametrize("lang", ["en", "es"])
def test_report_with_evidence_receipt_and_status(browser: Any, stack: Stack, seed_account: Any, lang: str) -> None:
    t = STRINGS[lang]
    account = seed_account()
    context, page = open_host(browser, stack, lang=lang)
    try:
        frame = widget_frame(page)
        frame_url = frame.url
        assert frame.evaluate("document.documentElement.lang") == lang
        assert page.get_attribute("iframe", "title") == t["loader.frame_title"]
        assert_accessible(page, f"{lang}-host")
        assert_accessible(frame, f"{lang}-home")
        screenshot(page, f"{lang}-1-home")

        frame.click("#cs-choose-report")
        frame.wait_for_selector("#cs-report-form")
        assert frame.evaluate("document.activeElement.id") == "cs-report-heading"
        assert_accessible(frame, f"{lang}-report-empty")
        screenshot(page, f"{lang}-2-report-empty")

        # Errors: summary focused, each field marked and described by its message.
        frame.click("#cs-report-submit")
        frame.wait_for_selector(".cs-error-summary:not([hidden])")
        assert frame.evaluate("document.activeElement.classList.contains('cs-error-summary')")
        assert frame.get_attribute("#cs-description", "aria-invalid") == "true"
        assert "cs-description-error" in frame.get_attribute("#cs-description", "aria-describedby")
        assert t["error.description_required"] in frame.inner_text("#cs-description-error")
        assert frame.get_attribute("#cs-categories", "aria-invalid") == "true"
        summary_links = frame.locator(".cs-error-summary a")
        assert summary_links.count() >= 3
        assert_accessible(frame, f"{lang}-report-errors")
        screenshot(page, f"{lang}-3-report-errors")
        summary_links.filter(has_text=t["error.description_required"]).click()
        assert frame.evaluate("document.activeElement.id") == "cs-description"

        # Fill in the report.
        # the account registered in policy_api is offered by the picker
        assert frame.locator(f"#cs-account option[value='{account['id']}']").count() == 1
        frame.select_option("#cs-account", account["id"])
        assert frame.input_value("#cs-platform") == "facebook"
        frame.check("#cs-category-0")
        frame.fill("#cs-link-0", "https://www.facebook.com/ABQPolice/posts/1")
        frame.click("#cs-add-link")
        assert frame.evaluate("document.activeElement.id") == "cs-link-1"
        frame.fill("#cs-link-1", "https://www.facebook.com/ABQPolice/posts/2")
        frame.fill("#cs-seen_on", "2026-11-20")
        secret = "The reply called a resident a liar (test 7f3a)."
        frame.fill("#cs-description", secret)
        assert f"{len(secret)} " in frame.inner_text("#cs-description-count")
        frame.set_input_files("#cs-evidence", files=[{"name": "screenshot.png", "mimeType": "image/png",
                                                       "buffer": png_bytes()}])
        assert "screenshot.png" in frame.inner_text("#cs-evidence-list")
        frame.click("#cs-report-submit")
        # Check your answers: what was typed is shown; "Change" goes back with everything kept.
        frame.wait_for_selector("#cs-check-heading")
        answers = frame.inner_text(".cs-check-answers")
        assert secret in answers and "screenshot.png" in answers
        screenshot(page, f"{lang}-3b-check-answers")
        frame.click("#cs-check-change")
        assert frame.input_value("#cs-description") == secret and frame.is_visible("#cs-report-form")
        frame.click("#cs-report-submit")
        send_checked(frame, accessible=f"{lang}-check-answers")
        frame.wait_for_selector("#cs-confirm-heading", timeout=15_000)
        assert frame.evaluate("document.activeElement.id") == "cs-confirm-heading"
        assert frame.inner_text("#cs-confirm-heading") == t["confirm.heading.report"]
        reference = frame.inner_text("#cs-reference").strip()
        receipt = frame.inner_text("#cs-receipt-code").strip()
        assert reference and RECEIPT.match(receipt), (reference, receipt)
        frame.click("#cs-copy")
        frame.wait_for_selector("#cs-copy-status:not(:empty)")
        assert_accessible(frame, f"{lang}-confirmation")
        screenshot(page, f"{lang}-4-confirmation")

        # Nothing of the report left a trace in the URL or reached the host page.
        assert frame.url == frame_url
        seen = page.evaluate("window.__seenMessages.join('\\n')")
        assert receipt.replace(" ", "") not in seen and secret not in seen and reference not in seen

        # Check my report.
        frame.click("#cs-go-status")
        frame.fill("#cs-receipt", receipt)
        frame.click("#cs-status-submit")
        frame.wait_for_selector("#cs-status-value")
        assert frame.evaluate("document.activeElement.id") == "cs-status-result-heading"
        assert reference in frame.inner_text("#cs-status-result-heading")
        assert frame.inner_text("#cs-status-value") == t["status.value.received"]
        assert frame.input_value("#cs-receipt") == ""
        frame.fill("#cs-reply", "I also have a video of it.")
        frame.click("#cs-reply-submit")
        frame.wait_for_selector(".cs-message-reporter")
        assert "I also have a video of it." in frame.inner_text(".cs-messages")
        assert frame.inner_text("#cs-status-notice") == t["status.reply_sent"]  # shown, not only announced
        ids = frame.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
        assert len(ids) == len(set(ids)), "ids are unique with a status and the reply form shown"
        assert_accessible(frame, f"{lang}-status")
        screenshot(page, f"{lang}-5-status")

        # A wrong receipt: an error tied to the field, same message whatever exists.
        frame.fill("#cs-receipt", "0000 0000 0000 0000")
        frame.click("#cs-status-submit")
        frame.wait_for_selector("#cs-receipt-error:not([hidden])")
        assert t["error.receipt_not_found"] in frame.inner_text("#cs-receipt-error")
        assert frame.get_attribute("#cs-receipt", "aria-invalid") == "true"
        assert_accessible(frame, f"{lang}-status-error")
    finally:
        context.close()

    # The evidence reached feedback_api as a multipart upload, and the report exists with it.
    r = httpx.post(stack.feedback.url + "/v1/receipts/status", json={"receipt": receipt.replace(" ", "")}, timeout=10)
    assert r.status_code == 200 and r.json()["reference"] == reference


def test_language_from_element_and_browser_and_switch(browser: Any, stack: Stack) -> None:
    es, en = STRINGS["es"], STRINGS["en"]
    # No lang attribute on the element: the host page's <html lang> decides, over the browser's.
    for html_lang, locale, expected in (("es-US", "en-US", "es"), ("en", "es-MX", "en"), ("vi", "es-MX", "en")):
        context, page = open_host(browser, stack, lang=None, locale=locale, html_lang=html_lang)
        try:
            frame = widget_frame(page)
            assert frame.evaluate("document.documentElement.lang") == expected, html_lang
            assert frame.inner_text("#cs-home-heading") == STRINGS[expected]["home.heading"]
        finally:
            context.close()
    # Neither the element nor the page says: the browser's language decides.
    context, page = open_host(browser, stack, lang=None, locale="es-MX", html_lang="")
    try:
        frame = widget_frame(page)
        assert frame.evaluate("document.documentElement.lang") == "es"
        assert frame.inner_text("#cs-home-heading") == es["home.heading"]
    finally:
        context.close()

    context, page = open_host(browser, stack, lang="es", width=320)
    try:
        frame = widget_frame(page)
        assert frame.title() == es["app.title"]
        frame.click("#cs-choose-report")
        frame.fill("#cs-description", "Texto que no se pierde")
        frame.check("#cs-category-1")
        screenshot(page, "es-320px-report")
        assert frame.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        frame.click("#cs-lang-switch")
        frame.wait_for_selector("html[lang=en]")
        assert frame.inner_text("#cs-report-heading") == en["report.heading"]
        assert frame.inner_text("label[for=cs-description] span") == en["field.description.label"]
        assert frame.input_value("#cs-description") == "Texto que no se pierde"
        assert frame.is_checked("#cs-category-1")
        assert frame.title() == en["app.title"]
        assert frame.evaluate("document.activeElement.id") == "cs-lang-switch"
        assert frame.get_attribute("#cs-lang-switch", "lang") == "es"
        # The loader follows: the iframe title and the full-page link change language on the host.
        page.wait_for_function(
            "t => document.querySelector('[data-civicsocial-widget] iframe').title === t", arg=en["loader.frame_title"]
        )
        assert page.inner_text(".civicsocial-full-page a") == en["loader.full_page_link"]
        assert_accessible(frame, "en-after-switch-320px")
        # The iframe is sized to its content by postMessage (no inner scrollbar).
        frame_height = page.evaluate("document.querySelector('[data-civicsocial-widget] iframe').clientHeight")
        content_height = frame.evaluate("document.body.getBoundingClientRect().height")
        assert abs(frame_height - content_height) <= 2, (frame_height, content_height)
        frame.click("#cs-lang-switch")
        frame.wait_for_selector("html[lang=es]")
        assert frame.inner_text("#cs-report-heading") == es["report.heading"]
    finally:
        context.close()


def _tab_to(page: Any, frame: Any, element_id: str, limit: int = 40) -> None:
    """Press Tab (keyboard only) until the element with this id has focus."""
    for _ in range(limit):
        if frame.evaluate("document.hasFocus() && document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_keyboard_only_report(browser: Any, stack: Stack, seed_account: Any) -> None:
    seed_account()
    context, page = open_host(browser, stack, lang="en")
    kb = page.keyboard
    try:
        frame = widget_frame(page)
        _tab_to(page, frame, "cs-choose-report")
        kb.press("Enter")
        frame.wait_for_selector("#cs-report-form")
        assert frame.evaluate("document.activeElement.id") == "cs-report-heading"

        # Submitting empty: the summary takes focus; its links lead to the fields.
        _tab_to(page, frame, "cs-report-submit")
        kb.press("Enter")
        frame.wait_for_selector(".cs-error-summary:not([hidden])")
        assert frame.evaluate("document.activeElement.classList.contains('cs-error-summary')")
        kb.press("Tab")
        kb.press("Enter")
        assert frame.evaluate("document.activeElement.id") in ("cs-account", "cs-account_text")

        _tab_to(page, frame, "cs-account")
        if frame.locator("#cs-account option").count() > 2:
            kb.press("ArrowDown")  # the first official account; its platform follows
        else:
            assert frame.input_value("#cs-account") == "__other"
            _tab_to(page, frame, "cs-account_text")
            kb.type("@ABQPolice")
            _tab_to(page, frame, "cs-platform")
            kb.press("ArrowDown")
        assert frame.input_value("#cs-platform") != ""
        _tab_to(page, frame, "cs-category-0")
        kb.press("Space")
        _tab_to(page, frame, "cs-link-0")
        kb.type("https://www.facebook.com/ABQPolice/posts/3")
        _tab_to(page, frame, "cs-add-link")
        kb.press("Enter")
        assert frame.evaluate("document.activeElement.id") == "cs-link-1"
        kb.press("Tab")  # the "Remove link 2" button
        remove_label = STRINGS["en"]["field.links.remove"].replace("{n}", "2")
        assert frame.evaluate("document.activeElement.getAttribute('aria-label')") == remove_label
        kb.press("Enter")
        assert frame.locator("#cs-links-list li").count() == 1
        _tab_to(page, frame, "cs-description")
        kb.type("Argued with a resident in the comments.")
        _tab_to(page, frame, "cs-report-submit")
        kb.press("Enter")
        frame.wait_for_selector("#cs-check-heading")  # check your answers, then send, by keyboard
        _tab_to(page, frame, "cs-check-send")
        kb.press("Enter")
        frame.wait_for_selector("#cs-confirm-heading", timeout=15_000)
        assert frame.evaluate("document.activeElement.id") == "cs-confirm-heading"
        receipt = frame.inner_text("#cs-receipt-code").strip()
        assert RECEIPT.match(receipt)

        _tab_to(page, frame, "cs-copy")
        kb.press("Enter")
        frame.wait_for_selector("#cs-copy-status:not(:empty)")
        _tab_to(page, frame, "cs-go-status")
        kb.press("Enter")
        _tab_to(page, frame, "cs-receipt")
        kb.type(receipt)
        kb.press("Enter")
        frame.wait_for_selector("#cs-status-value")
        assert frame.evaluate("document.activeElement.id") == "cs-status-result-heading"
        screenshot(page, "en-6-keyboard-status")
    finally:
        context.close()


def test_host_page_cannot_read_the_widget(browser: Any, stack: Stack) -> None:
    context, page = open_host(browser, stack, lang="en")
    try:
        frame = widget_frame(page)
        frame.click("#cs-choose-report")
        frame.fill("#cs-description", "secret words 91c2")
        probe = page.evaluate("""() => {
            const iframe = document.querySelector('[data-civicsocial-widget] iframe');
            const out = {sandbox: iframe.getAttribute('sandbox'), contentDocument: iframe.contentDocument === null};
            try { out.read = iframe.contentWindow.document.querySelector('textarea').value; }
            catch (e) { out.error = e.name; }
            out.html = document.documentElement.outerHTML.includes('secret words');
            out.seen = window.__seenMessages.join('\\n').includes('secret words');
            return out;
        }""")
        assert probe["contentDocument"] is True, probe
        assert probe["error"] == "SecurityError" and "read" not in probe, probe
        assert probe["html"] is False and probe["seen"] is False, probe
        assert probe["sandbox"] == ("allow-scripts allow-forms allow-same-origin allow-modals "
                                "allow-top-navigation-by-user-activation")
        # The loader exposes nothing on the host's window.
        assert page.evaluate("Object.keys(window).filter(k => /civic|widget/i.test(k))") == []
    finally:
        context.close()

    # The same page under an origin that is not in frame_ancestors: the browser refuses the frame.
    context, page = open_host(browser, stack, lang="en", origin=stack.host.other_origin)
    try:
        page.wait_for_selector("iframe", state="attached")
        page.wait_for_timeout(1000)
        frame = page.query_selector("[data-civicsocial-widget] iframe").content_frame()
        assert frame is None or frame.query_selector("#cs-app") is None
    finally:
        context.close()


def test_theme_is_passed_and_validated(browser: Any, stack: Stack) -> None:
    css_var = "n => getComputedStyle(document.documentElement).getPropertyValue(n).trim()"
    context, page = open_host(browser, stack, lang="en")
    try:
        frame = widget_frame(page)
        for _ in range(50):  # the theme arrives by postMessage after the frame says it is ready
            if frame.evaluate(css_var, "--cs-color-primary") == "#7a1f2b":
                break
            page.wait_for_timeout(100)
        assert frame.evaluate(css_var, "--cs-color-primary") == "#7a1f2b"
        assert frame.evaluate(css_var, "--cs-radius") == "3px"
        assert frame.evaluate(css_var, "--cs-font-family") == "Georgia, serif"
    finally:
        context.close()
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{stack.host.origin}/?lang=en&theme=bad")
        frame = widget_frame(page)
        page.wait_for_timeout(300)
        assert frame.evaluate(css_var, "--cs-color-primary") == "#1d4e89"  # 1.1:1 on white: refused
        assert frame.evaluate(css_var, "--cs-radius") == "6px"
        assert "evil" not in frame.evaluate(css_var, "--cs-font-family")
        assert_accessible(frame, "en-home-bad-theme")
    finally:
        context.close()


def test_frame_and_page_headers(stack: Stack) -> None:
    base = stack.feedback.url
    frame = httpx.get(f"{base}/widget/v1/frame?lang=es&parent={stack.host.origin}", timeout=10)
    csp = frame.headers["content-security-policy"]
    assert f"frame-ancestors {stack.host.origin}" in csp
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                      "form-action 'self'", "base-uri 'none'"):
        assert directive in csp
    assert "x-frame-options" not in frame.headers
    assert frame.headers["cache-control"] == "no-store"
    assert frame.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in frame.headers
    assert f'"parentOrigin": "{stack.host.origin}"' in frame.text
    # An origin not on the list is never trusted as the parent.
    other = httpx.get(f"{base}/widget/v1/frame?parent=https://evil.example", timeout=10)
    assert '"parentOrigin": null' in other.text and "evil.example" not in other.text
    page = httpx.get(f"{base}/report", headers={"Accept-Language": "es-MX,es;q=0.9"}, timeout=10)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert '<html lang="es"' in page.text
    loader = httpx.get(f"{base}/widget/v1/loader.js", timeout=10)
    assert loader.headers["content-type"].startswith("text/javascript")
    assert loader.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "/*MESSAGES*/null" not in loader.text
    assert httpx.get(f"{base}/widget/v1/static/..%2F__init__.py", timeout=10).status_code == 404
    # No third-party resources: every src/href in the document is same-origin.
    assert not re.search(r'(src|href)="(https?:)?//', frame.text)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_full_page_form_is_accessible(browser: Any, stack: Stack, lang: str) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{stack.feedback.url}/report?lang={lang}")
        page.wait_for_selector("html.cs-ready")
        assert_accessible(page, f"{lang}-full-page-home")
        page.click("#cs-choose-feedback")
        page.wait_for_selector("#cs-feedback-form")
        assert_accessible(page, f"{lang}-full-page-feedback")
        page.click("#cs-feedback-submit")
        page.wait_for_selector(".cs-error-summary:not([hidden])")
        assert_accessible(page, f"{lang}-full-page-feedback-errors")
        screenshot(page, f"{lang}-7-full-page-feedback-errors")
        page.click(".cs-actions button.cs-button-secondary")
        page.click("#cs-choose-status")
        assert_accessible(page, f"{lang}-full-page-status-form")
    finally:
        context.close()


def test_feedback_on_a_policy(browser: Any, stack: Stack, demo_data: None) -> None:
    t = STRINGS["en"]
    context, page = open_host(browser, stack, lang="en")
    try:
        frame = widget_frame(page)
        frame.click("#cs-choose-feedback")
        frame.wait_for_selector("#cs-feedback-form")
        options = frame.locator("#cs-policy option")
        assert options.count() >= 2, "the policy picker lists the published policies"
        frame.select_option("#cs-policy", index=1)
        assert frame.locator("#cs-section option").count() >= 2, "the chosen policy's sections are offered"
        frame.select_option("#cs-section", index=1)
        frame.check("#cs-rating-4")
        frame.fill("#cs-text", "Please say how quickly the City answers comments.")
        assert_accessible(frame, "en-feedback-filled")
        screenshot(page, "en-8-feedback")
        frame.click("#cs-feedback-submit")
        send_checked(frame, accessible="en-feedback-check-answers")
        frame.wait_for_selector("#cs-confirm-heading", timeout=15_000)
        assert frame.inner_text("#cs-confirm-heading") == t["confirm.heading.feedback"]
        receipt = frame.inner_text("#cs-receipt-code").strip()
        frame.click("#cs-go-status")
        frame.fill("#cs-receipt", receipt)
        frame.click("#cs-status-submit")
        frame.wait_for_selector("#cs-status-value")
        assert t["status.kind.policy_feedback"] in frame.inner_text("#cs-status-result")
    finally:
        context.close()


def test_server_errors_are_tied_to_their_fields(browser: Any, stack: Stack) -> None:
    """A file that claims to be a PNG passes the browser's checks; feedback_api refuses it by its
    content (problem+json, loc ['body', 'evidence', 0]) and the widget puts that on the field."""
    t = STRINGS["es"]
    context, page = open_host(browser, stack, lang="es")
    try:
        frame = widget_frame(page)
        frame.click("#cs-choose-report")
        frame.select_option("#cs-account", "__other")
        frame.fill("#cs-account_text", "@ABQPolice")
        frame.select_option("#cs-platform", "instagram")
        frame.check("#cs-category-2")
        frame.fill("#cs-description", "Una opinión personal publicada como la Ciudad.")
        frame.set_input_files("#cs-evidence", files=[{"name": "captura.png", "mimeType": "image/png",
                                                       "buffer": b"this is not an image at all"}])
        frame.click("#cs-report-submit")
        send_checked(frame)
        frame.wait_for_selector("#cs-evidence-error:not([hidden])", timeout=15_000)
        assert frame.get_attribute("#cs-evidence", "aria-invalid") == "true"
        assert "cs-evidence-error" in frame.get_attribute("#cs-evidence", "aria-describedby")
        # the refused file is named
        named = t["error.server.file_type_named"].replace("{name}", "captura.png")
        assert named in frame.inner_text("#cs-evidence-error")
        assert frame.locator(".cs-error-summary a[href='#cs-evidence']").count() == 1
        assert frame.locator("#cs-confirm-heading").count() == 0
        assert_accessible(frame, "es-report-server-error")
    finally:
        context.close()


def test_transparency_page_and_its_widget_are_accessible(browser: Any, stack: Stack, demo_data: None) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        for lang in ("en", "es"):
            page.goto(f"{stack.policy.url}/transparency?lang={lang}")
            assert_accessible(page, f"{lang}-transparency")
            if page.query_selector("[data-civicsocial-widget]") is not None:
                frame = widget_frame(page)
                assert frame.evaluate("document.documentElement.lang") == lang
                assert_accessible(frame, f"{lang}-transparency-widget")
            screenshot(page, f"{lang}-transparency")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_report_without_javascript(browser: Any, stack: Stack, seed_account: Any, lang: str) -> None:
    """/report is server-rendered first: with scripts off, a report with a file, the receipt, the
    status and a message all work through plain HTML forms, and every page passes axe."""
    t = STRINGS[lang]
    account = seed_account()
    # Script blocked as a blocker would (axe-core itself needs the page's JavaScript engine).
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.route("**/widget/v1/static/widget.js*", lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(f"{stack.feedback.url}/report?lang={lang}")
        assert page.locator("#cs-report-form-nojs").count() == 1
        assert page.evaluate("document.documentElement.lang") == lang
        assert_accessible(page, f"{lang}-nojs-form")

        page.fill("#cs-description", "Kept after an error")
        page.click("#cs-report-submit")
        page.wait_for_selector(".cs-error-summary")
        assert page.get_attribute("#cs-categories", "aria-invalid") == "true"
        assert t["error.categories_required"] in page.inner_text("#cs-category-0-error")
        assert page.input_value("#cs-description") == "Kept after an error"
        assert_accessible(page, f"{lang}-nojs-errors")
        screenshot(page, f"{lang}-9-nojs-errors")

        assert page.locator(f"#cs-account option[value='{account['id']}']").count() == 1
        page.select_option("#cs-account", account["id"])
        page.select_option("#cs-platform", "facebook")
        page.check("#cs-category-0")
        page.fill("#cs-link-0", "https://www.facebook.com/ABQPolice/posts/9")
        shot = {"name": "shot.png", "mimeType": "image/png", "buffer": png_bytes()}
        page.set_input_files("#cs-evidence", files=[shot])
        page.click("#cs-report-submit")
        page.wait_for_selector("#cs-confirm-heading")
        reference = page.inner_text("#cs-reference").strip()
        receipt = page.inner_text("#cs-receipt-code").strip()
        assert RECEIPT.match(receipt), receipt
        assert "receipt" not in page.url and receipt.replace(" ", "") not in page.url
        assert_accessible(page, f"{lang}-nojs-confirmation")

        page.fill("#cs-receipt", receipt)
        page.click("#cs-status-submit")
        page.wait_for_selector("#cs-status-value")
        assert reference in page.inner_text("#cs-status-result-heading")
        assert page.inner_text("#cs-status-value") == t["status.value.received"]
        page.fill("#cs-reply", "Sent without JavaScript.")
        page.click("#cs-reply-submit")
        page.wait_for_selector(".cs-message-reporter")
        assert "Sent without JavaScript." in page.inner_text(".cs-messages")
        # the outcome is shown on the page and in its title, not only announced
        assert page.inner_text("#cs-status-notice") == t["status.reply_sent"]
        assert page.title().startswith(t["status.reply_sent"])
        ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
        assert len(ids) == len(set(ids)), "ids are unique with a status and the reply form shown"
        assert_accessible(page, f"{lang}-nojs-status")
        screenshot(page, f"{lang}-10-nojs-status")

        page.fill("#cs-receipt", "1111 2222 3333 4444")
        page.click("#cs-status-submit")
        page.wait_for_selector("#cs-receipt-error")
        assert t["error.receipt_not_found"] in page.inner_text("#cs-receipt-error")
        assert_accessible(page, f"{lang}-nojs-status-error")
    finally:
        context.close()
