"""Real-browser fixtures: Debian's Chromium driven by Playwright, the three services on
loopback, and a City "host page" served from another origin that embeds the widget with the
two-line snippet.

Without Chromium or Playwright these tests skip; with ``CIVICSOCIAL_REQUIRE_BROWSER=1`` (CI)
they fail instead. Screenshots of every state go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import html
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI

from shared.auth import issue_dev_token
from shared.settings import AuthSettings
from tests.support.live import LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CIVICSOCIAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CIVICSOCIAL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CIVICSOCIAL_REQUIRE_BROWSER=1: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError:
        _unavailable("axe-playwright-python is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:
        pw.stop()
        _unavailable(f"Chromium did not start: {exc}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield chromium
    chromium.close()
    pw.stop()


# --- the City's page, on another origin ---------------------------------------------------

HOST_PAGE = """<!doctype html>
<html{html_lang}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>City of Albuquerque: Transparency (test host page)</title>
<style>
  body {{ font-family: Georgia, serif; margin: 0; padding: 1rem; color: #222; }}
  [data-civicsocial-widget] {{ --cs-color-primary: #7a1f2b; --cs-radius: 3px; --cs-color-text: #111111;
    --cs-font-family: Georgia, serif; }}
</style>
<script>
  // Stands in for the City's analytics / tag manager: it sees every message the page receives.
  window.__seenMessages = [];
  window.addEventListener("message", function (e) {{ window.__seenMessages.push(JSON.stringify(e.data)); }});
</script>
</head>
<body>
<header><a href="#main">City of Albuquerque</a></header>
<main id="main">
<h1>Feedback on City social media</h1>
{snippet}
</main>
</body>
</html>
"""


@dataclass
class HostServer:
    """A tiny HTTP server for the City's page. Reached as ``http://localhost:<port>`` (the
    allowed embedding origin); ``http://127.0.0.1:<port>`` is the same server under an origin
    that is *not* allowed to frame the widget."""

    feedback_url: str
    port: int = 0

    def start(self) -> HostServer:
        feedback_url = self.feedback_url

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query, keep_blank_values=True)
                lang = query.get("lang", [""])[0]
                lang_attr = f' lang="{html.escape(lang)}"' if lang else ""
                # ?html_lang=es: the page's own language (the loader's fallback); ?html_lang= : none
                page_lang = query.get("html_lang", ["en"])[0]
                html_lang = f' lang="{html.escape(page_lang)}"' if page_lang else ""
                # ?theme=bad: values the widget must refuse (low contrast, not a font name);
                # ?theme=dark: a dark City page; ?theme=grey: a background no palette can serve.
                style = {
                    "bad": ' style="--cs-color-primary: #ffff66; --cs-font-family: url(https://evil.example/x);'
                           ' --cs-radius: 999px"',
                    "dark": ' style="--cs-color-background: #121212; --cs-color-text: #eeeeee;'
                            ' --cs-color-primary: #1d4e89"',
                    "grey": ' style="--cs-color-background: #777777; --cs-color-text: #ffffff"',
                }.get(query.get("theme", [""])[0], "")
                snippet = (
                    f"<div data-civicsocial-widget{lang_attr}{style}></div>"
                    f'<script src="{feedback_url}/widget/v1/loader.js" async></script>'
                )
                body = HOST_PAGE.format(snippet=snippet, html_lang=html_lang).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def other_origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Stack:
    policy: LiveServer
    case: LiveServer
    feedback: LiveServer
    host: HostServer


@pytest.fixture
def stack(make_app: Callable[..., FastAPI], live: Callable[..., LiveServer],
          tmp_path: Path) -> Iterator[Stack]:
    """policy_api, case_api and feedback_api on loopback, wired to each other, with feedback_api
    allowing the host page's origin (and only it) to frame the widget."""
    host_port = free_port()
    feedback_port = free_port()
    feedback_url = f"http://127.0.0.1:{feedback_port}"
    host = HostServer(feedback_url, host_port).start()
    try:
        # policy_api's Transparency page embeds the widget too, so its origin may frame it.
        policy = live(make_app("policy_api", feedback_api_url=feedback_url))
        case = live(make_app("case_api", policy_api_url=policy.url, feedback_api_url=feedback_url))
        feedback = live(make_app(
            "feedback_api", policy_api_url=policy.url, case_api_url=case.url,
            frame_ancestors=[host.origin, policy.url], secrets_dir=str(tmp_path), directory_cache_seconds=0,
        ), port=feedback_port)
        yield Stack(policy=policy, case=case, feedback=feedback, host=host)
    finally:
        host.stop()


@pytest.fixture
def seed_account(stack: Stack, token: Callable[..., dict[str, str]]) -> Callable[..., dict[str, Any]]:
    """Registers an official account in policy_api (records staff)."""

    def create(**fields: Any) -> dict[str, Any]:
        body = {"platform": "facebook", "handle": "@ABQPolice", "profile_url": "https://www.facebook.com/ABQPolice",
                "department": "Police", "purpose": "News and safety alerts", **fields}
        r = httpx.post(stack.policy.url + "/v1/accounts", json=body, headers=token("records_manager"), timeout=10)
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    return create


@pytest.fixture
def demo_data(stack: Stack, auth_settings: AuthSettings) -> None:
    """policy_api's own demo loader, over HTTP: a dozen official accounts and published policies
    (the data the account and policy pickers show)."""
    from services.devkit import DemoContext
    from services.policy_api import demo

    def sign(roles: list[str], department: str | None = None, subject: str = "demo-loader") -> str:
        return issue_dev_token(auth_settings, "dev", subject=subject, roles=roles, department=department)

    demo.load(DemoContext(urls={"policy_api": stack.policy.url}, token=sign))
