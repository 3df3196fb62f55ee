"""Small helpers shared by the browser tests: axe-core checks, screenshots, the widget frame."""

from __future__ import annotations

import io
import re
from typing import Any

from tests.browser.conftest import SCREENSHOTS, WCAG_TAGS

AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations"],
    # The widget is a cross-origin frame: axe checks it separately, on its own document.
    "iframes": False,
}


def assert_accessible(target: Any, state: str) -> None:
    """axe-core, WCAG 2.1 A and AA: zero violations. ``target`` is a Page or a Frame."""
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(target, options=AXE_OPTIONS).response
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(map(str, n.get("target", []))) for n in v["nodes"][:5])
        for v in response["violations"]
    ]
    assert not problems, f"axe violations in state '{state}':\n" + "\n".join(problems)


def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot. Chromium paints a cross-origin iframe only inside the viewport,
    so the viewport is stretched to the page's height for the shot, then restored."""
    size = page.viewport_size
    height = page.evaluate("Math.ceil(document.documentElement.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 8000))})
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def widget_frame(page: Any) -> Any:
    """The widget's Frame once its document has loaded its options."""
    page.wait_for_selector("iframe", state="attached")
    handle = page.query_selector("[data-civicsocial-widget] iframe")
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_selector("html.cs-ready", timeout=15_000)
    return frame


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


RECEIPT = re.compile(r"^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$")


def send_checked(target: Any, *, accessible: str | None = None) -> None:
    """After a valid form is submitted the widget shows "Check your answers" (focused); send from it."""
    target.wait_for_selector("#cs-check-heading")
    assert target.evaluate("document.activeElement.id") == "cs-check-heading"
    if accessible:
        assert_accessible(target, accessible)
    target.click("#cs-check-send")
