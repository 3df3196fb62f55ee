"""The console against the real APIs on loopback: policy_api, case_api and feedback_api from the
test harness (``make_app``, ``live``), the console itself as a live server in dev mode signing
tokens with the harness's dev key."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.staff_console.main import create_app
from services.staff_console.settings import ConsoleSettings
from tests.support.live import LiveServer, free_port


@dataclass
class ConsoleStack:
    policy: LiveServer
    case: LiveServer
    feedback: LiveServer
    console: LiveServer


def console_settings(stack_urls: dict[str, str], dev_key: Path, **over: Any) -> ConsoleSettings:
    values: dict[str, Any] = {"mode": "dev", "log_json": True, "auth": {"dev_key_file": str(dev_key)},
                              "policy_api_url": stack_urls["policy"], "case_api_url": stack_urls["case"],
                              "feedback_api_url": stack_urls["feedback"]}
    values.update(over)
    return ConsoleSettings(**values)


@pytest.fixture
def console_stack(make_app: Callable[..., FastAPI], live: Callable[..., LiveServer], dev_key: Path,
                  tmp_path: Path) -> Iterator[ConsoleStack]:
    feedback_port = free_port()
    feedback_url = f"http://127.0.0.1:{feedback_port}"
    policy = live(make_app("policy_api", feedback_api_url=feedback_url))
    case = live(make_app("case_api", policy_api_url=policy.url, feedback_api_url=feedback_url))
    feedback = live(make_app("feedback_api", policy_api_url=policy.url, case_api_url=case.url,
                             secrets_dir=str(tmp_path), directory_cache_seconds=0), port=feedback_port)
    port = free_port()
    settings = console_settings({"policy": policy.url, "case": case.url, "feedback": feedback.url}, dev_key,
                                public_base_url=f"http://127.0.0.1:{port}")
    console = live(create_app(settings), port=port)
    yield ConsoleStack(policy=policy, case=case, feedback=feedback, console=console)


class ConsoleUser:
    """A browser-less user of the console: an httpx client that keeps the session cookie and
    sends the CSRF token the page gave it."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=True, timeout=15)

    def csrf(self, path: str = "/login") -> str:
        import re

        page = self.http.get(path).text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1)

    def sign_in(self, role: str, department: str | None = None, subject: str = "emp-1001") -> httpx.Response:
        token = self.csrf()
        return self.http.post("/login", data={"csrf_token": token, "role": role, "department": department or "",
                                              "subject": subject})

    def post(self, path: str, data: dict[str, Any], page: str | None = None) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf(page or "/account"), **data})


# --- the browser: Debian's Chromium through Playwright, as tests/browser does -------------------
from tests.browser.conftest import browser  # noqa: E402, F401 - the shared fixture

ROOT = Path(__file__).resolve().parents[2]
# docs/screenshots/console-*.png are refreshed on request only (CIVICSOCIAL_UPDATE_SCREENSHOTS=1), so an
# ordinary test run leaves the tree clean; otherwise they go where the other browser tests put theirs.
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("CIVICSOCIAL_UPDATE_SCREENSHOTS") == "1"
                else "artifacts/screenshots")


def shoot(page: Any, name: str) -> None:
    """docs/screenshots/console-<name>.png, the whole page at the current width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name}: the page scrolls sideways by {overflow}px"
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


def sign_in(chromium: Any, console: LiveServer, role: str, *, department: str | None = None,
            subject: str = "emp-1001", width: int = 1280, height: int = 800) -> Any:
    """A new browser context signed in through the dev picker; returns its page."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(console.url + "/login")
    page.select_option("#login-role", role)
    page.select_option("#login-department", department or "")
    page.fill("#login-subject", subject)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_load_state()
    return page
